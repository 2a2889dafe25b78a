// Soft DQN / Munchausen DQN learner: replay insertion with current losses, prioritized minibatch
// updates, Polyak target network.
#include "core/training/soft_dqn.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace gfn {

namespace {
constexpr uint64_t kReplayStream = (uint64_t(1) << 62) + 1;
}  // namespace

SoftDqnLearner::SoftDqnLearner(Model<float>& model, const SoftDqnConfig& config, uint64_t seed)
    : model_(model),
      target_(model.env(), model.config(), seed),
      config_(config),
      seed_(seed),
      replay_(config.replay_capacity, model.env().state_width(), config.replay_alpha) {
  if (config.lambda <= 0) throw std::invalid_argument("--lambda must be positive");
  if (config.replay_batch < 1) throw std::invalid_argument("--replay-batch must be at least 1");
  copy_parameters(target_.store(), model_.store());
}

NodeId SoftDqnLearner::build_loss(Tape<float>& tape, FlatVector<float>* gradient, const TransitionBatch& transitions,
                                  std::vector<double>& huber_values) {
  const Environment& env = model_.env();
  const int m = transitions.size();
  const int state_width = env.state_width();
  const int exit_action = env.exit_action();
  const double lambda = config_.lambda;
  auto state = [&](int row) { return transitions.states.data() + int64_t(row) * state_width; };

  // Targets from the target network on [s; s'] (no gradient).
  target_tape_.clear();
  const ModelOutputs target_outputs =
      target_.evaluate(target_tape_, nullptr, {transitions.states.data(), 2 * m, false}, target_scratch_);
  const auto target_logits = target_tape_.value(target_outputs.forward_logits);
  const auto target_logprobs = target_tape_.value(target_outputs.forward_logprobs);

  const NodeId targets = tape.constant(m, 1, 0.0f);
  auto target = tape.mutable_value(targets);
  columns_.assign(2 * m, -1);
  backward_columns_.assign(2 * m, -1);
  for (int i = 0; i < m; ++i) {
    const int action = transitions.actions[i];
    columns_[i] = action;
    double y = 0;
    if (transitions.done[i]) {
      y += std::max(transitions.log_rewards[i], config_.log_reward_floor);
    } else {  // lambda * logsumexp of the valid target logits at s' = logit(a) - log pi(a) for a valid a
      const int next = m + i;
      int valid = 0;
      while (target_logprobs(next, valid) == -std::numeric_limits<float>::infinity()) ++valid;
      y += lambda * (double(target_logits(next, valid)) - double(target_logprobs(next, valid)));
    }
    if (action != exit_action) backward_columns_[m + i] = env.backward_action_of(state(i), action);
    if (config_.munchausen)
      y += config_.munchausen_alpha * std::clamp(lambda * double(target_logprobs(i, action)), -100.0, 0.0);
    target(i, 0) = float(y);
  }

  // Q(s, a) - log P_B(s | s') - y, with P_B read at s' (a learned P_B gets its gradient here).
  const ModelOutputs outputs = model_.evaluate(tape, gradient, {transitions.states.data(), 2 * m}, scratch_);
  indices_.resize(2 * m);
  for (int i = 0; i < 2 * m; ++i) indices_[i] = i;
  const NodeId q = tape.scale(tape.gather_rows(tape.pick(outputs.forward_logits, columns_.data()), indices_.data(), m),
                              float(lambda));
  const NodeId move_reward = tape.gather_rows(tape.pick(outputs.backward_logprobs, backward_columns_.data()),
                                              indices_.data() + m, m);
  const NodeId huber = tape.huber(tape.sub(tape.sub(q, move_reward), targets), 1.0f);
  const auto values = tape.value(huber);
  huber_values.resize(m);
  for (int i = 0; i < m; ++i) huber_values[i] = values(i, 0);
  return tape.mean(huber);
}

double SoftDqnLearner::step(const TrajectoryBatch& batch, int64_t iteration, Adam<float>& adam,
                            FlatVector<float>& gradient) {
  const Environment& env = model_.env();
  const int state_width = env.state_width();

  // The fresh transitions, inserted with their current loss.
  const int m = batch.n_transitions();
  transitions_.states.resize(size_t(2) * m * state_width);
  transitions_.actions.clear();
  transitions_.done.clear();
  transitions_.log_rewards.clear();
  for (int b = 0; b < batch.n_trajectories(); ++b)
    for (int r = batch.offsets[b]; r < batch.offsets[b + 1]; ++r) {
      const int action = batch.actions[r];
      if (action < 0) continue;
      const int i = transitions_.size();
      const bool exit = action == env.exit_action();
      const int next = exit ? r : r + 1;
      const bool done = exit || batch.actions[next] < 0;
      std::copy(batch.state(r), batch.state(r) + state_width, transitions_.states.begin() + int64_t(i) * state_width);
      std::copy(batch.state(next), batch.state(next) + state_width,
                transitions_.states.begin() + int64_t(m + i) * state_width);
      transitions_.actions.push_back(action);
      transitions_.done.push_back(done);
      transitions_.log_rewards.push_back(done ? batch.log_rewards[b] : 0.0);
    }
  tape_.clear();
  build_loss(tape_, nullptr, transitions_, huber_values_);
  for (int i = 0; i < m; ++i)
    replay_.add(transitions_.states.data() + int64_t(i) * state_width, transitions_.actions[i],
                transitions_.states.data() + int64_t(m + i) * state_width, transitions_.done[i],
                transitions_.log_rewards[i], huber_values_[i]);
  if (iteration < config_.learning_starts) {  // report the fresh transitions' loss until learning starts
    double total = 0;
    for (int i = 0; i < m; ++i) total += huber_values_[i];
    return total / std::max(m, 1);
  }

  // One update on a prioritized minibatch.
  const int n = config_.replay_batch;
  Rng rng = Rng::stream(seed_, uint64_t(iteration), kReplayStream);
  replay_.sample(n, rng, drawn_);
  transitions_.states.resize(size_t(2) * n * state_width);
  transitions_.actions.resize(n);
  transitions_.done.resize(n);
  transitions_.log_rewards.resize(n);
  replay_.gather(drawn_.data(), n, transitions_.states.data(), transitions_.actions.data(),
                 transitions_.states.data() + int64_t(n) * state_width, transitions_.done.data(),
                 transitions_.log_rewards.data());
  tape_.clear();
  const NodeId loss = build_loss(tape_, &gradient, transitions_, huber_values_);
  std::fill(gradient.begin(), gradient.end(), 0.0f);
  tape_.backward(loss);
  const double value = tape_.scalar(loss);
  if (!std::isfinite(value) || !Eigen::Map<const Eigen::ArrayXf>(gradient.data(), gradient.size()).allFinite())
    throw TrainingDiverged("training diverged at iteration " + std::to_string(iteration + 1) +
                             ": the DQN loss or its gradient is not finite");
  adam.step(model_.store(), gradient);
  replay_.update_priorities(drawn_.data(), huber_values_.data(), n);
  polyak_update(target_.store(), model_.store(), config_.target_tau);
  return value;
}

}  // namespace gfn

namespace gfn {

void SoftDqnLearner::save(Checkpoint& checkpoint) const {
  checkpoint.floats["dqn.target"] = target_.store().values();
  const int n = replay_.size(), width = replay_.state_width();
  auto& states = checkpoint.integers["dqn.replay.states"];
  auto& next_states = checkpoint.integers["dqn.replay.next_states"];
  auto& fields = checkpoint.integers["dqn.replay.fields"];  // action, done
  auto& values = checkpoint.doubles["dqn.replay.values"];   // log R, priority
  states.clear();
  next_states.clear();
  fields.clear();
  values.clear();
  for (int i = 0; i < n; ++i) {
    states.insert(states.end(), replay_.state(i), replay_.state(i) + width);
    next_states.insert(next_states.end(), replay_.next_state(i), replay_.next_state(i) + width);
    fields.insert(fields.end(), {replay_.action(i), replay_.done(i)});
    values.insert(values.end(), {replay_.log_reward(i), replay_.priority(i)});
  }
  checkpoint.integers["dqn.replay.ring"] = {replay_.next_slot(), replay_.n_added()};
}

void SoftDqnLearner::restore(const Checkpoint& checkpoint) {
  const FlatVector<float>& target = checkpoint.float_array("dqn.target");
  if (target.size() != target_.store().values().size())
    throw std::runtime_error("checkpoint DQN target network does not match the configuration");
  target_.store().values() = target;
  const auto& states = checkpoint.integer_array("dqn.replay.states");
  const auto& next_states = checkpoint.integer_array("dqn.replay.next_states");
  const auto& fields = checkpoint.integer_array("dqn.replay.fields");
  const auto& values = checkpoint.double_array("dqn.replay.values");
  const auto& ring = checkpoint.integer_array("dqn.replay.ring");
  const int width = replay_.state_width();
  const size_t n = fields.size() / 2;
  if (fields.size() % 2 != 0 || values.size() != 2 * n || states.size() != n * width || next_states.size() != n * width || ring.size() != 2 ||
      n > size_t(replay_.capacity()))
    throw std::runtime_error("checkpoint replay buffer is corrupted");
  std::vector<int32_t> state(width), next_state(width);
  for (size_t i = 0; i < n; ++i) {
    std::copy(states.begin() + i * width, states.begin() + (i + 1) * width, state.begin());
    std::copy(next_states.begin() + i * width, next_states.begin() + (i + 1) * width, next_state.begin());
    replay_.add(state.data(), int(fields[2 * i]), next_state.data(), fields[2 * i + 1] != 0, values[2 * i],
                values[2 * i + 1]);
  }
  try {
    replay_.set_ring_position(int(ring[0]), ring[1]);
  } catch (const std::invalid_argument&) {
    throw std::runtime_error("checkpoint replay buffer is corrupted");
  }
}

}  // namespace gfn
