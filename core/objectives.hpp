// The GFlowNet objectives (docs/objectives.md), built on the tape for one block of a TrajectoryBatch.
//
//   TB      (log Z + sum log P_F - sum log P_B - log R)^2, mean over trajectories
//   DB      (log F(s) + log P_F(s'|s) - log P_B(s|s') - log F(s'))^2, F(terminal) = R, mean over transitions
//   MDB     modified DB (every state terminal): log R(s) replaces log F(s) via P_F(exit), mean over moves
//   SubTB   all sub-trajectories, weights lambda^(len-1) normalised per trajectory, mean over trajectories
//   ZVar    (zeta - mean zeta)^2 with zeta = sum log P_F - sum log P_B - log R, mean over trajectories
//   FM      (log inflow - log outflow)^2 over visited non-initial states (edge flows = P_F logits),
//           plus (log F(x -> exit) - log R(x))^2 over exits; each term a mean
//
// A block's loss is its share of the batch loss (sums divided by batch-wide counts), so block losses
// add up to the batch loss and block gradients add up to its gradient. The model is evaluated with
// gradient on the block's rows: log-probabilities are always the on-policy ones.
#pragma once

#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/trajectories.hpp"

namespace gfn {

// SoftDqn and MunchausenDqn are trained by SoftDqnLearner (core/soft_dqn.hpp), not by BlockObjective.
enum class LossKind { TrajectoryBalance, DetailedBalance, ModifiedDetailedBalance, SubTrajectoryBalance,
                      LogPartitionVariance, FlowMatching, SoftDqn, MunchausenDqn };

// Thrown when a loss or a gradient stops being finite; names the iteration and the quantity.
class TrainingDiverged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Names as on the command line: tb, db, modified-db, subtb, zvar, fm, soft-dqn, munchausen-dqn.
LossKind loss_kind_from_name(const std::string& name);
std::string loss_name(LossKind kind);

struct ObjectiveConfig {
  LossKind kind = LossKind::TrajectoryBalance;
  double subtb_lambda = 0.9;
  double log_reward_floor = -std::numeric_limits<double>::infinity();  // log R is clipped below at this
};

// The estimators an objective needs (sets state_flow and log_z of a ModelConfig).
void require_estimators(LossKind kind, ModelConfig& config);

// Batch-wide counts that normalise every block's share.
struct BatchCounts {
  int trajectories = 0;
  int transitions = 0;
  int moves = 0;               // transitions that are not exits
  int exits = 0;
  int non_initial_states = 0;  // rows that are not s_0
};
BatchCounts count_batch(const TrajectoryBatch& batch, int exit_action);

// TLM's P_B objective on a whole batch: -(1/M) sum over its M moves s -> s' of log P_B(s | s').
// backward_logprobs: R x A_b over the batch's rows. columns: scratch of R ints.
template <typename Scalar>
NodeId backward_negative_log_likelihood(Tape<Scalar>& tape, NodeId backward_logprobs, const TrajectoryBatch& batch,
                                        const Environment& env, std::vector<int>& columns);

// Builds a block's loss. Every buffer is reused between calls (no allocation after warm-up).
template <typename Scalar>
class BlockObjective {
 public:
  // Builds the loss of trajectories [first, first + count) on `tape` (cleared first), accumulating
  // gradients into `gradient` on backward. For ZVar the result needs the batch mean of zeta:
  // build() returns -1 and zeta() is available; call finish_log_partition_variance(mean) after.
  NodeId build(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const Model<Scalar>& model,
               const ObjectiveConfig& config, const TrajectoryBatch& batch, const BatchCounts& counts, int first,
               int count);
  NodeId zeta() const { return zeta_; }  // count x 1 (ZVar)
  NodeId finish_log_partition_variance(Tape<Scalar>& tape, Scalar mean_zeta, const BatchCounts& counts);

 private:
  void index_block(const Environment& env, const TrajectoryBatch& batch, int first, int count, double floor);
  NodeId transition_log_ratio(Tape<Scalar>& tape, const ModelOutputs& outputs);  // T x 1: log P_F - log P_B
  NodeId trajectory_balance(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const Model<Scalar>& model,
                            const ModelOutputs& outputs, const BatchCounts& counts);
  NodeId detailed_balance(Tape<Scalar>& tape, const ModelOutputs& outputs, const BatchCounts& counts);
  NodeId modified_detailed_balance(Tape<Scalar>& tape, const ModelOutputs& outputs, const Environment& env,
                                   double floor, const BatchCounts& counts);
  NodeId subtrajectory_balance(Tape<Scalar>& tape, const ModelOutputs& outputs, double lambda,
                               const BatchCounts& counts);
  NodeId flow_matching(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const Model<Scalar>& model,
                       const BatchCounts& counts);
  NodeId log_reward_column(Tape<Scalar>& tape);  // B x 1 constant

  ModelScratch model_scratch_;
  // Block indexing (local rows 0..R-1, local trajectories 0..B-1, transitions 0..T-1).
  const TrajectoryBatch* batch_ = nullptr;
  int first_row_ = 0;  // the block's row 0 in the batch
  int rows_ = 0;
  std::vector<int> actions_;             // R: forward action per row, -1 at a final row
  std::vector<int> backward_columns_;    // R: backward action of the move into the row, -1 at s_0
  std::vector<int> row_offsets_;         // B+1
  std::vector<int> transition_rows_;     // T: the row each transition leaves
  std::vector<int> transition_offsets_;  // B+1
  std::vector<int> last_transitions_;    // B
  std::vector<int> next_log_backward_;   // T: row of the move's target in [log P_B rows; 0], R for exits
  std::vector<Scalar> log_rewards_;      // B, floored
  NodeId zeta_ = -1;
  // Per-objective index buffers.
  std::vector<int> first_indices_, second_indices_, third_indices_;
  std::vector<int> fm_row_actions_, fm_exit_columns_;  // FM: per evaluated row
  std::vector<int32_t> states_;           // FM: block rows then parent rows
  std::vector<int> parent_actions_;
};

}  // namespace gfn
