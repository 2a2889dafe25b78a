// Detailed balance (DB): residual_n = log F(s) + log P_F(s'|s) - log P_B(s|s') - log F(s') for every
// transition s -> s', with log F(s') = log R at the trajectory's end; loss = sum of squared residuals /
// batch transitions. Shapes as in core/training/objective.hpp (R rows, B trajectories, N transitions).
#pragma once

#include <algorithm>
#include <vector>

#include "core/training/objective.hpp"

namespace gfn {

template <typename Scalar>
class DetailedBalance : public BlockObjective<Scalar> {
  NodeId build_block(Tape<Scalar>& tape, const BlockIndex<Scalar>& block, const ModelOutputs& outputs,
                     const BatchCounts& counts) override {
    const int n_transitions = block.n_transitions();
    target_rows_.resize(n_transitions);
    for (int b = 0; b < block.n_trajectories(); ++b)
      for (int t = block.transition_offsets[b]; t < block.transition_offsets[b + 1]; ++t)
        target_rows_[t] = t == block.last_transitions[b] ? block.rows + b : block.transition_rows[t] + 1;
    const NodeId log_ratio = block.transition_log_ratio(tape, outputs);
    const NodeId flow_from = tape.gather_rows(outputs.log_flow, block.transition_rows.data(), n_transitions);
    const NodeId flow_to = tape.gather_rows(tape.concat_rows(outputs.log_flow, block.log_reward_column(tape)),
                                            target_rows_.data(), n_transitions);
    const NodeId residual = tape.sub(tape.add(flow_from, log_ratio), flow_to);  // N x 1
    return tape.scale(tape.sum(tape.square(residual)), Scalar(1) / Scalar(std::max(counts.transitions, 1)));
  }

 private:
  std::vector<int> target_rows_;  // N: row of s' in [log F rows (R); log R per trajectory (B)]
};

}  // namespace gfn
