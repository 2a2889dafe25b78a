// Sampler and draw_action: batches are bit-identical on 1 and 2 threads and differ between iterations
// and seeds; every sampled trajectory is valid (HyperGrid with exits, BitSeq ending in final states);
// frequencies match the exact action distribution under every sampling modifier. Statistical bounds
// are 5 sigma of a binomial proportion, sigma = sqrt(p (1 - p) / n); the seeds are fixed, so a run
// is deterministic and the bound says how far from the truth a correct sampler may land.
// Not the objectives' use of the batches (test_objectives.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/training/sampler.hpp"
#include "envs/bitseq.hpp"
#include "envs/hypergrid.hpp"
#include "support/core_fixtures.hpp"
#include "support/statistics.hpp"

namespace gfn {
namespace {

using testing::check_binomial;

using testing::batch_violation;
using testing::parameter_id;
using testing::ScopedThreads;

constexpr float kMinusInfinity = -std::numeric_limits<float>::infinity();

// |frequency - p| <= 5 sigma of a proportion over n draws.
bool identical(const TrajectoryBatch& a, const TrajectoryBatch& b) {
  return a.state_width == b.state_width && a.states == b.states && a.actions == b.actions &&
         a.offsets == b.offsets && a.log_rewards.size() == b.log_rewards.size() &&
         std::memcmp(a.log_rewards.data(), b.log_rewards.data(), sizeof(double) * a.log_rewards.size()) == 0;
}

TEST_CASE("core: sampler batches are bit-identical on 1 and 2 threads, and differ between iterations") {
  const HyperGrid env(4, 8, "medium");
  ModelConfig config;
  config.hidden = {64, 64};
  const Model<float> model(env, config, 7);
  SamplingOptions off_policy;
  off_policy.temperature = 1.5;
  off_policy.epsilon = 0.1;
  off_policy.sf_bias = 0.5;
  for (const SamplingOptions& options : {SamplingOptions{}, off_policy}) {
    CAPTURE(options.temperature);
    TrajectoryBatch one_thread, two_threads, next_iteration, other_seed;
    {
      ScopedThreads threads(1);
      Sampler sampler(model, 16);
      sampler.sample(100, 42, 3, options, one_thread);  // 7 blocks, the last one partial
    }
    {
      ScopedThreads threads(2);
      Sampler sampler(model, 16);
      sampler.sample(100, 42, 3, options, two_threads);
      sampler.sample(100, 42, 4, options, next_iteration);
      sampler.sample(100, 43, 3, options, other_seed);
    }
    CHECK(one_thread.n_trajectories() == 100);
    if (testing::can_compare_thread_counts()) CHECK(identical(one_thread, two_threads));
    CHECK(!identical(one_thread, next_iteration));
    CHECK(!identical(one_thread, other_seed));
    CHECK(batch_violation(env, one_thread) == "");
    CHECK(batch_violation(env, next_iteration) == "");
    // A reused sampler and batch give the same numbers as fresh ones.
    Sampler reused(model, 16);
    TrajectoryBatch batch = next_iteration;
    reused.sample(100, 42, 3, options, batch);
    CHECK(identical(batch, one_thread));
  }
}

TEST_CASE("core: a NaN policy makes sample() throw NonFinitePolicy on 1 and 2 threads (no abort)") {
  // NaN logits: the masked log-softmax row is all -inf, so no action can be drawn. The exception is
  // raised inside the parallel region and must reach the caller.
  const HyperGrid env(2, 8, "medium");
  ModelConfig config;
  config.tabular = true;
  Model<float> model(env, config, 1);
  for (float& value : model.store().values()) value = std::numeric_limits<float>::quiet_NaN();
  for (int threads : {1, 2}) {
    ScopedThreads scoped(threads);
    Sampler sampler(model, 16);
    TrajectoryBatch batch;
    CHECK_THROWS_AS(sampler.sample(64, 1, 0, {}, batch), NonFinitePolicy);
    CHECK_THROWS_AS(sampler.sample(5, 1, 0, {}, batch), NonFinitePolicy);  // one block
  }
}

TEST_CASE("core: sampled trajectories are valid (HyperGrid exits, BitSeq final states, off-policy too)") {
  const HyperGrid grid(3, 5, "hard-tgfn");
  const BitSeq bitseq(8, 2, {"00001111", "11110000"}, 2.0, 2);
  SamplingOptions off_policy;
  off_policy.temperature = 0.5;
  off_policy.epsilon = 0.3;
  off_policy.sf_bias = -1;
  for (const Environment* env : {static_cast<const Environment*>(&grid), static_cast<const Environment*>(&bitseq)}) {
    CAPTURE(env->name());
    ModelConfig config;
    config.hidden = {32};
    Model<float> model(*env, config, 3);
    testing::randomise_parameters(model.store(), 5, -2, 2);  // a far-from-uniform policy
    Sampler sampler(model, 8);
    TrajectoryBatch batch;
    for (const SamplingOptions& options : {SamplingOptions{}, off_policy})
      for (uint64_t iteration = 0; iteration < 5; ++iteration) {
        sampler.sample(37, 9, iteration, options, batch);
        REQUIRE(batch.n_trajectories() == 37);
        CHECK(batch_violation(*env, batch) == "");
        if (env->exit_action() < 0)  // BitSeq: exactly L = 4 moves, then a final row
          for (int b = 0; b < 37; ++b) CHECK(batch.offsets[b + 1] - batch.offsets[b] == 5);
      }
  }
}

TEST_CASE("core: a zero tabular P_F samples uniformly over valid actions (5 sigma)") {
  // HyperGrid(D=2, H=3): 3 valid actions at s0 (1/3 each); at (2, y < 2) only +x1 and exit (1/2 each).
  const HyperGrid env(2, 3, "medium");
  ModelConfig config;
  config.tabular = true;
  const Model<float> model(env, config, 1);
  Sampler sampler(model, 64);
  TrajectoryBatch batch;
  const int n = 30000;
  sampler.sample(n, 2024, 0, {}, batch);
  REQUIRE(batch_violation(env, batch) == "");
  int64_t first[3] = {0, 0, 0}, edge_rows = 0, edge_exits = 0;
  for (int b = 0; b < n; ++b) ++first[batch.actions[batch.offsets[b]]];
  for (int r = 0; r < batch.n_rows(); ++r) {
    const int32_t* state = batch.state(r);
    if (state[0] == 2 && state[1] < 2) {
      ++edge_rows;
      edge_exits += batch.actions[r] == env.exit_action();
    }
  }
  for (int a = 0; a < 3; ++a) check_binomial(first[a], n, 1.0 / 3);
  REQUIRE(edge_rows > 1000);
  check_binomial(edge_exits, edge_rows, 0.5);
}

// Tabular float model whose s0 logits are (2, 0, 0) for (+x0, +x1, exit) on HyperGrid(D=2, H=8).
Model<float> skewed_start_model(const HyperGrid& env) {
  ModelConfig config;
  config.tabular = true;
  Model<float> model(env, config, 1);
  model.store().value(parameter_id(model.store(), "forward.head0.weight"))(0, 0) = 2.0f;
  return model;
}

TEST_CASE("core: sampler modifiers move the first-action distribution as predicted (5 sigma)") {
  const HyperGrid env(2, 8, "medium");
  const Model<float> model = skewed_start_model(env);
  Sampler sampler(model, 64);
  TrajectoryBatch batch;
  const int n = 20000;
  auto first_action_counts = [&](const SamplingOptions& options, int64_t counts[3], double* mean_length) {
    sampler.sample(n, 77, 0, options, batch);
    REQUIRE(batch_violation(env, batch) == "");
    counts[0] = counts[1] = counts[2] = 0;
    for (int b = 0; b < n; ++b) ++counts[batch.actions[batch.offsets[b]]];
    *mean_length = double(batch.n_rows()) / n;
  };
  const double e2 = std::exp(2.0);
  int64_t counts[3];
  double on_policy_length = 0, length = 0;

  first_action_counts({}, counts, &on_policy_length);  // on-policy: (e^2, 1, 1) / (e^2 + 2)
  check_binomial(counts[0], n, e2 / (e2 + 2));
  check_binomial(counts[2], n, 1 / (e2 + 2));

  SamplingOptions options;
  options.temperature = 2;  // log-probabilities / 2: (e, 1, 1) / (e + 2), flatter
  first_action_counts(options, counts, &length);
  check_binomial(counts[0], n, std::exp(1.0) / (std::exp(1.0) + 2));
  check_binomial(counts[2], n, 1 / (std::exp(1.0) + 2));

  options = {};
  options.epsilon = 0.5;  // half the mass uniform over the 3 valid actions
  first_action_counts(options, counts, &length);
  check_binomial(counts[0], n, 0.5 * e2 / (e2 + 2) + 0.5 / 3);

  options = {};
  options.sf_bias = 3;  // exit logit lowered by 3: exit at s0 with e^-3 / (e^2 + 1 + e^-3)
  first_action_counts(options, counts, &length);
  check_binomial(counts[2], n, std::exp(-3.0) / (e2 + 1 + std::exp(-3.0)));
  CHECK(length > on_policy_length + 1);  // fewer exits everywhere: longer trajectories
}

TEST_CASE("core: draw_action frequencies match the modified distribution (5 sigma), masked never drawn") {
  // Four actions, action 2 masked, exit = 3. logp = log-softmax of logits (1, 0, -, -0.5).
  const double logits[4] = {1.0, 0.0, 0.0, -0.5};
  const bool valid[4] = {true, true, false, true};
  double normaliser = 0;
  for (int a = 0; a < 4; ++a)
    if (valid[a]) normaliser += std::exp(logits[a]);
  float logp[4];
  for (int a = 0; a < 4; ++a) logp[a] = valid[a] ? float(logits[a] - std::log(normaliser)) : kMinusInfinity;

  struct Case {
    double temperature, epsilon, sf_bias;
  };
  const Case cases[] = {{1, 0, 0}, {2, 0, 0}, {0.5, 0, 0}, {1, 0.3, 0}, {1, 1, 0}, {1, 0, 1.5}, {0.7, 0.2, 0.8}};
  const int n = 200000;
  for (const Case& c : cases) {
    CAPTURE(c.temperature);
    CAPTURE(c.epsilon);
    CAPTURE(c.sf_bias);
    // Expected: q_a ∝ exp(logp_a / T - [a = exit] sf_bias); p = (1 - eps) q + eps / 3 on valid actions.
    double q[4] = {0, 0, 0, 0}, total = 0;
    for (int a = 0; a < 4; ++a)
      if (valid[a]) total += q[a] = std::exp(double(logp[a]) / c.temperature - (a == 3 ? c.sf_bias : 0.0));
    SamplingOptions options;
    options.temperature = c.temperature;
    options.epsilon = c.epsilon;
    options.sf_bias = c.sf_bias;
    Rng rng = Rng::stream(5, uint64_t(c.temperature * 100), uint64_t(c.epsilon * 100 + c.sf_bias * 10));
    float scratch[4];
    int64_t counts[4] = {0, 0, 0, 0};
    for (int i = 0; i < n; ++i) ++counts[draw_action(logp, 4, 3, options, rng, scratch)];
    CHECK(counts[2] == 0);
    for (int a : {0, 1, 3}) check_binomial(counts[a], n, (1 - c.epsilon) * q[a] / total + c.epsilon / 3);
    if (c.epsilon == 1)  // uniform over the valid actions, whatever the policy
      for (int a : {0, 1, 3}) check_binomial(counts[a], n, 1.0 / 3);
  }
}

}  // namespace
}  // namespace gfn
