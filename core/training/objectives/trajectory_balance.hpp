// Trajectory balance (TB): residual_b = log Z + sum over the trajectory's transitions of
// (log P_F - log P_B) - log R_b; loss = sum of squared residuals / batch trajectories.
// Shapes as in core/training/objective.hpp (B trajectories, N transitions).
#pragma once

#include "core/training/objective.hpp"

namespace gfn {

template <typename Scalar>
class TrajectoryBalance : public BlockObjective<Scalar> {
  NodeId build_block(Tape<Scalar>& tape, const BlockIndex<Scalar>& block, const ModelOutputs& outputs,
                     const BatchCounts& counts) override {
    const NodeId sums = tape.segment_sum(block.transition_log_ratio(tape, outputs), block.transition_offsets.data(),
                                         block.n_trajectories());  // B x 1
    const NodeId residual = tape.sub(tape.add_bias(sums, this->log_z(tape)), block.log_reward_column(tape));
    return tape.scale(tape.sum(tape.square(residual)), Scalar(1) / Scalar(counts.trajectories));
  }
};

}  // namespace gfn
