// Sub-trajectory balance (SubTB): along the points p_0..p_L of a trajectory, U_j = log F(p_j) - C_j
// with C_j the sum of log P_F - log P_B over its first j transitions (U_L uses log R for log F).
// The residual of the piece i..j is U_i - U_j; every piece is weighted lambda^(j-i-1), the weights
// normalised per trajectory; loss = weighted sum of squared residuals / batch trajectories.
// Shapes: B trajectories, N transitions, P pieces (sum over trajectories of L(L+1)/2).
#pragma once

#include <cmath>
#include <vector>

#include "core/training/objective.hpp"

namespace gfn {

template <typename Scalar>
class SubtrajectoryBalance : public BlockObjective<Scalar> {
  NodeId build_block(Tape<Scalar>& tape, const BlockIndex<Scalar>& block, const ModelOutputs& outputs,
                     const BatchCounts& counts) override {
    const double lambda = this->config_.subtb_lambda;
    const int count = block.n_trajectories();
    const int n_transitions = block.n_transitions();
    const NodeId log_ratio = block.transition_log_ratio(tape, outputs);
    const NodeId cumulative = tape.segment_cumsum(log_ratio, block.transition_offsets.data(), count);
    const NodeId flow = tape.gather_rows(outputs.log_flow, block.transition_rows.data(), n_transitions);
    const NodeId start_points = tape.add(tape.sub(flow, cumulative), log_ratio);  // N x 1: U_j, j < L
    const NodeId end_points = tape.sub(block.log_reward_column(tape),
                                       tape.gather_rows(cumulative, block.last_transitions.data(), count));  // B x 1
    const NodeId points = tape.concat_rows(start_points, end_points);

    piece_starts_.clear();
    piece_ends_.clear();
    int n_pieces = 0;
    for (int b = 0; b < count; ++b) {
      const int length = block.transition_offsets[b + 1] - block.transition_offsets[b];
      n_pieces += length * (length + 1) / 2;
    }
    const NodeId weights = tape.constant(n_pieces, 1, Scalar(0));  // P x 1
    auto weight = tape.mutable_value(weights);
    int piece = 0;
    for (int b = 0; b < count; ++b) {
      const int length = block.transition_offsets[b + 1] - block.transition_offsets[b];
      auto point = [&](int j) { return j < length ? block.transition_offsets[b] + j : n_transitions + b; };
      double total = 0;
      for (int span = 1; span <= length; ++span) total += (length - span + 1) * std::pow(lambda, span - 1);
      for (int i = 0; i < length; ++i)
        for (int j = i + 1; j <= length; ++j) {
          piece_starts_.push_back(point(i));
          piece_ends_.push_back(point(j));
          weight(piece++, 0) = Scalar(std::pow(lambda, j - i - 1) / total / counts.trajectories);
        }
    }
    const NodeId residual = tape.sub(tape.gather_rows(points, piece_starts_.data(), n_pieces),
                                     tape.gather_rows(points, piece_ends_.data(), n_pieces));  // P x 1
    return tape.sum(tape.mul(tape.square(residual), weights));
  }

 private:
  std::vector<int> piece_starts_, piece_ends_;  // P: the points i and j of each piece, rows of `points`
};

}  // namespace gfn
