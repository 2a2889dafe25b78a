// Trainer with replay, local search, uniform draws and exploration schedules (HyperGrid 8x8 medium, MLP
// 2x64): batches are composed as stated (fresh first, then refined, uniform, replayed; reward calls counted);
// every balance objective trains on them; a run resumed from a checkpoint (the replay buffer in it) is
// bit-identical to an uninterrupted one; runs are bit-identical on 1 and 2 threads; the exploration
// schedule gives the hand-computed epsilon and temperature. Not the buffer or search themselves
// (test_terminal_replay_buffer.cpp, test_local_search.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "core/training/trainer.hpp"
#include "envs/hypergrid.hpp"
#include "support/core_fixtures.hpp"

namespace gfn {
namespace {

using testing::batch_violation;
using testing::ScopedThreads;

ModelConfig small_model() {
  ModelConfig config;
  config.hidden = {64, 64};
  return config;
}

TrainConfig exploring_config(const std::string& loss) {
  TrainConfig config = testing::train_config(loss, 20, 77);
  config.block_size = 8;
  config.sampling.epsilon = 0.1;
  config.replay_ratio = 0.25;
  config.replay = ReplayConfig{50, ReplayPolicy::Reward, 1.0, true};
  config.local_search = LocalSearchConfig{3, 2, LocalSearchAcceptance::Greedy};
  return config;
}

bool same_floats(const FlatVector<float>& a, const FlatVector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

// A trainer restored from the checkpoint of one that took `steps` steps (its replay buffer included).
std::unique_ptr<Trainer> resumed_after(const Environment& env, const TrainConfig& config, int steps) {
  Trainer first_half(env, small_model(), config);
  for (int i = 0; i < steps; ++i) first_half.step();
  Checkpoint checkpoint;
  first_half.save(checkpoint);
  auto second_half = std::make_unique<Trainer>(env, small_model(), config);
  second_half->restore(checkpoint);
  CHECK(second_half->replay_buffer().size() == first_half.replay_buffer().size());
  return second_half;
}

TEST_CASE("core: replay and local search batches: fresh, refined, replayed; reward calls; every objective") {
  const HyperGrid env(2, 8, "medium");
  ScopedThreads threads(1);
  for (const char* loss : {"tb", "db", "modified-db", "subtb", "zvar", "fm"}) {
    CAPTURE(loss);
    Trainer trainer(env, small_model(), exploring_config(loss));
    // Iteration 1: the buffer is empty, so 20 fresh and 20 refined (2 rounds: 40 proposals scored).
    IterationResult result = trainer.step();
    CHECK(trainer.fresh_trajectories() == 20);
    CHECK(result.trajectories == 40);
    CHECK(result.reward_calls == 20 + 40);
    CHECK(trainer.replay_buffer().size() > 0);
    // Then 25% of 20 = 5 replayed: 15 fresh, 15 refined, 5 replayed.
    for (int i = 0; i < 3; ++i) {
      result = trainer.step();
      CHECK(std::isfinite(result.loss));
    }
    CHECK(trainer.fresh_trajectories() == 15);
    CHECK(result.trajectories == 35);
    CHECK(result.reward_calls == 15 + 30);
    CHECK(int(trainer.local_search_objects().size()) == 30 * env.state_width());
    CHECK(batch_violation(env, trainer.batch()) == "");
  }
}

TEST_CASE("core: a run with replay and local search resumes bit-identically from a checkpoint") {
  const HyperGrid env(2, 8, "medium");
  ScopedThreads threads(1);
  for (LocalSearchAcceptance rule : {LocalSearchAcceptance::Greedy, LocalSearchAcceptance::MetropolisHastings}) {
    for (ReplayPolicy policy : {ReplayPolicy::Fifo, ReplayPolicy::Uniform, ReplayPolicy::Reward}) {
      CAPTURE(replay_policy_name(policy));
      TrainConfig config = exploring_config("tb");
      config.local_search.acceptance = rule;
      config.replay = ReplayConfig{12, policy, 0.5, policy != ReplayPolicy::Fifo};  // small: eviction happens
      Trainer uninterrupted(env, small_model(), config);
      for (int i = 0; i < 8; ++i) uninterrupted.step();

      const auto second_half = resumed_after(env, config, 4);
      for (int i = 0; i < 4; ++i) second_half->step();
      CHECK(same_floats(uninterrupted.model().store().values(), second_half->model().store().values()));
      CHECK(uninterrupted.batch().states == second_half->batch().states);
    }
  }
}

TEST_CASE("core: training with replay, local search and a schedule is bit-identical on 1 and 2 threads") {
  if (!testing::can_compare_thread_counts()) return;
  const HyperGrid env(2, 8, "medium");
  for (const char* loss : {"tb", "db"}) {
    CAPTURE(loss);
    TrainConfig config = exploring_config(loss);
    config.local_search.acceptance = LocalSearchAcceptance::MetropolisHastings;
    config.exploration_schedule = LearningRateSchedule{ScheduleKind::Linear, 0.1, 5};
    FlatVector<float> parameters[2];
    std::vector<int32_t> states[2];
    for (int threads : {1, 2}) {
      ScopedThreads scope(threads);
      Trainer trainer(env, small_model(), config);
      for (int i = 0; i < 8; ++i) trainer.step();
      parameters[threads - 1] = trainer.model().store().values();
      states[threads - 1] = trainer.batch().states;
    }
    CHECK(same_floats(parameters[0], parameters[1]));
    CHECK(states[0] == states[1]);
  }
}

TEST_CASE("core: uniform draws: their share of the batch, reward calls, valid trajectories, resume and threads") {
  const HyperGrid env(2, 8, "medium");
  TrainConfig config = exploring_config("db");
  config.local_search.backtrack = 0;
  config.uniform_ratio = 0.2;  // 4 of 20, decaying linearly to 4 * 0.5 = 2 at iteration 10
  config.exploration_schedule = LearningRateSchedule{ScheduleKind::Linear, 0.5, 10};
  FlatVector<float> parameters[2];
  std::vector<int32_t> states[2];
  for (int threads : {1, 2}) {
    if (threads == 2 && !testing::can_compare_thread_counts()) break;
    ScopedThreads scope(threads);
    Trainer trainer(env, small_model(), config);
    // Iteration 1: empty buffer, so 16 fresh and 4 uniform, all scored.
    IterationResult result = trainer.step();
    CHECK(trainer.fresh_trajectories() == 16);
    CHECK(result.trajectories == 20);
    CHECK(result.reward_calls == 20);
    for (int i = 1; i < 12; ++i) result = trainer.step();
    // Iteration 12: 2 uniform, 5 replayed, 13 fresh; replays are not reward calls.
    CHECK(trainer.fresh_trajectories() == 13);
    CHECK(result.trajectories == 20);
    CHECK(result.reward_calls == 15);
    CHECK(batch_violation(env, trainer.batch()) == "");
    parameters[threads - 1] = trainer.model().store().values();
    states[threads - 1] = trainer.batch().states;
  }
  if (testing::can_compare_thread_counts()) {
    CHECK(same_floats(parameters[0], parameters[1]));
    CHECK(states[0] == states[1]);
  }
  // Resumed from a checkpoint at iteration 6, it reaches iteration 12 bit-identically.
  ScopedThreads one(1);
  const auto second_half = resumed_after(env, config, 6);
  for (int i = 0; i < 6; ++i) second_half->step();
  CHECK(same_floats(parameters[0], second_half->model().store().values()));
  CHECK(states[0] == second_half->batch().states);
  // Uniform draws are refused where they do not apply.
  TrainConfig dqn;
  dqn.objective.loss = "soft-dqn";
  dqn.uniform_ratio = 0.25;
  CHECK_THROWS_AS(Trainer(env, small_model(), dqn), std::invalid_argument);
}

TEST_CASE("core: exploration schedules: epsilon f(t) and 1 + (T - 1) f(t), hand-computed") {
  const HyperGrid env(2, 8, "medium");
  TrainConfig config;
  config.sampling.epsilon = 0.2;
  config.sampling.temperature = 3;
  config.exploration_schedule = LearningRateSchedule{ScheduleKind::Linear, 0.1, 100};
  const Trainer trainer(env, small_model(), config);
  CHECK(trainer.sampling_options(0).epsilon == 0.2);
  CHECK(trainer.sampling_options(50).epsilon == doctest::Approx(0.2 * 0.55));
  CHECK(trainer.sampling_options(50).temperature == doctest::Approx(1 + 2 * 0.55));
  CHECK(trainer.sampling_options(1000).epsilon == doctest::Approx(0.02));
  CHECK(trainer.sampling_options(1000).temperature == doctest::Approx(1.2));
  config.exploration_schedule = LearningRateSchedule{ScheduleKind::Exponential, 0.01, 100};
  const Trainer exponential(env, small_model(), config);
  CHECK(exponential.sampling_options(50).epsilon == doctest::Approx(0.2 * 0.1));
  // Replay and local search are refused where they do not apply.
  TrainConfig dqn;
  dqn.objective.loss = "soft-dqn";
  dqn.replay_ratio = 0.5;
  CHECK_THROWS_AS(Trainer(env, small_model(), dqn), std::invalid_argument);
  TrainConfig full;
  full.replay_ratio = 1;
  CHECK_THROWS_AS(Trainer(env, small_model(), full), std::invalid_argument);
}

}  // namespace
}  // namespace gfn
