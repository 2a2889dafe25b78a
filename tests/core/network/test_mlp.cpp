// Mlp: parameter layout and PyTorch initialisation bounds, zero heads, the dense forward against plain
// Eigen, the sparse (K-hot) forward against the dense one (values and gradients, ~1e-12 in double), and
// finite-difference checks of a whole network and of a trajectory-balance-like composite loss.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/network/mlp.hpp"
#include "support/gradient_check.hpp"

namespace gfn {
namespace {

int find_parameter(const ParameterStore<double>& store, const std::string& name) {
  for (int id = 0; id < store.size(); ++id)
    if (store.entry(id).name == name) return id;
  FAIL("no parameter named " << name);
  return -1;
}

Matrix<double> activate(const Matrix<double>& x, Activation activation) {
  switch (activation) {
    case Activation::Relu:
      return x.cwiseMax(0.0);
    case Activation::LeakyRelu:
      return x.unaryExpr([](double v) { return v > 0 ? v : 0.01 * v; });
    case Activation::Tanh:
      return x.array().tanh().matrix();
  }
  return x;
}

// The network written out with plain Eigen: x W + b per layer, activation between trunk layers.
Matrix<double> reference_head(const ParameterStore<double>& store, const std::string& name,
                              const MlpShape& shape, const Matrix<double>& input, int head) {
  Matrix<double> x = input;
  for (size_t l = 0; l < shape.hidden.size(); ++l) {
    const std::string layer = name + ".hidden" + std::to_string(l);
    const Matrix<double> pre = (x * store.value(find_parameter(store, layer + ".weight"))).rowwise() +
                               store.value(find_parameter(store, layer + ".bias")).row(0);
    x = activate(pre, shape.activation);
  }
  const std::string layer = name + ".head" + std::to_string(head);
  return (x * store.value(find_parameter(store, layer + ".weight"))).rowwise() +
         store.value(find_parameter(store, layer + ".bias")).row(0);
}

// B rows of K active input positions (repeats allowed) and the equivalent K-hot dense matrix.
struct SparseInput {
  std::vector<int> active;
  Matrix<double> dense;
  SparseInput(int batch, int width, int per_row, uint64_t seed) : dense(Matrix<double>::Zero(batch, width)) {
    Rng rng(seed);
    for (int b = 0; b < batch; ++b)
      for (int k = 0; k < per_row; ++k) {
        // Row 0 repeats one position: its dense entry is 2, and the sparse sum adds the row twice.
        active.push_back(b == 0 && k > 0 ? active.back() : int(rng.uniform_int(width)));
        dense(b, active.back()) += 1;
      }
  }
};

TEST_CASE("core: Mlp parameter layout and PyTorch initialisation bounds") {
  ParameterStore<double> store;
  Rng rng(5);
  const MlpShape shape{80, {256, 64}, {10, 1}, {false, true}};
  Mlp<double> net(store, "pf", shape, rng);
  const char* names[] = {"pf.hidden0.weight", "pf.hidden0.bias", "pf.hidden1.weight", "pf.hidden1.bias",
                         "pf.head0.weight",   "pf.head0.bias",   "pf.head1.weight",   "pf.head1.bias"};
  const int fan_in[] = {80, 80, 256, 256, 64, 64, 64, 64};
  const int rows[] = {80, 1, 256, 1, 64, 1, 64, 1};
  const int cols[] = {256, 256, 64, 64, 10, 10, 1, 1};
  REQUIRE(store.size() == 8);
  CHECK(net.n_heads() == 2);
  for (int id = 0; id < 8; ++id) {
    CAPTURE(store.entry(id).name);
    CHECK(store.entry(id).name == names[id]);
    CHECK(store.entry(id).rows == rows[id]);
    CHECK(store.entry(id).cols == cols[id]);
    const auto value = store.value(id);
    const double bound = 1 / std::sqrt(double(fan_in[id]));
    if (id >= 6) {  // the zero head: exactly zero
      CHECK(value.isZero(0));
      continue;
    }
    CHECK(value.lpNorm<Eigen::Infinity>() <= bound);
    // U(-bound, bound): mean 0 within 5 sigma (sigma = bound / sqrt(3 n)), and the bound is nearly reached.
    const double n = double(value.size());
    CHECK(std::abs(value.mean()) <= 5 * bound / std::sqrt(3 * n));
    if (n >= 256) CHECK(value.lpNorm<Eigen::Infinity>() > 0.95 * bound);
  }
  // Same seed, same network; another seed, another network.
  ParameterStore<double> same, other;
  Rng rng_same(5), rng_other(6);
  Mlp<double>(same, "pf", shape, rng_same);
  Mlp<double>(other, "pf", shape, rng_other);
  CHECK(same.values() == store.values());
  CHECK(other.values() != store.values());
  CHECK(net.forward_flops_per_row() == 2.0 * (80 * 256 + 256 * 64 + 64 * 10 + 64 * 1));
}

TEST_CASE("core: Mlp dense forward equals plain Eigen for every activation, the zero head outputs zero") {
  for (Activation activation : {Activation::Relu, Activation::LeakyRelu, Activation::Tanh}) {
    CAPTURE(int(activation));
    ParameterStore<double> store;
    Rng rng(8);
    const MlpShape shape{6, {9, 7}, {4, 2}, {false, true}, activation};
    Mlp<double> net(store, "net", shape, rng);
    Rng input_rng(3);
    Matrix<double> input(5, 6);
    for (int r = 0; r < 5; ++r)
      for (int c = 0; c < 6; ++c) input(r, c) = 2 * input_rng.uniform() - 1;
    Tape<double> tape;
    NodeId heads[2];
    net.forward(tape, store, nullptr, tape.constant(input), heads);
    const Matrix<double> expected = reference_head(store, "net", shape, input, 0);
    CHECK((tape.value(heads[0]) - expected).lpNorm<Eigen::Infinity>() < 1e-13);
    CHECK(tape.value(heads[1]).isZero(0));
    CHECK(tape.value(heads[1]).rows() == 5);
  }
  // No hidden layer: the heads are linear in the input.
  ParameterStore<double> store;
  Rng rng(9);
  const MlpShape linear{3, {}, {2}, {}};
  Mlp<double> net(store, "lin", linear, rng);
  Matrix<double> input(2, 3);
  input << 1, -2, 0.5, 0, 3, -1;
  Tape<double> tape;
  NodeId head;
  net.forward(tape, store, nullptr, tape.constant(input), &head);
  const Matrix<double> expected = reference_head(store, "lin", linear, input, 0);
  CHECK((tape.value(head) - expected).lpNorm<Eigen::Infinity>() < 1e-14);
}

TEST_CASE("core: Mlp sparse forward equals the dense forward on the K-hot matrix, values and gradients") {
  for (bool with_trunk : {true, false}) {
    CAPTURE(with_trunk);
    ParameterStore<double> store;
    Rng rng(4);
    const MlpShape shape{20, with_trunk ? std::vector<int>{16, 16} : std::vector<int>{}, {5, 1}, {}};
    Mlp<double> net(store, "pf", shape, rng);
    const int batch = 9, per_row = 3;
    const SparseInput input(batch, 20, per_row, 17);
    FlatVector<double> dense_gradient = store.make_gradient(), sparse_gradient = store.make_gradient();
    Tape<double> dense_tape, sparse_tape;
    NodeId dense[2], sparse[2];
    net.forward(dense_tape, store, &dense_gradient, dense_tape.constant(input.dense), dense);
    net.forward_sparse(sparse_tape, store, &sparse_gradient, input.active.data(), batch, per_row, sparse);
    for (int h = 0; h < 2; ++h)
      CHECK((dense_tape.value(dense[h]) - sparse_tape.value(sparse[h])).lpNorm<Eigen::Infinity>() < 1e-12);
    dense_tape.backward(testing::weighted_sum(
        dense_tape, dense_tape.add(dense_tape.sum(dense[1]), dense_tape.sum(dense_tape.tanh(dense[0])))));
    sparse_tape.backward(testing::weighted_sum(
        sparse_tape,
        sparse_tape.add(sparse_tape.sum(sparse[1]), sparse_tape.sum(sparse_tape.tanh(sparse[0])))));
    double largest_difference = 0;
    for (size_t i = 0; i < dense_gradient.size(); ++i)
      largest_difference = std::max(largest_difference, std::abs(dense_gradient[i] - sparse_gradient[i]));
    CHECK(largest_difference < 1e-12);
  }
}

TEST_CASE("core: Mlp gradients match finite differences (dense and sparse, relu and tanh)") {
  for (Activation activation : {Activation::Tanh, Activation::Relu}) {
    CAPTURE(int(activation));
    ParameterStore<double> store;
    Rng rng(12);
    const MlpShape shape{5, {6, 4}, {3, 2}, {false, true}, activation};
    Mlp<double> net(store, "net", shape, rng);
    const SparseInput input(4, 5, 2, 21);
    const auto dense = testing::check_gradient(
        store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
          NodeId heads[2];
          net.forward(tape, s, g, tape.constant(input.dense), heads);
          return tape.add(testing::weighted_sum(tape, heads[0]), testing::weighted_sum(tape, heads[1]));
        });
    CHECK_MESSAGE(dense.passed(), dense.report());
    const auto sparse = testing::check_gradient(
        store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
          NodeId heads[2];
          net.forward_sparse(tape, s, g, input.active.data(), 4, 2, heads);
          return tape.add(testing::weighted_sum(tape, heads[0]), testing::weighted_sum(tape, heads[1]));
        });
    CHECK_MESSAGE(sparse.passed(), sparse.report());
  }
}

TEST_CASE("core: a composite trajectory-balance-like loss through the Mlp matches finite differences") {
  // 6 transitions in 3 trajectories (2, 1 and 3 steps) and an empty one; A = 4 actions with masks.
  ParameterStore<double> store;
  Rng rng(31);
  Mlp<double> net(store, "pf", {7, {8}, {4}, {}}, rng);
  const int log_z = store.add("log_z", 1, 1, 1);
  store.value(log_z)(0, 0) = 0.3;
  const SparseInput input(6, 7, 2, 5);
  Matrix<double> mask = Matrix<double>::Ones(6, 4);
  mask(0, 3) = mask(2, 0) = mask(2, 1) = mask(5, 2) = 0;
  const int taken[] = {1, 0, 3, 2, 0, 3};
  const int offsets[] = {0, 2, 3, 3, 6};
  const int z_rows[] = {0, 0, 0, 0};
  Matrix<double> log_reward(4, 1);
  log_reward << -1.0, 0.5, -2.0, 1.5;
  const auto check = testing::check_gradient(
      store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
        NodeId logits;
        net.forward_sparse(tape, s, g, input.active.data(), 6, 2, &logits);
        const NodeId log_p = tape.masked_log_softmax(logits, tape.constant(mask));
        const NodeId log_pf = tape.segment_sum(tape.pick(log_p, taken), offsets, 4);
        const NodeId z = tape.gather_rows(tape.parameter(s, log_z, g), z_rows, 4);
        return tape.mean(tape.square(tape.sub(tape.add(z, log_pf), tape.constant(log_reward))));
      });
  CHECK_MESSAGE(check.passed(), check.report());
  CHECK(check.entries_checked == 7 * 8 + 8 + 8 * 4 + 4 + 1);
}

TEST_CASE("core: Mlp on an empty batch gives empty heads and zero gradients") {
  ParameterStore<double> store;
  Rng rng(2);
  Mlp<double> net(store, "pf", {4, {8}, {3}, {}}, rng);
  FlatVector<double> gradient = store.make_gradient();
  Tape<double> tape;
  NodeId head;
  net.forward_sparse(tape, store, &gradient, nullptr, 0, 2, &head);
  CHECK(tape.value(head).rows() == 0);
  CHECK(tape.value(head).cols() == 3);
  const NodeId loss = tape.mean(tape.square(head));
  tape.backward(loss);
  CHECK(tape.scalar(loss) == 0);
  for (double g : gradient) CHECK(g == 0);
}

}  // namespace
}  // namespace gfn
