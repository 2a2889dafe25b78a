// Helpers shared by the training-core tests (tests/core/training/ and tests/core/evaluation/):
// hand-built TrajectoryBatches, named access to a model's parameters, float copies of double models,
// a scoped OpenMP thread count, a trajectory validity check and the exact L1 of a model.
// Not a reference implementation of any objective (each test file writes its own from docs/objectives.md).
// Shapes: a path is a list of forward actions from s0 (ending with exit, or at a final state);
// a batch built from P paths has P trajectories and sum(len + 1) rows of S int32.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/evaluation/evaluation.hpp"
#include "core/network/model.hpp"
#include "core/training/trainer.hpp"
#include "core/training/trajectories.hpp"
#include "envs/enumeration.hpp"
#include "util/parallel.hpp"

namespace gfn::testing {

// The trajectories that take the given forward actions from s0. A path either ends with the exit
// action or reaches a final state (its last row then gets action -1). log_rewards from the env.
inline TrajectoryBatch batch_from_paths(const Environment& env, const std::vector<std::vector<int>>& paths) {
  TrajectoryBatch batch;
  const int width = env.state_width();
  batch.state_width = width;
  batch.offsets.push_back(0);
  std::vector<int32_t> state(width);
  std::vector<uint8_t> mask(env.n_actions());
  for (const std::vector<int>& path : paths) {
    env.initial_state(state.data());
    for (size_t t = 0; t < path.size(); ++t) {
      env.forward_mask(state.data(), mask.data());
      if (path[t] < 0 || path[t] >= env.n_actions() || !mask[path[t]])
        throw std::invalid_argument("batch_from_paths: invalid action in a hand-written path");
      batch.states.insert(batch.states.end(), state.begin(), state.end());
      batch.actions.push_back(path[t]);
      if (path[t] == env.exit_action()) {
        if (t + 1 != path.size()) throw std::invalid_argument("batch_from_paths: exit before the end of a path");
        break;
      }
      env.step(state.data(), path[t]);
      if (t + 1 == path.size()) {  // the path must end in a final state
        if (!env.is_final(state.data())) throw std::invalid_argument("batch_from_paths: path ends mid-way");
        batch.states.insert(batch.states.end(), state.begin(), state.end());
        batch.actions.push_back(-1);
      }
    }
    batch.offsets.push_back(int(batch.actions.size()));
    batch.log_rewards.push_back(env.log_reward(batch.states.data() + batch.states.size() - width));
  }
  return batch;
}

// The id of the parameter called `name` (e.g. "forward.head0.weight"); fails the test if absent.
template <typename Scalar>
int parameter_id(const ParameterStore<Scalar>& store, const std::string& name) {
  for (int id = 0; id < store.size(); ++id)
    if (store.entry(id).name == name) return id;
  FAIL("no parameter named " << name);
  return -1;
}

// Copies every parameter of a double model into a float model of the same configuration (the flat
// layouts differ: offsets are staggered by a cache line, which holds 8 doubles or 16 floats).
inline void copy_to_float(const Model<double>& source, Model<float>& target) {
  REQUIRE(source.store().size() == target.store().size());
  for (int id = 0; id < source.store().size(); ++id) {
    REQUIRE(source.store().entry(id).name == target.store().entry(id).name);
    target.store().value(id) = source.store().value(id).cast<float>();
  }
}

// Fills every parameter entry with U(low, high) from the stream (seed, key): random non-zero
// parameters, including heads that start at zero.
template <typename Scalar>
void randomise_parameters(ParameterStore<Scalar>& store, uint64_t seed, double low = -1, double high = 1) {
  for (int id = 0; id < store.size(); ++id) {
    Rng rng = Rng::stream(seed, uint64_t(id));
    auto value = store.value(id);
    for (int r = 0; r < value.rows(); ++r)
      for (int c = 0; c < value.cols(); ++c) value(r, c) = Scalar(low + (high - low) * rng.uniform());
  }
}

// Thread-invariance checks compare 1 and 2 threads. Without OpenMP both run serially and such a
// comparison could not fail, so a test asks this first; it says the comparison is skipped, and why.
inline bool can_compare_thread_counts() {
#ifdef _OPENMP
  return true;
#else
  MESSAGE("skipped the 1-vs-2-thread comparison: built without OpenMP, both would run serially");
  return false;
#endif
}

// Sets the OpenMP thread count for a scope and restores it after (no-op without OpenMP).
class ScopedThreads {
 public:
  explicit ScopedThreads(int threads) : previous_(max_threads()) { set_threads(threads); }
  ~ScopedThreads() { set_threads(previous_); }
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int previous_;
};

// Every structural promise of a sampled batch: offsets, s0 first, each action valid under the forward
// mask, each row the step of the previous one, exit only at the last row (or a final last row with
// action -1), lengths within max_trajectory_length, log_rewards[b] = log R(terminal) exactly.
// Returns "" when valid, else a description of the first violation.
inline std::string batch_violation(const Environment& env, const TrajectoryBatch& batch) {
  const int width = env.state_width();
  if (batch.state_width != width) return "state width";
  const int n = batch.n_trajectories();
  if (batch.offsets.empty() || batch.offsets[0] != 0) return "offsets[0] != 0";
  if (int(batch.log_rewards.size()) != n) return "log_rewards size";
  if (int(batch.actions.size()) != batch.n_rows()) return "actions size";
  if (int64_t(batch.states.size()) != int64_t(batch.n_rows()) * width) return "states size";
  std::vector<uint8_t> mask(env.n_actions());
  std::vector<int32_t> next(width);
  for (int b = 0; b < n; ++b) {
    const std::string where = "trajectory " + std::to_string(b) + ": ";
    const int begin = batch.offsets[b], end = batch.offsets[b + 1];
    if (end - begin < 1) return where + "empty";
    if (end - begin - 1 > env.max_trajectory_length()) return where + "too long";
    if (!env.is_initial(batch.state(begin))) return where + "does not start at s0";
    for (int r = begin; r < end; ++r) {
      const int32_t* state = batch.state(r);
      const int action = batch.actions[r];
      const bool last = r + 1 == end;
      if (action < 0) {
        if (!last || !env.is_final(state)) return where + "action -1 before a final last row";
        continue;
      }
      env.forward_mask(state, mask.data());
      if (action >= env.n_actions() || !mask[action]) return where + "invalid action at row " + std::to_string(r);
      if (action == env.exit_action()) {
        if (!last) return where + "exit before the last row";
        continue;
      }
      if (last) return where + "last row is a move";
      std::copy(state, state + width, next.begin());
      env.step(next.data(), action);
      if (!std::equal(next.begin(), next.end(), batch.state(r + 1))) return where + "row is not the step of the previous";
    }
    const double log_reward = env.log_reward(batch.terminal_state(b));
    if (!(batch.log_rewards[b] == log_reward)) return where + "log reward differs from log R(terminal)";
  }
  return "";
}

// Exact L1 between the model's terminating distribution and R/Z (docs/metrics.md).
inline ExactMetrics exact_metrics(const Model<float>& model, const Enumeration& all) {
  return compare_distributions(terminating_distribution(model, all), all.true_distribution());
}

// The training run most tests start from: `loss` with log R floored at -12 (the floor the command line
// resolves for HyperGrid), `batch` trajectories per iteration, seeded.
inline TrainConfig train_config(const std::string& loss, int batch, uint64_t seed) {
  TrainConfig config;
  config.objective.loss = loss;
  config.objective.log_reward_floor = -12;
  config.batch = batch;
  config.seed = seed;
  return config;
}

}  // namespace gfn::testing
