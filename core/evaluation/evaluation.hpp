// Evaluation of a trained sampler (docs/metrics.md).
//
// Exact: the terminating distribution P_T of the current P_F by dynamic programming over an
// enumerated DAG (u(s0) = 1, u(s') += u(s) P_F(s'|s) in topological order, P_T(x) = u(x) P_F(exit|x),
// or u(x) for a final state), compared with p = R/Z: L1 (sum over states), JSD and KL(p || P_T).
// Empirical: a sliding window of the last W terminal states visited in training against p, reported
// both as the sum over states and as the per-state mean (the TLM papers' number), and modes found.
//
// Thread contract: terminating_distribution runs its own parallel region and only reads the model;
// TerminalWindow and ModeTracker are thread-compatible (one writer at a time, const reads may share).
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "core/network/model.hpp"
#include "core/training/trajectories.hpp"
#include "envs/enumeration.hpp"

namespace gfn {

struct ExactMetrics {
  double l1 = 0;   // sum_x |P_T(x) - p(x)|
  double jsd = 0;  // Jensen-Shannon divergence, natural log
  double kl = 0;   // KL(p || P_T), natural log
};

// P_T over state indices (0 on states that cannot terminate). Evaluates P_F in parallel chunks.
std::vector<double> terminating_distribution(const Model<float>& model, const Enumeration& all);
ExactMetrics compare_distributions(const std::vector<double>& sampler, const std::vector<double>& target);

// Mean over the batch's non-initial states and their valid backward actions of
// |log P_B(a | s) - log(1 / number of parents)|: how far a learned P_B has moved from uniform.
double backward_deviation_from_uniform(const Model<float>& model, const TrajectoryBatch& batch);

// The last `window` terminal states of training, as a histogram over state indices.
class TerminalWindow {
 public:
  TerminalWindow(int64_t n_states, int64_t window);
  void add(int64_t state_index);
  // The terminal states of the batch's first `count` trajectories (all when count < 0).
  void add_batch(const Environment& env, const TrajectoryBatch& batch, int count = -1);
  void add_objects(const Environment& env, const int32_t* objects, int n);  // n x S terminal states
  int64_t size() const { return filled_; }
  std::vector<int64_t> contents() const;  // oldest first (for checkpoints; add() them back to restore)
  // sum_x |count(x)/size - p(x)| over all states; the per-state mean is this divided by n_states.
  double l1_sum(const std::vector<double>& target) const;

 private:
  std::vector<int64_t> ring_;
  std::vector<int64_t> counts_;
  int64_t next_ = 0, filled_ = 0;
};

// Distinct modes hit by terminal states so far (cumulative).
class ModeTracker {
 public:
  void add_batch(const Environment& env, const TrajectoryBatch& batch);
  void add_objects(const Environment& env, const int32_t* objects, int n);  // n x S terminal states
  void add(int64_t mode) { found_.insert(mode); }
  int64_t found() const { return int64_t(found_.size()); }
  std::vector<int64_t> ids() const;  // sorted (for checkpoints)

 private:
  std::unordered_set<int64_t> found_;
};

}  // namespace gfn
