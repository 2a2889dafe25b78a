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

#include "core/network/model.hpp"
#include "core/training/forward_record.hpp"
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

// The part of a batch that one block builds the loss of: trajectories [first, first + count), the
// batch-wide counts its normalisers read and, for one-pass training, the rollout's ForwardRecord (the
// evaluation of the block's rows then reuses the recorded P_F values).
template <typename Scalar>
struct BlockOfBatch {
  const TrajectoryBatch& batch;
  const BatchCounts& counts;
  int first = 0, count = 0;
  const ForwardRecord<Scalar>* record = nullptr;
};

// Which of the model's outputs an objective reads on the block's rows; build() evaluates them before
// build_block. P_F at the taken actions only (one column per row: TB, DB, SubTB, ZVar), the whole P_F
// (modified DB also reads the exit column), or nothing (flow matching evaluates the parents too).
enum class RowOutputs { TakenActions, AllActions, None };

// A block objective. build() clears `tape`, indexes the block, evaluates the model on its rows and
// builds its loss (build_block, the objective proper), accumulating gradients into `gradient` on
// backward.
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
//   NodeId loss = objective->build(tape, &gradient, model, {batch, counts, 0, batch.n_trajectories()});
template <typename Scalar>
class BlockObjective {
 public:
  BlockObjective() = default;
  virtual ~BlockObjective() = default;
  BlockObjective(const BlockObjective&) = delete;
  BlockObjective& operator=(const BlockObjective&) = delete;

  void set_config(const ObjectiveConfig& config) { config_ = config; }

  // Builds the loss of `part` on `tape` (-1: see finish()).
  NodeId build(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const Model<Scalar>& model,
               const BlockOfBatch<Scalar>& part) {
    tape.clear();
    block_.index(model.env(), part.batch, part.first, part.count, config_.log_reward_floor);
    record_ = part.record;
    model_ = &model;
    gradient_ = gradient;
    const RowOutputs wanted = row_outputs();
    const ModelOutputs outputs =
        wanted == RowOutputs::None
            ? ModelOutputs{}
            : evaluate(tape, {block_.state(0), block_.rows, true, nullptr,
                              wanted == RowOutputs::TakenActions ? block_.actions.data() : nullptr});
    return build_block(tape, block_, outputs, part.counts);
  }

  virtual bool needs_batch_total() const { return false; }
  virtual double block_total(const Tape<Scalar>& /*tape*/) const { return 0; }
  virtual NodeId finish(Tape<Scalar>& /*tape*/, double /*batch_total*/, const BatchCounts& /*counts*/) { return -1; }

 protected:
  // The objective proper: the loss of the indexed block (or its first phase), given the model's outputs
  // on its rows as row_outputs() asks.
  virtual NodeId build_block(Tape<Scalar>& tape, const BlockIndex<Scalar>& block, const ModelOutputs& outputs,
                             const BatchCounts& counts) = 0;
  virtual RowOutputs row_outputs() const { return RowOutputs::TakenActions; }

  // The model on `inputs`, whose first rows are the block's (so that a forward record gives theirs).
  ModelOutputs evaluate(Tape<Scalar>& tape, ModelInputs<Scalar> inputs) {
    inputs.forward_dense = recorded_layers(inputs.n_states);
    return model_->evaluate(tape, gradient_, inputs, model_scratch_);
  }
  NodeId log_z(Tape<Scalar>& tape) const { return model_->log_z(tape, gradient_); }
  const Model<Scalar>& model() const { return *model_; }

  ObjectiveConfig config_;

 private:
  // For an evaluation of n_rows states that start with the block's rows: the recorded values of those
  // rows (the rest are computed), or nullptr without a record.
  DenseLayers<Scalar>* recorded_layers(int n_rows) {
    if (!record_) return nullptr;
    record_->given_rows(block_.first_trajectory, block_.row_offsets.data(), block_.n_trajectories(), n_rows,
                        given_);
    dense_.given = &given_;
    return &dense_;
  }

  BlockIndex<Scalar> block_;
  ModelScratch model_scratch_;
  const Model<Scalar>* model_ = nullptr;
  FlatVector<Scalar>* gradient_ = nullptr;
  const ForwardRecord<Scalar>* record_ = nullptr;
  std::vector<std::vector<const Scalar*>> given_;  // per dense layer: a pointer per evaluated row
  DenseLayers<Scalar> dense_;
};

}  // namespace gfn
