// The shared part of every objective: batch counts and the indexing of one block (see objective.hpp).
#include "core/training/objective.hpp"

#include <algorithm>
#include <stdexcept>

namespace gfn {

BatchCounts count_batch(const TrajectoryBatch& batch, int exit_action) {
  BatchCounts counts;
  counts.trajectories = batch.n_trajectories();
  for (int b = 0; b < counts.trajectories; ++b) {
    counts.non_initial_states += batch.offsets[b + 1] - batch.offsets[b] - 1;
    for (int r = batch.offsets[b]; r < batch.offsets[b + 1]; ++r) {
      if (batch.actions[r] < 0) continue;
      ++counts.transitions;
      if (batch.actions[r] == exit_action)
        ++counts.exits;
      else
        ++counts.moves;
    }
  }
  return counts;
}

template <typename Scalar>
void BlockIndex<Scalar>::index(const Environment& env, const TrajectoryBatch& source, int first, int count,
                               double floor) {
  batch = &source;
  first_trajectory = first;
  first_row = source.offsets[first];
  rows = source.offsets[first + count] - first_row;
  actions.assign(source.actions.begin() + first_row, source.actions.begin() + first_row + rows);
  backward_columns.resize(rows);
  row_offsets.resize(count + 1);
  transition_offsets.resize(count + 1);
  last_transitions.resize(count);
  log_rewards.resize(count);
  transition_rows.clear();
  for (int b = 0; b < count; ++b) {
    row_offsets[b] = source.offsets[first + b] - first_row;
    transition_offsets[b] = int(transition_rows.size());
    const int end = source.offsets[first + b + 1] - first_row;
    for (int r = row_offsets[b]; r < end; ++r) {
      backward_columns[r] = r == row_offsets[b] ? -1 : env.backward_action_of(state(r - 1), actions[r - 1]);
      if (actions[r] >= 0) transition_rows.push_back(r);
    }
    last_transitions[b] = int(transition_rows.size()) - 1;
    log_rewards[b] = Scalar(std::max(source.log_rewards[first + b], floor));
  }
  row_offsets[count] = rows;
  transition_offsets[count] = int(transition_rows.size());
  next_log_backward.resize(transition_rows.size());
  for (size_t t = 0; t < transition_rows.size(); ++t) {
    const int r = transition_rows[t];
    next_log_backward[t] = actions[r] == env.exit_action() ? rows : r + 1;
  }
}

template <typename Scalar>
NodeId BlockIndex<Scalar>::log_reward_column(Tape<Scalar>& tape) const {
  const NodeId node = tape.constant(n_trajectories(), 1, Scalar(0));
  auto values = tape.mutable_value(node);
  for (int b = 0; b < n_trajectories(); ++b) values(b, 0) = log_rewards[b];
  return node;
}

template <typename Scalar>
NodeId BlockIndex<Scalar>::transition_log_ratio(Tape<Scalar>& tape, const ModelOutputs& outputs) const {
  const int n = n_transitions();
  if (outputs.action_logprobs < 0)
    throw std::logic_error("transition_log_ratio: evaluate the block's rows at its actions first "
                           "(RowOutputs::TakenActions, core/training/objective.hpp)");
  const NodeId forward_rows = outputs.action_logprobs;                                          // R x 1
  const NodeId backward_rows = tape.pick(outputs.backward_logprobs, backward_columns.data());  // R x 1
  const NodeId forward = tape.gather_rows(forward_rows, transition_rows.data(), n);
  const NodeId backward =
      tape.gather_rows(tape.concat_rows(backward_rows, tape.constant(1, 1, Scalar(0))), next_log_backward.data(), n);
  return tape.sub(forward, backward);  // N x 1
}

template struct BlockIndex<float>;
template struct BlockIndex<double>;

}  // namespace gfn
