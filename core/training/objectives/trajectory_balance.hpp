// Trajectory balance (TB): residual_b = log Z + sum over the trajectory's transitions of
// (log P_F - log P_B) - log R_b; loss = sum of squared residuals / batch trajectories.
// Shapes as in core/training/objective.hpp (B trajectories, N transitions).
#pragma once

#include "core/training/objective.hpp"

namespace gfn {

template <typename Scalar>
class TrajectoryBalance : public BlockObjective<Scalar> {
 public:
  using BlockObjective<Scalar>::BlockObjective;

 protected:
  NodeId build_block(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const Model<Scalar>& model,
                     const BatchCounts& counts) override {
    const BlockIndex<Scalar>& block = this->block_;
    const ModelOutputs outputs = this->evaluate_rows(tape, gradient, model, block.actions.data());
    const NodeId sums = tape.segment_sum(block.transition_log_ratio(tape, outputs), block.transition_offsets.data(),
                                         block.n_trajectories());  // B x 1
    const NodeId residual = tape.sub(tape.add_bias(sums, model.log_z(tape, gradient)), block.log_reward_column(tape));
    return tape.scale(tape.sum(tape.square(residual)), Scalar(1) / Scalar(counts.trajectories));
  }
};

}  // namespace gfn
