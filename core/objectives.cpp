// Objective implementations. Every objective starts from per-row picks of the model's log-probabilities
// and turns them into per-transition or per-trajectory residuals with gathers and segment sums.
#include "core/objectives.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gfn {

LossKind loss_kind_from_name(const std::string& name) {
  if (name == "tb") return LossKind::TrajectoryBalance;
  if (name == "db") return LossKind::DetailedBalance;
  if (name == "modified-db") return LossKind::ModifiedDetailedBalance;
  if (name == "subtb") return LossKind::SubTrajectoryBalance;
  if (name == "zvar") return LossKind::LogPartitionVariance;
  if (name == "fm") return LossKind::FlowMatching;
  if (name == "soft-dqn") return LossKind::SoftDqn;
  if (name == "munchausen-dqn") return LossKind::MunchausenDqn;
  throw std::invalid_argument("--loss: unknown objective '" + name +
                              "' (tb, db, modified-db, subtb, zvar, fm, soft-dqn, munchausen-dqn)");
}

std::string loss_name(LossKind kind) {
  switch (kind) {
    case LossKind::TrajectoryBalance: return "tb";
    case LossKind::DetailedBalance: return "db";
    case LossKind::ModifiedDetailedBalance: return "modified-db";
    case LossKind::SubTrajectoryBalance: return "subtb";
    case LossKind::LogPartitionVariance: return "zvar";
    case LossKind::FlowMatching: return "fm";
    case LossKind::SoftDqn: return "soft-dqn";
    case LossKind::MunchausenDqn: return "munchausen-dqn";
  }
  return "?";
}

void require_estimators(LossKind kind, ModelConfig& config) {
  config.log_z = kind == LossKind::TrajectoryBalance;
  config.state_flow = kind == LossKind::DetailedBalance || kind == LossKind::SubTrajectoryBalance;
}

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
NodeId backward_negative_log_likelihood(Tape<Scalar>& tape, NodeId backward_logprobs, const TrajectoryBatch& batch,
                                        const Environment& env, std::vector<int>& columns) {
  columns.resize(batch.n_rows());
  int moves = 0;
  for (int b = 0; b < batch.n_trajectories(); ++b)
    for (int r = batch.offsets[b]; r < batch.offsets[b + 1]; ++r) {
      const bool first = r == batch.offsets[b];
      columns[r] = first ? -1 : env.backward_action_of(batch.state(r - 1), batch.actions[r - 1]);
      moves += !first;
    }
  const NodeId log_likelihood = tape.sum(tape.pick(backward_logprobs, columns.data()));
  return tape.scale(log_likelihood, Scalar(-1) / Scalar(std::max(moves, 1)));
}

template NodeId backward_negative_log_likelihood(Tape<float>&, NodeId, const TrajectoryBatch&, const Environment&,
                                                 std::vector<int>&);
template NodeId backward_negative_log_likelihood(Tape<double>&, NodeId, const TrajectoryBatch&, const Environment&,
                                                 std::vector<int>&);

template <typename Scalar>
void BlockObjective<Scalar>::index_block(const Environment& env, const TrajectoryBatch& batch, int first, int count,
                                         double floor) {
  batch_ = &batch;
  first_row_ = batch.offsets[first];
  rows_ = batch.offsets[first + count] - first_row_;
  actions_.assign(batch.actions.begin() + first_row_, batch.actions.begin() + first_row_ + rows_);
  backward_columns_.resize(rows_);
  row_offsets_.resize(count + 1);
  transition_offsets_.resize(count + 1);
  last_transitions_.resize(count);
  log_rewards_.resize(count);
  transition_rows_.clear();
  for (int b = 0; b < count; ++b) {
    row_offsets_[b] = batch.offsets[first + b] - first_row_;
    transition_offsets_[b] = int(transition_rows_.size());
    const int end = batch.offsets[first + b + 1] - first_row_;
    for (int r = row_offsets_[b]; r < end; ++r) {
      backward_columns_[r] =
          r == row_offsets_[b] ? -1 : env.backward_action_of(batch.state(first_row_ + r - 1), actions_[r - 1]);
      if (actions_[r] >= 0) transition_rows_.push_back(r);
    }
    last_transitions_[b] = int(transition_rows_.size()) - 1;
    log_rewards_[b] = Scalar(std::max(batch.log_rewards[first + b], floor));
  }
  row_offsets_[count] = rows_;
  transition_offsets_[count] = int(transition_rows_.size());
  next_log_backward_.resize(transition_rows_.size());
  for (size_t t = 0; t < transition_rows_.size(); ++t) {
    const int r = transition_rows_[t];
    next_log_backward_[t] = actions_[r] == env.exit_action() ? rows_ : r + 1;
  }
}

template <typename Scalar>
NodeId BlockObjective<Scalar>::log_reward_column(Tape<Scalar>& tape) {
  const NodeId node = tape.constant(int(log_rewards_.size()), 1, Scalar(0));
  auto values = tape.mutable_value(node);
  for (size_t b = 0; b < log_rewards_.size(); ++b) values(b, 0) = log_rewards_[b];
  return node;
}

template <typename Scalar>
NodeId BlockObjective<Scalar>::transition_log_ratio(Tape<Scalar>& tape, const ModelOutputs& outputs) {
  const int n_transitions = int(transition_rows_.size());
  const NodeId forward_rows = tape.pick(outputs.forward_logprobs, actions_.data());             // R x 1
  const NodeId backward_rows = tape.pick(outputs.backward_logprobs, backward_columns_.data());  // R x 1
  const NodeId forward = tape.gather_rows(forward_rows, transition_rows_.data(), n_transitions);
  const NodeId backward = tape.gather_rows(tape.concat_rows(backward_rows, tape.constant(1, 1, Scalar(0))),
                                           next_log_backward_.data(), n_transitions);
  return tape.sub(forward, backward);  // T x 1
}

template <typename Scalar>
NodeId BlockObjective<Scalar>::build(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const Model<Scalar>& model,
                                     const ObjectiveConfig& config, const TrajectoryBatch& batch,
                                     const BatchCounts& counts, int first, int count) {
  const Environment& env = model.env();
  tape.clear();
  zeta_ = -1;
  index_block(env, batch, first, count, config.log_reward_floor);
  if (config.kind == LossKind::FlowMatching) return flow_matching(tape, gradient, model, counts);
  const ModelOutputs outputs = model.evaluate(tape, gradient, batch.state(first_row_), rows_, model_scratch_);
  switch (config.kind) {
    case LossKind::TrajectoryBalance: return trajectory_balance(tape, gradient, model, outputs, counts);
    case LossKind::DetailedBalance: return detailed_balance(tape, outputs, counts);
    case LossKind::ModifiedDetailedBalance:
      return modified_detailed_balance(tape, outputs, env, config.log_reward_floor, counts);
    case LossKind::SubTrajectoryBalance: return subtrajectory_balance(tape, outputs, config.subtb_lambda, counts);
    case LossKind::LogPartitionVariance: {
      const NodeId log_ratio = transition_log_ratio(tape, outputs);
      const NodeId sums = tape.segment_sum(log_ratio, transition_offsets_.data(), count);
      zeta_ = tape.sub(sums, log_reward_column(tape));
      return -1;
    }
    case LossKind::FlowMatching:
    case LossKind::SoftDqn:
    case LossKind::MunchausenDqn: break;
  }
  throw std::logic_error("BlockObjective: " + loss_name(config.kind) + " is not a block objective");
}

// TB: residual_b = log Z + sum_t (log P_F - log P_B) - log R_b.
template <typename Scalar>
NodeId BlockObjective<Scalar>::trajectory_balance(Tape<Scalar>& tape, FlatVector<Scalar>* gradient,
                                                  const Model<Scalar>& model, const ModelOutputs& outputs,
                                                  const BatchCounts& counts) {
  const int count = int(log_rewards_.size());
  const NodeId sums = tape.segment_sum(transition_log_ratio(tape, outputs), transition_offsets_.data(), count);
  const NodeId residual = tape.sub(tape.add_bias(sums, model.log_z(tape, gradient)), log_reward_column(tape));
  return tape.scale(tape.sum(tape.square(residual)), Scalar(1) / Scalar(counts.trajectories));
}

template <typename Scalar>
NodeId BlockObjective<Scalar>::finish_log_partition_variance(Tape<Scalar>& tape, Scalar mean_zeta,
                                                             const BatchCounts& counts) {
  const NodeId centred = tape.add_bias(zeta_, tape.constant(1, 1, -mean_zeta));
  return tape.scale(tape.sum(tape.square(centred)), Scalar(1) / Scalar(counts.trajectories));
}

// DB: residual_t = log F(s) + log P_F - log P_B - log F(s'), with log F(s') = log R at the end.
template <typename Scalar>
NodeId BlockObjective<Scalar>::detailed_balance(Tape<Scalar>& tape, const ModelOutputs& outputs,
                                                const BatchCounts& counts) {
  const int n_transitions = int(transition_rows_.size());
  std::vector<int>& next = first_indices_;  // T: row of s' in [log F rows; log R per trajectory]
  next.resize(n_transitions);
  for (int b = 0; b + 1 < int(row_offsets_.size()); ++b)
    for (int t = transition_offsets_[b]; t < transition_offsets_[b + 1]; ++t)
      next[t] = t == last_transitions_[b] ? rows_ + b : transition_rows_[t] + 1;
  const NodeId log_ratio = transition_log_ratio(tape, outputs);
  const NodeId flow_from = tape.gather_rows(outputs.log_flow, transition_rows_.data(), n_transitions);
  const NodeId flow_to =
      tape.gather_rows(tape.concat_rows(outputs.log_flow, log_reward_column(tape)), next.data(), n_transitions);
  const NodeId residual = tape.sub(tape.add(flow_from, log_ratio), flow_to);
  return tape.scale(tape.sum(tape.square(residual)), Scalar(1) / Scalar(std::max(counts.transitions, 1)));
}

// Modified DB over moves s -> s': log R(s) + log P_F(s'|s) + log P_F(exit|s') - log R(s')
//   - log P_B(s|s') - log P_F(exit|s).
template <typename Scalar>
NodeId BlockObjective<Scalar>::modified_detailed_balance(Tape<Scalar>& tape, const ModelOutputs& outputs,
                                                         const Environment& env, double floor,
                                                         const BatchCounts& counts) {
  const int exit_action = env.exit_action();
  if (exit_action < 0) throw std::invalid_argument("modified-db needs an environment where every state can exit");
  std::vector<int>& moves = first_indices_;
  std::vector<int>& targets = second_indices_;
  std::vector<int>& exit_columns = third_indices_;
  moves.clear();
  targets.clear();
  for (int r = 0; r < rows_; ++r)
    if (actions_[r] >= 0 && actions_[r] != exit_action) {
      moves.push_back(r);
      targets.push_back(r + 1);
    }
  exit_columns.assign(rows_, exit_action);
  const int n_moves = int(moves.size());
  const NodeId reward_difference = tape.constant(n_moves, 1, Scalar(0));
  auto difference = tape.mutable_value(reward_difference);
  for (int m = 0; m < n_moves; ++m)
    difference(m, 0) = Scalar(std::max(env.log_reward(batch_->state(first_row_ + moves[m])), floor) -
                              std::max(env.log_reward(batch_->state(first_row_ + targets[m])), floor));
  const NodeId forward_rows = tape.pick(outputs.forward_logprobs, actions_.data());
  const NodeId exit_rows = tape.pick(outputs.forward_logprobs, exit_columns.data());
  const NodeId backward_rows = tape.pick(outputs.backward_logprobs, backward_columns_.data());
  NodeId residual = tape.add(reward_difference, tape.gather_rows(forward_rows, moves.data(), n_moves));
  residual = tape.add(residual, tape.gather_rows(exit_rows, targets.data(), n_moves));
  residual = tape.sub(residual, tape.gather_rows(backward_rows, targets.data(), n_moves));
  residual = tape.sub(residual, tape.gather_rows(exit_rows, moves.data(), n_moves));
  return tape.scale(tape.sum(tape.square(residual)), Scalar(1) / Scalar(std::max(counts.moves, 1)));
}

// SubTB: with U_j = log F(p_j) - C_j along the points p_0..p_L of a trajectory (C_j = sum of
// log P_F - log P_B over its first j transitions; U_L uses log R), the residual of the piece i..j is
// U_i - U_j. Pieces are weighted lambda^(j-i-1), normalised per trajectory.
template <typename Scalar>
NodeId BlockObjective<Scalar>::subtrajectory_balance(Tape<Scalar>& tape, const ModelOutputs& outputs, double lambda,
                                                     const BatchCounts& counts) {
  const int count = int(log_rewards_.size());
  const int n_transitions = int(transition_rows_.size());
  const NodeId log_ratio = transition_log_ratio(tape, outputs);
  const NodeId cumulative = tape.segment_cumsum(log_ratio, transition_offsets_.data(), count);
  const NodeId flow = tape.gather_rows(outputs.log_flow, transition_rows_.data(), n_transitions);
  const NodeId start_points = tape.add(tape.sub(flow, cumulative), log_ratio);  // T x 1: U_j, j < L
  const NodeId end_points =
      tape.sub(log_reward_column(tape), tape.gather_rows(cumulative, last_transitions_.data(), count));  // B x 1
  const NodeId points = tape.concat_rows(start_points, end_points);

  std::vector<int>& from = first_indices_;
  std::vector<int>& to = second_indices_;
  from.clear();
  to.clear();
  int n_pairs = 0;
  for (int b = 0; b < count; ++b) {
    const int length = transition_offsets_[b + 1] - transition_offsets_[b];
    n_pairs += length * (length + 1) / 2;
  }
  const NodeId weights = tape.constant(n_pairs, 1, Scalar(0));
  auto weight = tape.mutable_value(weights);
  int pair = 0;
  for (int b = 0; b < count; ++b) {
    const int length = transition_offsets_[b + 1] - transition_offsets_[b];
    auto point = [&](int j) { return j < length ? transition_offsets_[b] + j : n_transitions + b; };
    double total = 0;
    for (int span = 1; span <= length; ++span) total += (length - span + 1) * std::pow(lambda, span - 1);
    for (int i = 0; i < length; ++i)
      for (int j = i + 1; j <= length; ++j) {
        from.push_back(point(i));
        to.push_back(point(j));
        weight(pair++, 0) = Scalar(std::pow(lambda, j - i - 1) / total / counts.trajectories);
      }
  }
  const NodeId residual =
      tape.sub(tape.gather_rows(points, from.data(), n_pairs), tape.gather_rows(points, to.data(), n_pairs));
  return tape.sum(tape.mul(tape.square(residual), weights));
}

// FM with edge flows log F(s -> a) = P_F logits: inflow(s) = logsumexp over parents p of
// log F(p -> s); outflow(s) = logsumexp of s's valid logits (log R for a final state).
template <typename Scalar>
NodeId BlockObjective<Scalar>::flow_matching(Tape<Scalar>& tape, FlatVector<Scalar>* gradient,
                                             const Model<Scalar>& model, const BatchCounts& counts) {
  const Environment& env = model.env();
  const int state_width = env.state_width();
  const int count = int(log_rewards_.size());
  // Rows evaluated: the block's rows, then the parents of every non-initial row.
  std::vector<int>& parent_offsets = first_indices_;  // K+1, into the evaluated rows
  std::vector<int>& visited = second_indices_;        // K: block row of each non-initial state
  std::vector<int>& edge_columns = third_indices_;    // rows: the parent's action, -1 on block rows
  states_.assign(batch_->state(first_row_), batch_->state(first_row_) + size_t(rows_) * state_width);
  parent_actions_.resize(env.max_parents());
  parent_offsets.assign(1, rows_);
  visited.clear();
  edge_columns.assign(rows_, -1);
  for (int b = 0; b < count; ++b)
    for (int r = row_offsets_[b] + 1; r < row_offsets_[b + 1]; ++r) {
      const size_t used = states_.size();
      states_.resize(used + size_t(env.max_parents()) * state_width);
      const int n_parents = env.parents(batch_->state(first_row_ + r), states_.data() + used, parent_actions_.data());
      states_.resize(used + size_t(n_parents) * state_width);
      edge_columns.insert(edge_columns.end(), parent_actions_.begin(), parent_actions_.begin() + n_parents);
      visited.push_back(r);
      parent_offsets.push_back(parent_offsets.back() + n_parents);
    }
  const int n_rows = int(states_.size() / state_width);
  const int n_visited = int(visited.size());
  const ModelOutputs outputs = model.evaluate(tape, gradient, states_.data(), n_rows, model_scratch_, false);

  // Outflow of every block row: logsumexp of valid logits = logit(a) - log P_F(a) for any valid a;
  // a final row's outflow is its reward. Reward matching: log F(x -> exit) = log R(x).
  std::vector<int>& actions = fm_row_actions_;  // rows: the block row's action, -1 on parent rows
  std::vector<int>& exits = fm_exit_columns_;    // rows: the exit column on exit rows, -1 elsewhere
  actions.assign(n_rows, -1);
  exits.assign(n_rows, -1);
  const NodeId final_rewards = tape.constant(n_rows, 1, Scalar(0));
  const NodeId exit_rewards = tape.constant(n_rows, 1, Scalar(0));
  auto final_reward = tape.mutable_value(final_rewards);
  auto exit_reward = tape.mutable_value(exit_rewards);
  for (int b = 0; b < count; ++b)
    for (int r = row_offsets_[b]; r < row_offsets_[b + 1]; ++r) {
      actions[r] = actions_[r];
      if (actions_[r] < 0) final_reward(r, 0) = log_rewards_[b];
      if (actions_[r] >= 0 && actions_[r] == env.exit_action()) {
        exits[r] = actions_[r];
        exit_reward(r, 0) = log_rewards_[b];
      }
    }
  const NodeId outflow = tape.add(tape.sub(tape.pick(outputs.forward_logits, actions.data()),
                                           tape.pick(outputs.forward_logprobs, actions.data())),
                                  final_rewards);
  const NodeId inflow =
      tape.segment_logsumexp(tape.pick(outputs.forward_logits, edge_columns.data()), parent_offsets.data(), n_visited);
  const NodeId flow_residual = tape.sub(inflow, tape.gather_rows(outflow, visited.data(), n_visited));
  const NodeId reward_residual = tape.sub(tape.pick(outputs.forward_logits, exits.data()), exit_rewards);
  NodeId loss = tape.scale(tape.sum(tape.square(flow_residual)),
                           Scalar(1) / Scalar(std::max(counts.non_initial_states, 1)));
  if (counts.exits > 0)
    loss = tape.add(loss, tape.scale(tape.sum(tape.square(reward_residual)), Scalar(1) / Scalar(counts.exits)));
  return loss;
}

template class BlockObjective<float>;
template class BlockObjective<double>;

}  // namespace gfn
