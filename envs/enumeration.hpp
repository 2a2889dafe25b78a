// Exhaustive enumeration of a small environment: every state, a topological order, the rewards, the
// partition function Z, the true distribution p(x) = R(x)/Z and the path-count max-entropy P_B.
// Not a sampler or a policy evaluator (those walk `topological_order()` themselves, docs/metrics.md).
// Shapes: N = n_states; states() is N x S, row i is the state of index i; per-state vectors are [N].
// Refuses (std::runtime_error, before allocating) spaces above `limit` states or not countable.
// Thread contract: read-only after construction; refers to the environment, which must outlive it.
//
//   Enumeration all(env);   all.log_z();   all.true_distribution()[env.state_index(x)];
#pragma once

#include <cstdint>
#include <vector>

#include "envs/environment.hpp"

namespace gfn {

class Enumeration {
 public:
  static constexpr int64_t kDefaultLimit = 10'000'000;

  explicit Enumeration(const Environment& environment, int64_t limit = kDefaultLimit);
  Enumeration(const Environment&& temporary, int64_t limit = kDefaultLimit) = delete;  // would dangle

  const Environment& environment() const { return environment_; }
  int64_t n_states() const { return n_states_; }                       // N
  const StateMatrix& states() const { return states_; }                // N x S
  // State indices, every parent before its children (FIFO Kahn order from s0: on a graded DAG
  // such as HyperGrid, by number of moves from s0, i.e. by |x|_1).
  const std::vector<int64_t>& topological_order() const { return order_; }
  const std::vector<uint8_t>& can_terminate() const { return can_terminate_; }  // [N]
  const std::vector<double>& log_rewards() const { return log_rewards_; }       // [N], -inf if not terminating
  double log_z() const { return log_z_; }  // logsumexp of log R over terminating states
  const std::vector<double>& true_distribution() const { return true_distribution_; }  // [N], R/Z, 0 if not terminating
  // log n(s), n(s) = number of paths from s0 to s (n(s0) = 1).
  const std::vector<double>& log_path_counts() const { return log_path_counts_; }      // [N]
  // Max-entropy P_B(s | s') = n(s) / n(s'): writes log P_B over the A_b backward actions of the
  // non-initial state of index `index` (-inf where invalid).
  void maxent_backward_logprobs(int64_t index, double* logp) const;

 private:
  const Environment& environment_;
  int64_t n_states_;
  StateMatrix states_;
  std::vector<int64_t> order_;
  std::vector<uint8_t> can_terminate_;
  std::vector<double> log_rewards_;
  double log_z_;
  std::vector<double> true_distribution_;
  std::vector<double> log_path_counts_;
};

}  // namespace gfn
