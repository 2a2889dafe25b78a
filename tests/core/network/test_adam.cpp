// Adam/AdamW against numbers computed independently (python3, double, PyTorch's update order), per-group
// learning rates and their decay, and the flat-buffer helpers: gradient-norm clipping, Polyak
// averaging and parameter copy; the lazy update on a support (hand values) and its helpers. The
// quadratic is L(p) = sum_i c_i p_i^2, so the gradient is 2 c p.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/network/adam.hpp"

namespace gfn {
namespace {

const double kCurvature[3] = {1.0, 0.5, 2.0};

// A 1 x 3 parameter p = [1, -2, 0.5].
ParameterStore<double> quadratic_store() {
  ParameterStore<double> store;
  const int id = store.add("p", 1, 3);
  store.value(id) << 1.0, -2.0, 0.5;
  return store;
}

void quadratic_gradient(const ParameterStore<double>& store, FlatVector<double>& gradient) {
  for (int i = 0; i < 3; ++i) store.gradient(gradient, 0)(0, i) = 2 * kCurvature[i] * store.value(0)(0, i);
}

// Three Adam steps (learning rate 0.1) on the quadratic: the row after each step is expected[step].
void check_three_steps(double weight_decay, const double (&expected)[3][3]) {
  ParameterStore<double> store = quadratic_store();
  FlatVector<double> gradient = store.make_gradient();
  Adam<double> adam(store, {{0.1, weight_decay}});
  for (int step = 0; step < 3; ++step) {
    CAPTURE(step);
    quadratic_gradient(store, gradient);
    adam.step(store, gradient);
    for (int i = 0; i < 3; ++i) CHECK(store.value(0)(0, i) == doctest::Approx(expected[step][i]).epsilon(1e-13));
  }
  CHECK(adam.steps() == 3);
}

TEST_CASE("core: Adam, three steps on a quadratic match hand-computed values") {
  // python3: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
  check_three_steps(0.0, {{0.9000000005, -1.9000000005, 0.4000000005},
                          {0.8004122286917927, -1.8001664866210927, 0.30118742062343007},
                          {0.7015862729460302, -1.7006233928121137, 0.20487125097072387}});
}

TEST_CASE("core: AdamW decays the weights before the update (decoupled)") {
  // As above with p *= 1 - lr * weight_decay first (the gradient is taken before the decay).
  check_three_steps(0.1, {{0.8900000004999999, -1.8800000005, 0.3950000005},
                          {0.7815718559365048, -1.7614089510885826, 0.29233870322270744},
                          {0.6751012216400698, -1.6443686843220089, 0.19341560270340274}});
}

TEST_CASE("core: Adam groups have their own learning rates, and decay_learning_rates scales them") {
  ParameterStore<double> store;
  const int net = store.add("net", 2, 2, 0);
  const int log_z = store.add("log_z", 1, 1, 1);
  FlatVector<double> gradient = store.make_gradient();
  for (double& g : gradient) g = -3.0;  // padding entries too: they must not matter
  Adam<double> adam(store, {{1e-3, 0}, {1e-1, 0}});
  // First step: m_hat / sqrt(v_hat) = g / |g|, so each parameter moves by lr |g| / (|g| + eps).
  const double move = 3.0 / (3.0 + 1e-8);
  adam.step(store, gradient);
  CHECK(store.value(net)(1, 1) == doctest::Approx(1e-3 * move).epsilon(1e-12));
  CHECK(store.value(log_z)(0, 0) == doctest::Approx(1e-1 * move).epsilon(1e-12));

  adam.decay_learning_rates(0.5);
  adam.decay_learning_rates(0.5);
  CHECK(adam.groups()[0].learning_rate == doctest::Approx(2.5e-4).epsilon(1e-15));
  CHECK(adam.groups()[1].learning_rate == doctest::Approx(2.5e-2).epsilon(1e-15));
  // A constant gradient keeps m_hat / sqrt(v_hat) at exactly g / |g|: the step is the new rate.
  const double before = store.value(log_z)(0, 0);
  adam.step(store, gradient);
  CHECK(store.value(log_z)(0, 0) - before == doctest::Approx(2.5e-2 * move).epsilon(1e-10));
}

TEST_CASE("core: Adam rejects a parameter without a group and a gradient of another layout") {
  ParameterStore<double> store;
  store.add("w", 2, 2, 1);
  CHECK_THROWS_AS(Adam<double>(store, {{1e-3, 0}}), std::invalid_argument);
  Adam<double> adam(store, {{1e-3, 0}, {1e-3, 0}});
  FlatVector<double> wrong(3, 0.0);
  CHECK_THROWS_AS(adam.step(store, wrong), std::invalid_argument);
}

TEST_CASE("core: clip_gradient_norm scales to the maximum norm and returns the norm before") {
  FlatVector<float> gradient = {3.0f, 0.0f, -4.0f};
  CHECK(clip_gradient_norm(gradient, 1.0) == doctest::Approx(5.0));
  CHECK(gradient[0] == doctest::Approx(0.6f));
  CHECK(gradient[1] == 0.0f);
  CHECK(gradient[2] == doctest::Approx(-0.8f));
  // Already within the bound: untouched.
  FlatVector<float> small = {0.3f, 0.4f};
  CHECK(clip_gradient_norm(small, 1.0) == doctest::Approx(0.5));
  CHECK(small[0] == 0.3f);
  CHECK(small[1] == 0.4f);
  FlatVector<float> zero(4, 0.0f);
  CHECK(clip_gradient_norm(zero, 1.0) == 0.0);
  CHECK(zero[0] == 0.0f);
}

// A 3 x 2 table and a 1 x 2 bias, all zero; `rows` of the table and the whole bias form the support.
std::vector<FlatRange> table_support(const ParameterStore<double>& store, std::vector<int> rows) {
  const auto& table = store.entry(0);
  const auto& bias = store.entry(1);
  std::vector<FlatRange> support;
  for (int row : rows) support.push_back({table.offset + 2 * row, table.offset + 2 * row + 2});
  support.push_back({bias.offset, bias.offset + 2});
  merge_ranges(support);
  return support;
}

TEST_CASE("core: lazy Adam updates the support only and leaves unread rows and their moments as they were") {
  ParameterStore<double> store;
  const int table = store.add("table", 3, 2), bias = store.add("bias", 1, 2);
  FlatVector<double> gradient = store.make_gradient();
  Adam<double> adam(store, {{0.1, 0.0}});
  // python3, dense Adam's formula on the support: step 1 reads rows 0 and 1, step 2 row 1 only.
  store.gradient(gradient, table) << 1, -2, 0.5, 0, 0, 0;
  store.gradient(gradient, bias) << 1, 1;
  adam.step(store, gradient, table_support(store, {1, 0}));
  CHECK(store.value(table)(0, 0) == doctest::Approx(-0.099999999).epsilon(1e-13));
  CHECK(store.value(table)(0, 1) == doctest::Approx(0.0999999995).epsilon(1e-13));
  CHECK(store.value(table)(1, 0) == doctest::Approx(-0.099999998).epsilon(1e-13));
  CHECK(store.value(table)(1, 1) == 0.0);  // read, with a zero gradient: m = v = 0, no move
  store.gradient(gradient, table) << 7, 7, 1, 1, 7, 7;  // rows 0 and 2 are outside the support: ignored
  store.gradient(gradient, bias) << -1, 0.5;
  adam.step(store, gradient, table_support(store, {1}));
  CHECK(adam.steps() == 2);
  CHECK(store.value(table)(0, 0) == doctest::Approx(-0.099999999).epsilon(1e-13));  // as after step 1
  CHECK(store.value(table)(0, 1) == doctest::Approx(0.0999999995).epsilon(1e-13));
  CHECK(store.value(table)(1, 0) == doctest::Approx(-0.19651819936149056).epsilon(1e-13));
  CHECK(store.value(table)(1, 1) == doctest::Approx(-0.07441368130459296).epsilon(1e-13));
  CHECK(store.value(table)(2, 0) == 0.0);
  CHECK(store.value(table)(2, 1) == 0.0);
  CHECK(store.value(bias)(0, 0) == doctest::Approx(-0.0947368411578948).epsilon(1e-13));
  CHECK(store.value(bias)(0, 1) == doctest::Approx(-0.19321796170183894).epsilon(1e-13));
  // Row 0's moments are those of step 1 (dense Adam would have decayed them: m 0.09, v 0.000999).
  const int64_t row0 = store.entry(table).offset;
  CHECK(adam.first_moment()[row0] == doctest::Approx(0.1).epsilon(1e-13));
  CHECK(adam.second_moment()[row0] == doctest::Approx(0.001).epsilon(1e-13));
  CHECK_THROWS_AS(adam.step(store, gradient, {{0, store.flat_size()}}), std::invalid_argument);  // gaps
}

TEST_CASE("core: merge_ranges sorts and merges; clip_gradient_norm on a support reads and scales only there") {
  std::vector<FlatRange> ranges = {{8, 10}, {0, 2}, {9, 12}, {2, 4}, {20, 22}, {0, 2}};
  merge_ranges(ranges);
  REQUIRE(ranges.size() == 3);
  CHECK((ranges[0].begin == 0 && ranges[0].end == 4));
  CHECK((ranges[1].begin == 8 && ranges[1].end == 12));
  CHECK((ranges[2].begin == 20 && ranges[2].end == 22));
  FlatVector<float> gradient = {3.0f, 100.0f, -4.0f};
  CHECK(clip_gradient_norm(gradient, 1.0, {{0, 1}, {2, 3}}) == doctest::Approx(5.0));
  CHECK(gradient[0] == doctest::Approx(0.6f));
  CHECK(gradient[1] == 100.0f);
  CHECK(gradient[2] == doctest::Approx(-0.8f));
}

TEST_CASE("core: polyak_update and copy_parameters") {
  ParameterStore<double> target, source;
  target.add("w", 2, 3);
  source.add("w", 2, 3);
  target.value(0).setConstant(4.0);
  source.value(0) << 0, 1, 2, 3, 4, 5;
  polyak_update(target, source, 0.25);  // 0.75 * 4 + 0.25 * s
  for (int c = 0; c < 3; ++c) {
    CHECK(target.value(0)(0, c) == 3.0 + 0.25 * c);
    CHECK(target.value(0)(1, c) == 3.0 + 0.25 * (3 + c));
  }
  copy_parameters(target, source);
  CHECK(target.value(0) == source.value(0));
  ParameterStore<double> other;
  other.add("w", 3, 3);
  CHECK_THROWS_AS(polyak_update(other, source, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(copy_parameters(other, source), std::invalid_argument);
}

}  // namespace
}  // namespace gfn
