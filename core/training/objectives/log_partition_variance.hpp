// Log-partition variance (ZVar): zeta_b = sum over the trajectory's transitions of (log P_F - log P_B)
// - log R_b estimates log Z per trajectory; loss = sum of (zeta_b - mean zeta)^2 / batch trajectories.
// The mean is over the whole batch, so this objective has two phases (core/training/objective.hpp): build()
// puts the block's zeta on the tape, finish() subtracts the batch mean as a constant (exact: the
// derivative of sum (zeta - m)^2 in m is zero at the mean). Shapes: B trajectories.
#pragma once

#include "core/training/objective.hpp"

namespace gfn {

template <typename Scalar>
class LogPartitionVariance : public BlockObjective<Scalar> {
 public:
  bool needs_batch_total() const override { return true; }
  double block_total(const Tape<Scalar>& tape) const override { return double(tape.value(zeta_).sum()); }
  NodeId finish(Tape<Scalar>& tape, double batch_total, const BatchCounts& counts) override {
    const Scalar mean_zeta = Scalar(batch_total / counts.trajectories);
    const NodeId centred = tape.add_bias(zeta_, tape.constant(1, 1, -mean_zeta));
    return tape.scale(tape.sum(tape.square(centred)), Scalar(1) / Scalar(counts.trajectories));
  }

 private:
  NodeId build_block(Tape<Scalar>& tape, const BlockIndex<Scalar>& block, const ModelOutputs& outputs,
                     const BatchCounts& /*counts*/) override {
    const NodeId sums = tape.segment_sum(block.transition_log_ratio(tape, outputs), block.transition_offsets.data(),
                                         block.n_trajectories());
    zeta_ = tape.sub(sums, block.log_reward_column(tape));  // B x 1
    return -1;
  }

  NodeId zeta_ = -1;
};

}  // namespace gfn
