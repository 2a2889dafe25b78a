// Modified detailed balance (MDB), for environments where every state can exit: each state is
// terminal, so log R(s) + log P_F(exit|s) stands in for log F(s). Over every move s -> s' (exits are
// not moves): residual = log R(s) + log P_F(s'|s) + log P_F(exit|s') - log R(s') - log P_B(s|s')
// - log P_F(exit|s); loss = sum of squared residuals / batch moves. Shapes: R rows, M moves of the block.
#pragma once

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "core/training/objective.hpp"

namespace gfn {

template <typename Scalar>
class ModifiedDetailedBalance : public BlockObjective<Scalar> {
  RowOutputs row_outputs() const override { return RowOutputs::AllActions; }  // P_F(exit|s) too
  NodeId build_block(Tape<Scalar>& tape, const BlockIndex<Scalar>& block, const ModelOutputs& outputs,
                     const BatchCounts& counts) override {
    const Environment& env = this->model().env();
    const double floor = this->config_.log_reward_floor;
    const int exit_action = env.exit_action();
    if (exit_action < 0) throw std::invalid_argument("modified-db needs an environment where every state can exit");
    move_rows_.clear();
    target_rows_.clear();
    for (int r = 0; r < block.rows; ++r)
      if (block.actions[r] >= 0 && block.actions[r] != exit_action) {
        move_rows_.push_back(r);
        target_rows_.push_back(r + 1);
      }
    exit_columns_.assign(block.rows, exit_action);
    const int n_moves = int(move_rows_.size());
    const NodeId reward_difference = tape.constant(n_moves, 1, Scalar(0));  // M x 1: log R(s) - log R(s')
    auto difference = tape.mutable_value(reward_difference);
    for (int m = 0; m < n_moves; ++m)
      difference(m, 0) = Scalar(std::max(env.log_reward(block.state(move_rows_[m])), floor) -
                                std::max(env.log_reward(block.state(target_rows_[m])), floor));
    const NodeId forward_rows = tape.pick(outputs.forward_logprobs, block.actions.data());          // R x 1
    const NodeId exit_rows = tape.pick(outputs.forward_logprobs, exit_columns_.data());             // R x 1
    const NodeId backward_rows = tape.pick(outputs.backward_logprobs, block.backward_columns.data());  // R x 1
    NodeId residual = tape.add(reward_difference, tape.gather_rows(forward_rows, move_rows_.data(), n_moves));
    residual = tape.add(residual, tape.gather_rows(exit_rows, target_rows_.data(), n_moves));
    residual = tape.sub(residual, tape.gather_rows(backward_rows, target_rows_.data(), n_moves));
    residual = tape.sub(residual, tape.gather_rows(exit_rows, move_rows_.data(), n_moves));  // M x 1
    return tape.scale(tape.sum(tape.square(residual)), Scalar(1) / Scalar(std::max(counts.moves, 1)));
  }

 private:
  std::vector<int> move_rows_;     // M: the row s of each move
  std::vector<int> target_rows_;   // M: the row s' it leads to
  std::vector<int> exit_columns_;  // R: the exit action, to pick log P_F(exit) on every row
};

}  // namespace gfn
