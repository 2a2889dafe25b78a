// Evaluation (docs/metrics.md) against hand values: compare_distributions (L1, JSD, KL; 1e-12),
// terminating_distribution of small tabular policies (HyperGrid with exits, BitSeq with final states;
// float model, 1e-7), its thread invariance on 4096 states, its equality with the plain sweep (each
// state stepping the environment itself) on MLP policies, the TerminalWindow's sliding counts and
// the ModeTracker's distinct modes. Not the training loop (test_training.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/evaluation/evaluation.hpp"
#include "envs/bitseq.hpp"
#include "envs/hypergrid.hpp"
#include "support/core_fixtures.hpp"

namespace gfn {
namespace {

using testing::batch_from_paths;
using testing::parameter_id;

TEST_CASE("core: compare_distributions on hand values (L1, JSD, KL to 1e-12)") {
  // p = (1/2, 1/4, 1/4, 0), q uniform: L1 = 1/4 + 0 + 0 + 1/4; KL(p||q) = 1/2 ln 2;
  // m = (3/8, 1/4, 1/4, 1/8): JSD = 1/2 [1/2 ln(4/3)] + 1/2 [1/4 ln(2/3) + 1/4 ln 2] = 3/8 ln(4/3).
  const std::vector<double> p = {0.5, 0.25, 0.25, 0.0}, q = {0.25, 0.25, 0.25, 0.25};
  ExactMetrics metrics = compare_distributions(q, p);
  CHECK(std::abs(metrics.l1 - 0.5) <= 1e-12);
  CHECK(std::abs(metrics.kl - 0.5 * std::log(2.0)) <= 1e-12);
  CHECK(std::abs(metrics.jsd - 0.375 * std::log(4.0 / 3)) <= 1e-12);

  // KL is directed (target p first): KL(q||p) is infinite since p(3) = 0 < q(3); JSD is symmetric.
  metrics = compare_distributions(p, q);
  CHECK(std::abs(metrics.l1 - 0.5) <= 1e-12);
  CHECK(metrics.kl == std::numeric_limits<double>::infinity());
  CHECK(std::abs(metrics.jsd - 0.375 * std::log(4.0 / 3)) <= 1e-12);

  // Disjoint supports: L1 = 2, JSD = ln 2 (its maximum), KL infinite. Equal: all 0.
  metrics = compare_distributions({0.0, 1.0}, {1.0, 0.0});
  CHECK(std::abs(metrics.l1 - 2) <= 1e-12);
  CHECK(std::abs(metrics.jsd - std::log(2.0)) <= 1e-12);
  CHECK(metrics.kl == std::numeric_limits<double>::infinity());
  metrics = compare_distributions(p, p);
  CHECK(metrics.l1 == 0);
  CHECK(metrics.jsd == 0);
  CHECK(metrics.kl == 0);
  CHECK_THROWS_AS(compare_distributions({1.0}, {0.5, 0.5}), std::invalid_argument);
}

void check_distribution(const std::vector<double>& actual, const std::vector<double>& expected, double tolerance) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(std::abs(actual[i] - expected[i]) <= tolerance);
  }
}

TEST_CASE("core: terminating_distribution of small tabular policies (hand values, float model, 1e-7)") {
  ModelConfig tabular;
  tabular.tabular = true;
  SUBCASE("HyperGrid D=1 H=3, uniform: exit 1/2 at 0, then 1/2 at 1, forced exit at 2") {
    const HyperGrid env(1, 3, "medium");
    const Model<float> model(env, tabular, 1);
    check_distribution(terminating_distribution(model, Enumeration(env)), {0.5, 0.25, 0.25}, 1e-7);
  }
  SUBCASE("HyperGrid D=1 H=3, P_F(move | 0) = 3/4, P_F(move | 1) = 1/3") {
    const HyperGrid env(1, 3, "medium");
    Model<float> model(env, tabular, 1);
    auto logits = model.store().value(parameter_id(model.store(), "forward.head0.weight"));  // states x (+x0, exit)
    logits(0, 0) = float(std::log(3.0));
    logits(1, 1) = float(std::log(2.0));
    check_distribution(terminating_distribution(model, Enumeration(env)), {0.25, 0.5, 0.25}, 1e-7);
  }
  SUBCASE("HyperGrid D=2 H=2, uniform: (0,0) 1/3, (0,1) 1/6, (1,0) 1/6, (1,1) 1/3") {
    const HyperGrid env(2, 2, "medium");
    const Model<float> model(env, tabular, 1);
    check_distribution(terminating_distribution(model, Enumeration(env)), {1.0 / 3, 1.0 / 6, 1.0 / 6, 1.0 / 3},
                       1e-7);
  }
  SUBCASE("BitSeq n=2 k=1, uniform: each full sequence 1/4 (two orders of 1/4 * 1/2), partial ones 0") {
    // Slots hold 0, 1 or EMPTY = 2; index = slot0 * 3 + slot1; full sequences are 0, 1, 3, 4.
    const BitSeq env(2, 1, {"01"}, 2.0, 0);
    const Model<float> model(env, tabular, 1);
    std::vector<double> expected(9, 0.0);
    for (int index : {0, 1, 3, 4}) expected[index] = 0.25;
    check_distribution(terminating_distribution(model, Enumeration(env)), expected, 1e-7);
  }
}

TEST_CASE("core: terminating_distribution is bit-identical on 1 and 2 threads and sums to 1 (4096 states)") {
  const HyperGrid env(2, 64, "standard");  // 4096 states: four chunks of 1024 evaluated in parallel
  const Enumeration all(env);
  ModelConfig config;
  config.hidden = {32};
  const Model<float> model(env, config, 8);
  std::vector<double> one, two;
  {
    testing::ScopedThreads threads(1);
    one = terminating_distribution(model, all);
  }
  {
    testing::ScopedThreads threads(2);
    two = terminating_distribution(model, all);
  }
  REQUIRE(one.size() == 4096);
  if (testing::can_compare_thread_counts()) CHECK(std::memcmp(one.data(), two.data(), sizeof(double) * one.size()) == 0);
  double total = 0;
  for (double p : one) total += p;
  CHECK(std::abs(total - 1) < 1e-5);  // float log-probabilities: each row sums to 1 within ~1e-7
}

// The sweep as first written: log P_F in chunks of 1024 states, then in topological order each state
// steps the environment for every valid action and pushes u P_F to the child.
std::vector<double> reference_terminating_distribution(const Model<float>& model, const Enumeration& all) {
  const Environment& env = model.env();
  const int64_t n = all.n_states();
  const int n_actions = env.n_actions(), width = env.state_width();
  std::vector<float> logp(size_t(n) * n_actions);
  Tape<float> tape;
  ModelScratch scratch;
  for (int64_t first = 0; first < n; first += 1024) {
    const int rows = int(std::min<int64_t>(1024, n - first));
    tape.clear();
    const auto values = tape.value(model.evaluate(tape, nullptr, {all.states().row(first).data(), rows, false}, scratch).forward_logprobs);
    std::copy(values.data(), values.data() + int64_t(rows) * n_actions, logp.begin() + first * n_actions);
  }
  std::vector<double> reach(n, 0.0), terminating(n, 0.0);
  std::vector<int32_t> child(width);
  env.initial_state(child.data());
  reach[env.state_index(child.data())] = 1;
  for (int64_t index : all.topological_order()) {
    const double u = reach[index];
    if (u == 0) continue;
    const int32_t* state = all.states().row(index).data();
    if (env.is_final(state)) {
      terminating[index] += u;
      continue;
    }
    for (int a = 0; a < n_actions; ++a) {
      const float value = logp[index * n_actions + a];
      if (value == -std::numeric_limits<float>::infinity()) continue;
      const double probability = u * std::exp(double(value));
      if (a == env.exit_action()) {
        terminating[index] += probability;
        continue;
      }
      std::copy(state, state + width, child.begin());
      env.step(child.data(), a);
      reach[env.state_index(child.data())] += probability;
    }
  }
  return terminating;
}

TEST_CASE("core: terminating_distribution equals the plain sweep bit for bit (MLP; HyperGrid with exit, BitSeq)") {
  ModelConfig config;
  config.hidden = {32, 32};
  const HyperGrid grid(3, 12, "standard");  // 1728 states: two chunks
  const BitSeq bitseq(8, 2);                // 625 states, final states instead of an exit
  for (const Environment* env : {static_cast<const Environment*>(&grid), static_cast<const Environment*>(&bitseq)}) {
    CAPTURE(env->name());
    const Enumeration all(*env);
    const Model<float> model(*env, config, 3);
    const std::vector<double> fast = terminating_distribution(model, all);
    const std::vector<double> plain = reference_terminating_distribution(model, all);
    REQUIRE(fast.size() == plain.size());
    CHECK(std::memcmp(fast.data(), plain.data(), sizeof(double) * fast.size()) == 0);
    double total = 0;
    for (double p : fast) total += p;
    CHECK(std::abs(total - 1) < 1e-5);
  }
}

TEST_CASE("core: TerminalWindow keeps the counts of the last W terminal states") {
  // (Avoid a target of the form {a, a, 0, 0}: g++ 12.2 -O2 with AVX-512 (-march=x86-64-v4 / native
  // here) miscompiles that constant initializer into {a, a, a, a}.)
  const std::vector<double> target = {0.4, 0.3, 0.2, 0.1};
  TerminalWindow window(4, 3);
  CHECK(window.size() == 0);
  window.add(0);
  window.add(1);
  window.add(1);  // {0, 1, 1}: histogram (1/3, 2/3, 0, 0): 2/30 + 11/30 + 6/30 + 3/30
  CHECK(window.size() == 3);
  CHECK(std::abs(window.l1_sum(target) - 22.0 / 30) <= 1e-12);
  window.add(3);  // evicts 0: {1, 1, 3} -> (0, 2/3, 0, 1/3): 12/30 + 11/30 + 6/30 + 7/30
  CHECK(window.size() == 3);
  CHECK(std::abs(window.l1_sum(target) - 36.0 / 30) <= 1e-12);
  window.add(2);
  window.add(2);  // {3, 2, 2} -> (0, 0, 2/3, 1/3): 12/30 + 9/30 + 14/30 + 7/30
  CHECK(std::abs(window.l1_sum(target) - 42.0 / 30) <= 1e-12);
  window.add(0);
  window.add(1);
  window.add(0);  // {0, 1, 0} -> (2/3, 1/3, 0, 0): 8/30 + 1/30 + 6/30 + 3/30
  CHECK(std::abs(window.l1_sum(target) - 18.0 / 30) <= 1e-12);

  // add_batch reads the terminal state of every trajectory (HyperGrid D=2 H=2: index 2 x0 + x1).
  const HyperGrid env(2, 2, "medium");
  TerminalWindow batch_window(4, 4);
  batch_window.add_batch(env, batch_from_paths(env, {{2}, {0, 1, 2}, {1, 2}, {0, 1, 2}, {0, 2}}));
  // Terminals 0, 3, 1, 3, 2; the window keeps the last four: {3, 1, 3, 2} -> (0, 1/4, 1/4, 1/2).
  CHECK(batch_window.size() == 4);
  const std::vector<double> uniform = {0.25, 0.25, 0.25, 0.25};
  CHECK(std::abs(batch_window.l1_sum(uniform) - (0.25 + 0 + 0 + 0.25)) <= 1e-12);
  CHECK_THROWS_AS(TerminalWindow(4, 0), std::invalid_argument);
}

TEST_CASE("core: ModeTracker counts distinct modes cumulatively (HyperGrid 8x8: modes {1,6}^2)") {
  const HyperGrid env(2, 8, "medium");
  REQUIRE(env.n_modes() == 4);
  const std::vector<int> to_1_1 = {0, 1, 2};
  const std::vector<int> to_6_1 = {0, 0, 0, 0, 0, 0, 1, 2};
  const std::vector<int> to_7_7 = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2};  // a corner, not a mode
  const std::vector<int> to_1_2 = {0, 1, 1, 2};                                   // not a mode
  const std::vector<int> to_6_6 = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2};
  const std::vector<int> to_1_6 = {0, 1, 1, 1, 1, 1, 1, 2};
  ModeTracker tracker;
  CHECK(tracker.found() == 0);
  tracker.add_batch(env, batch_from_paths(env, {to_1_1, to_1_1, to_6_1, {2}, to_7_7, to_1_2}));
  CHECK(tracker.found() == 2);
  tracker.add_batch(env, batch_from_paths(env, {to_1_1, to_6_1}));
  CHECK(tracker.found() == 2);  // cumulative: nothing new
  tracker.add_batch(env, batch_from_paths(env, {to_6_6, to_1_6, to_1_1}));
  CHECK(tracker.found() == 4);
}

}  // namespace
}  // namespace gfn
