// Flow matching (FM) with edge flows log F(s -> a) = the P_F logits: for every visited non-initial
// state s, inflow(s) = logsumexp over its parents p of log F(p -> s) and outflow(s) = logsumexp of
// s's valid logits (log R for a final state); plus reward matching log F(x -> exit) = log R(x) on every
// exit. loss = sum of (inflow - outflow)^2 / batch non-initial states + sum of squared reward
// residuals / batch exits. Evaluates the block's rows and then the parents of every non-initial row.
// Shapes: R block rows, V visited non-initial states, E evaluated rows (R, then the parents).
#pragma once

#include <algorithm>
#include <vector>

#include "core/training/objective.hpp"

namespace gfn {

template <typename Scalar>
class FlowMatching : public BlockObjective<Scalar> {
  RowOutputs row_outputs() const override { return RowOutputs::None; }  // evaluated below, with the parents

  NodeId build_block(Tape<Scalar>& tape, const BlockIndex<Scalar>& block, const ModelOutputs& /*none*/,
                     const BatchCounts& counts) override {
    const Environment& env = this->model().env();
    const int state_width = env.state_width();
    const int count = block.n_trajectories();
    // Rows evaluated: the block's rows, then the parents of every non-initial row.
    states_.assign(block.state(0), block.state(0) + size_t(block.rows) * state_width);
    parent_actions_.resize(env.max_parents());
    parent_offsets_.assign(1, block.rows);
    visited_rows_.clear();
    edge_columns_.assign(block.rows, -1);
    for (int b = 0; b < count; ++b)
      for (int r = block.row_offsets[b] + 1; r < block.row_offsets[b + 1]; ++r) {
        const size_t used = states_.size();
        states_.resize(used + size_t(env.max_parents()) * state_width);
        const int n_parents = env.parents(block.state(r), states_.data() + used, parent_actions_.data());
        states_.resize(used + size_t(n_parents) * state_width);
        edge_columns_.insert(edge_columns_.end(), parent_actions_.begin(), parent_actions_.begin() + n_parents);
        visited_rows_.push_back(r);
        parent_offsets_.push_back(parent_offsets_.back() + n_parents);
      }
    const int n_rows = int(states_.size() / state_width);
    const int n_visited = int(visited_rows_.size());
    const ModelOutputs outputs = this->evaluate(tape, {states_.data(), n_rows, false});

    // Outflow of every block row: logsumexp of valid logits = logit(a) - log P_F(a) for any valid a;
    // a final row's outflow is its reward. Reward matching: log F(x -> exit) = log R(x).
    row_actions_.assign(n_rows, -1);
    exit_columns_.assign(n_rows, -1);
    const NodeId final_rewards = tape.constant(n_rows, 1, Scalar(0));  // E x 1: log R on final rows
    const NodeId exit_rewards = tape.constant(n_rows, 1, Scalar(0));   // E x 1: log R on exit rows
    auto final_reward = tape.mutable_value(final_rewards);
    auto exit_reward = tape.mutable_value(exit_rewards);
    for (int b = 0; b < count; ++b)
      for (int r = block.row_offsets[b]; r < block.row_offsets[b + 1]; ++r) {
        const int action = block.actions[r];
        row_actions_[r] = action;
        if (action < 0) final_reward(r, 0) = block.log_rewards[b];
        if (action >= 0 && action == env.exit_action()) {
          exit_columns_[r] = action;
          exit_reward(r, 0) = block.log_rewards[b];
        }
      }
    const NodeId outflow = tape.add(tape.sub(tape.pick(outputs.forward_logits, row_actions_.data()),
                                             tape.pick(outputs.forward_logprobs, row_actions_.data())),
                                    final_rewards);  // E x 1
    const NodeId inflow = tape.segment_logsumexp(tape.pick(outputs.forward_logits, edge_columns_.data()),
                                                 parent_offsets_.data(), n_visited);  // V x 1
    const NodeId flow_residual = tape.sub(inflow, tape.gather_rows(outflow, visited_rows_.data(), n_visited));
    const NodeId reward_residual = tape.sub(tape.pick(outputs.forward_logits, exit_columns_.data()), exit_rewards);
    NodeId loss = tape.scale(tape.sum(tape.square(flow_residual)),
                             Scalar(1) / Scalar(std::max(counts.non_initial_states, 1)));
    if (counts.exits > 0)
      loss = tape.add(loss, tape.scale(tape.sum(tape.square(reward_residual)), Scalar(1) / Scalar(counts.exits)));
    return loss;
  }

 private:
  std::vector<int32_t> states_;       // E x S: the block's rows, then the parents of each visited row
  std::vector<int> parent_actions_;   // one state's parent actions (max_parents)
  std::vector<int> parent_offsets_;   // V+1: each visited state's parents, as rows of `states_`
  std::vector<int> visited_rows_;     // V: the block row of each visited non-initial state
  std::vector<int> edge_columns_;     // E: the parent's action into the visited state, -1 on block rows
  std::vector<int> row_actions_;      // E: the block row's action, -1 on parent rows
  std::vector<int> exit_columns_;     // E: the exit action on exit rows, -1 elsewhere
};

}  // namespace gfn
