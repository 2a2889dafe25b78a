// LocalSearch: refined trajectories are valid; greedy never lowers a reward and accepts some moves;
// Metropolis-Hastings rounds on a fixed-length environment (BitSeq n=4 k=1, random P_F and learned P_B)
// move any start to R/Z (each object within 5 binomial sigmas over 8000 independent searches); results
// are bit-identical on 1 and 2 threads; Sampler::sample_from continues from given states.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "core/training/local_search.hpp"
#include "envs/bitseq.hpp"
#include "envs/enumeration.hpp"
#include "envs/hypergrid.hpp"
#include "support/core_fixtures.hpp"
#include "support/statistics.hpp"

namespace gfn {
namespace {

using testing::batch_violation;
using testing::check_binomial;
using testing::ScopedThreads;

// A model with random P_F and learned P_B, parameters U(-scale, scale).
Model<float> random_model(const Environment& env, uint64_t seed, double scale = 1) {
  ModelConfig config;
  config.hidden = {16};
  config.backward = BackwardPolicy::Learned;
  Model<float> model(env, config, seed);
  testing::randomise_parameters(model.store(), seed, -scale, scale);
  return model;
}

TEST_CASE("core: sample_from continues valid trajectories from the given states") {
  const HyperGrid env(3, 5, "standard");
  const Model<float> model = random_model(env, 2);
  Sampler sampler(model, 4);
  std::vector<int32_t> starts = {1, 2, 0, 4, 4, 4, 0, 0, 3};
  TrajectoryBatch suffixes;
  sampler.sample_from(starts.data(), 3, 1, 0, 0, SamplingOptions{}, suffixes);
  REQUIRE(suffixes.n_trajectories() == 3);
  for (int i = 0; i < 3; ++i) CHECK(std::equal(starts.begin() + 3 * i, starts.begin() + 3 * i + 3, suffixes.state(suffixes.offsets[i])));
  CHECK(suffixes.offsets[2] - suffixes.offsets[1] == 1);  // (4,4,4) can only exit
  CHECK(suffixes.actions[suffixes.offsets[1]] == env.exit_action());
}

TEST_CASE("core: greedy local search returns valid trajectories and never lowers a reward") {
  const HyperGrid env(2, 8, "standard");
  const Model<float> model = random_model(env, 3);
  Sampler sampler(model);
  TrajectoryBatch fresh, refined;
  sampler.sample(64, 5, 0, SamplingOptions{}, fresh);
  LocalSearch search(model, 16);
  const int64_t calls = search.run(fresh, {3, 4, LocalSearchAcceptance::Greedy}, 5, 0, 1000, refined);
  CHECK(calls == 64 * 4);
  CHECK(int(search.scored_objects().size()) == 64 * 4 * 2);
  CHECK(batch_violation(env, refined) == "");
  REQUIRE(refined.n_trajectories() == 64);
  for (int i = 0; i < 64; ++i) CHECK(refined.log_rewards[i] >= fresh.log_rewards[i]);
  CHECK(search.accepted() > 0);
  CHECK_THROWS_AS(search.run(fresh, {0, 1, LocalSearchAcceptance::Greedy}, 5, 0, 0, refined), std::invalid_argument);
}

TEST_CASE("core: Metropolis-Hastings local search reaches R/Z on BitSeq n=4 k=1 (5 sigma, 8000 searches)") {
  const BitSeq env(4, 1, {"0011", "1100"}, 1.0, 0);
  const Enumeration all(env);
  const Model<float> model = random_model(env, 4, 0.3);  // policies far from R/Z but not degenerate
  // Start every search at the same object, far from the modes' mass: all ones.
  constexpr int n = 8000;
  TrajectoryBatch start;
  const std::vector<std::vector<int>> path = {{0 * 2 + 1, 1 * 2 + 1, 2 * 2 + 1, 3 * 2 + 1}};  // slot*2 + bit
  const TrajectoryBatch one = testing::batch_from_paths(env, path);
  for (int i = 0; i < n; ++i) append_batch(start, one);
  LocalSearch search(model, 64);
  TrajectoryBatch refined;
  search.run(start, {2, 12, LocalSearchAcceptance::MetropolisHastings}, 9, 0, 0, refined);
  CHECK(batch_violation(env, refined) == "");
  std::vector<int64_t> counts(all.n_states(), 0);
  for (int i = 0; i < n; ++i) ++counts[env.state_index(refined.terminal_state(i))];
  for (int64_t index = 0; index < all.n_states(); ++index)
    if (all.can_terminate()[index]) {
      CAPTURE(env.state_string(all.states().row(index).data()));
      check_binomial(counts[index], n, all.true_distribution()[index]);
    }
}

TEST_CASE("core: local search is bit-identical on 1 and 2 threads (greedy and mh)") {
  const HyperGrid env(4, 8, "hard");
  const Model<float> model = random_model(env, 6);
  for (LocalSearchAcceptance rule : {LocalSearchAcceptance::Greedy, LocalSearchAcceptance::MetropolisHastings}) {
    CAPTURE(local_search_acceptance_name(rule));
    TrajectoryBatch results[2];
    for (int threads : {1, 2}) {
      ScopedThreads scope(threads);
      Sampler sampler(model);
      TrajectoryBatch fresh;
      sampler.sample(50, 1, 7, SamplingOptions{}, fresh);
      LocalSearch search(model, 16);
      search.run(fresh, {4, 2, rule}, 1, 7, 1 << 20, results[threads - 1]);
    }
    CHECK(results[0].states == results[1].states);
    CHECK(results[0].actions == results[1].actions);
    CHECK(results[0].offsets == results[1].offsets);
  }
}

}  // namespace
}  // namespace gfn
