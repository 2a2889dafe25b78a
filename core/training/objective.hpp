// The objective interface: what every GFlowNet objective (core/training/objectives/*.hpp) implements, and the
// block indexing they share. An objective builds the loss of one block of a TrajectoryBatch on a tape;
// block losses are shares of the batch loss (sums divided by batch-wide counts), so they add up to the
// batch loss and block gradients add up to its gradient. The registry of objectives by name is
// core/training/objectives.hpp; the soft-DQN learners are not block objectives (core/training/soft_dqn.hpp).
//
// Shapes: B trajectories of the block, R its rows (states, row-major R x S), N its transitions,
// A forward actions, A_b backward actions.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "core/training/forward_record.hpp"
#include "core/network/model.hpp"
#include "core/training/trajectories.hpp"

namespace gfn {

struct ObjectiveConfig {
  std::string loss = "tb";  // a name of the registry (core/training/objectives.hpp), as on the command line
  double subtb_lambda = 0.9;
  double log_reward_floor = -std::numeric_limits<double>::infinity();  // log R is clipped below at this
};

// Batch-wide counts that normalise every block's share.
struct BatchCounts {
  int trajectories = 0;
  int transitions = 0;
  int moves = 0;               // transitions that are not exits
  int exits = 0;
  int non_initial_states = 0;  // rows that are not s_0
};
BatchCounts count_batch(const TrajectoryBatch& batch, int exit_action);

// One block of a batch, indexed for gathers and segment sums: local rows 0..R-1, local trajectories
// 0..B-1, transitions 0..N-1 in row order.
template <typename Scalar>
struct BlockIndex {
  const TrajectoryBatch* batch = nullptr;
  int first_trajectory = 0;              // the block's trajectory 0 in the batch
  int first_row = 0;                     // the block's row 0 in the batch
  int rows = 0;                          // R
  std::vector<int> actions;              // R: forward action per row, -1 at a final row
  std::vector<int> backward_columns;     // R: backward action of the move into the row, -1 at s_0
  std::vector<int> row_offsets;          // B+1
  std::vector<int> transition_rows;      // N: the row each transition leaves
  std::vector<int> transition_offsets;   // B+1
  std::vector<int> last_transitions;     // B
  std::vector<int> next_log_backward;    // N: row of the move's target in [log P_B rows; 0], R for exits
  std::vector<Scalar> log_rewards;       // B, floored

  // Indexes trajectories [first, first + count) of `batch`; log R is floored at `floor`.
  void index(const Environment& env, const TrajectoryBatch& batch, int first, int count, double floor);
  int n_trajectories() const { return int(log_rewards.size()); }
  int n_transitions() const { return int(transition_rows.size()); }
  const int32_t* state(int row) const { return batch->state(first_row + row); }  // a block row's state

  NodeId log_reward_column(Tape<Scalar>& tape) const;                                    // B x 1 constant
  // N x 1: log P_F - log P_B, from outputs evaluated at `actions` (ModelOutputs::action_logprobs).
  NodeId transition_log_ratio(Tape<Scalar>& tape, const ModelOutputs& outputs) const;
};

// A block objective. build() clears `tape`, indexes the block and builds its loss, accumulating
// gradients into `gradient` on backward. Given the rollout's ForwardRecord of the batch (one-pass
// training), the evaluation of the block's rows reuses the recorded P_F values.
//
// Two phases, for objectives whose loss needs a batch-wide total first (ZVar needs the batch mean of
// zeta): when needs_batch_total(), build() returns -1; the caller adds block_total() over all blocks in
// block order and calls finish(tape, total, counts) on each block for its loss. Other objectives
// return their loss from build() and never see finish().
//
// Thread contract: one instance per block, used by one thread at a time; different instances may
// build on different threads at once (the model is only read). Buffers are reused between calls (no
// allocation after warm-up).
//
//   std::unique_ptr<BlockObjective<float>> objective = make_block_objective<float>(config);
//   NodeId loss = objective->build(tape, &gradient, model, batch, counts, 0, batch.n_trajectories());
template <typename Scalar>
class BlockObjective {
 public:
  explicit BlockObjective(const ObjectiveConfig& config) : config_(config) {}
  virtual ~BlockObjective() = default;
  BlockObjective(const BlockObjective&) = delete;
  BlockObjective& operator=(const BlockObjective&) = delete;

  // Builds the loss of trajectories [first, first + count) of `batch` on `tape` (-1: see finish()).
  NodeId build(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const Model<Scalar>& model,
               const TrajectoryBatch& batch, const BatchCounts& counts, int first, int count,
               const ForwardRecord<Scalar>* record = nullptr) {
    tape.clear();
    block_.index(model.env(), batch, first, count, config_.log_reward_floor);
    record_ = record;
    return build_block(tape, gradient, model, counts);
  }

  virtual bool needs_batch_total() const { return false; }
  virtual double block_total(const Tape<Scalar>& /*tape*/) const { return 0; }
  virtual NodeId finish(Tape<Scalar>& /*tape*/, double /*batch_total*/, const BatchCounts& /*counts*/) { return -1; }

 protected:
  // The objective proper: the loss of the indexed block_ (or its first phase).
  virtual NodeId build_block(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const Model<Scalar>& model,
                             const BatchCounts& counts) = 0;

  // Every estimator of the model on the block's R rows, on `tape`; given the block's actions, P_F only
  // at those (ModelOutputs::action_logprobs, what transition_log_ratio reads).
  ModelOutputs evaluate_rows(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const Model<Scalar>& model,
                             const int* forward_actions = nullptr) {
    return model.evaluate(tape, gradient, block_.state(0), block_.rows, model_scratch_, true,
                          recorded_layers(block_.rows), forward_actions);
  }

  // For an evaluation of n_rows states that start with the block's rows: the recorded values of those
  // rows (the rest are computed), or nullptr without a record.
  DenseLayers<Scalar>* recorded_layers(int n_rows) {
    if (!record_) return nullptr;
    record_->given_rows(block_.first_trajectory, block_.row_offsets.data(), block_.n_trajectories(), n_rows,
                        given_);
    dense_.given = &given_;
    return &dense_;
  }

  ObjectiveConfig config_;
  BlockIndex<Scalar> block_;
  ModelScratch model_scratch_;
  const ForwardRecord<Scalar>* record_ = nullptr;
  std::vector<std::vector<const Scalar*>> given_;  // per dense layer: a pointer per evaluated row
  DenseLayers<Scalar> dense_;
};

}  // namespace gfn
