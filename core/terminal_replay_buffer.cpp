// TerminalReplayBuffer implementation: flat object storage, the three keep rules, exact draws.
#include "core/terminal_replay_buffer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace gfn {

ReplayPolicy replay_policy_from_name(const std::string& name) {
  for (ReplayPolicy policy : {ReplayPolicy::Fifo, ReplayPolicy::Uniform, ReplayPolicy::Reward})
    if (replay_policy_name(policy) == name) return policy;
  throw std::invalid_argument("unknown replay policy '" + name + "' (fifo, uniform, reward)");
}

std::string replay_policy_name(ReplayPolicy policy) {
  switch (policy) {
    case ReplayPolicy::Fifo: return "fifo";
    case ReplayPolicy::Uniform: return "uniform";
    case ReplayPolicy::Reward: return "reward";
  }
  return "?";
}

TerminalReplayBuffer::TerminalReplayBuffer(const ReplayConfig& config, int state_width)
    : config_(config), state_width_(state_width) {
  if (config.capacity < 1) throw std::invalid_argument("replay capacity must be at least 1");
  if (state_width < 1) throw std::invalid_argument("TerminalReplayBuffer: state width must be positive");
  if (!(std::isfinite(config.alpha) && config.alpha >= 0))
    throw std::invalid_argument("replay alpha must be finite and >= 0");
}

std::string TerminalReplayBuffer::key_of(const int32_t* object) const {
  return std::string(reinterpret_cast<const char*>(object), sizeof(int32_t) * state_width_);
}

void TerminalReplayBuffer::put(int slot, const int32_t* object, double log_reward) {
  if (slot == size()) {
    objects_.insert(objects_.end(), object, object + state_width_);
    log_rewards_.push_back(log_reward);
  } else {
    if (config_.deduplicate) slot_of_.erase(key_of(this->object(slot)));
    std::copy(object, object + state_width_, objects_.begin() + int64_t(slot) * state_width_);
    log_rewards_[slot] = log_reward;
  }
  if (config_.deduplicate) slot_of_[key_of(object)] = slot;
}

void TerminalReplayBuffer::add(const int32_t* object, double log_reward, Rng& rng) {
  if (config_.deduplicate && slot_of_.count(key_of(object))) return;
  ++n_offered_;
  if (size() < config_.capacity) {
    put(size(), object, log_reward);
    return;
  }
  switch (config_.policy) {
    case ReplayPolicy::Fifo:
      put(next_fifo_, object, log_reward);
      next_fifo_ = (next_fifo_ + 1) % config_.capacity;
      return;
    case ReplayPolicy::Uniform: {
      // Algorithm R: keep the k-th offer with probability capacity / k, in a uniform slot.
      const uint64_t pick = rng.next_u64() % uint64_t(n_offered_);
      if (pick < uint64_t(config_.capacity)) put(int(pick), object, log_reward);
      return;
    }
    case ReplayPolicy::Reward: {
      int lowest = 0;
      for (int slot = 1; slot < size(); ++slot)
        if (log_rewards_[slot] < log_rewards_[lowest]) lowest = slot;
      if (log_reward > log_rewards_[lowest]) put(lowest, object, log_reward);
      return;
    }
  }
}

void TerminalReplayBuffer::add_terminals(const TrajectoryBatch& batch, int first, int count, Rng& rng) {
  for (int b = first; b < first + count; ++b) add(batch.terminal_state(b), batch.log_rewards[b], rng);
}

double TerminalReplayBuffer::draw_probability(int slot) const {
  if (config_.policy != ReplayPolicy::Reward) return 1.0 / size();
  const double max_log_reward = *std::max_element(log_rewards_.begin(), log_rewards_.end());
  if (max_log_reward == -std::numeric_limits<double>::infinity()) return 1.0 / size();  // all R = 0
  double total = 0;
  for (double log_reward : log_rewards_) total += std::exp(config_.alpha * (log_reward - max_log_reward));
  return std::exp(config_.alpha * (log_rewards_[slot] - max_log_reward)) / total;
}

void TerminalReplayBuffer::draw(int n, Rng& rng, std::vector<int32_t>& objects) {
  if (size() == 0) throw std::logic_error("TerminalReplayBuffer::draw: the buffer is empty");
  objects.resize(size_t(n) * state_width_);
  const bool by_reward = config_.policy == ReplayPolicy::Reward &&
                         *std::max_element(log_rewards_.begin(), log_rewards_.end()) !=
                             -std::numeric_limits<double>::infinity();
  // Reward: cumulative weights R_i^alpha / R_max^alpha (in (0, 1] for the best object, no overflow).
  std::vector<double>& cumulative = cumulative_;
  if (by_reward) {
    const double max_log_reward = *std::max_element(log_rewards_.begin(), log_rewards_.end());
    cumulative.resize(size());
    double total = 0;
    for (int slot = 0; slot < size(); ++slot) {
      total += std::exp(config_.alpha * (log_rewards_[slot] - max_log_reward));
      cumulative[slot] = total;
    }
  }
  for (int j = 0; j < n; ++j) {
    int slot;
    if (by_reward) {
      const double u = rng.uniform() * cumulative.back();
      slot = int(std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin());
      slot = std::min(slot, size() - 1);  // u rounded up to the total
    } else {
      slot = int(rng.uniform_int(uint32_t(size())));
    }
    std::copy(object(slot), object(slot) + state_width_, objects.begin() + int64_t(j) * state_width_);
  }
}

void TerminalReplayBuffer::save(Checkpoint& checkpoint, const std::string& prefix) const {
  checkpoint.integers[prefix + "objects"].assign(objects_.begin(), objects_.end());
  checkpoint.doubles[prefix + "log_rewards"] = log_rewards_;
  checkpoint.integers[prefix + "counters"] = {next_fifo_, n_offered_};
}

void TerminalReplayBuffer::restore(const Checkpoint& checkpoint, const std::string& prefix) {
  const auto& objects = checkpoint.integer_array(prefix + "objects");
  const std::vector<double>& log_rewards = checkpoint.double_array(prefix + "log_rewards");
  const auto& counters = checkpoint.integer_array(prefix + "counters");
  const int64_t size = int64_t(log_rewards.size());
  if (counters.size() != 2 || size > config_.capacity || int64_t(objects.size()) != size * state_width_ ||
      counters[0] < 0 || counters[0] >= config_.capacity || counters[1] < size)
    throw std::runtime_error("checkpoint replay buffer does not match the configuration");
  objects_.clear();
  log_rewards_.clear();
  slot_of_.clear();
  std::vector<int32_t> object(state_width_);
  for (int64_t slot = 0; slot < size; ++slot) {
    for (int c = 0; c < state_width_; ++c) object[c] = int32_t(objects[slot * state_width_ + c]);
    put(int(slot), object.data(), log_rewards[slot]);
  }
  next_fifo_ = int(counters[0]);
  n_offered_ = counters[1];
}

}  // namespace gfn
