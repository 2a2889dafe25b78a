// TerminalReplayBuffer implementation: flat object storage, a hash table of slots for de-duplication,
// the three keep rules (an eviction heap for the reward rule), exact draws.
#include "core/training/terminal_replay_buffer.hpp"

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

// ---------------------------------------------------------------------------------------------
// De-duplication: slots in an open-addressing table keyed by the stored object's bytes

uint64_t TerminalReplayBuffer::hash_of(const int32_t* object) const {
  uint64_t hash = 0x9e3779b97f4a7c15ULL;
  for (int c = 0; c < state_width_; ++c) {
    hash = (hash ^ uint32_t(object[c])) * 0xff51afd7ed558ccdULL;
    hash ^= hash >> 32;
  }
  return hash;
}

int TerminalReplayBuffer::find_slot(const int32_t* object) const {
  if (index_.empty()) return -1;
  const size_t mask = index_.size() - 1;
  for (size_t position = hash_of(object) & mask;; position = (position + 1) & mask) {
    const int slot = index_[position];
    if (slot < 0) return -1;
    if (std::equal(object, object + state_width_, this->object(slot))) return slot;
  }
}

void TerminalReplayBuffer::index_insert(int slot) {
  if (2 * (size_t(size()) + 1) > index_.size()) {
    index_grow();  // indexes every stored slot, this one included
    return;
  }
  const size_t mask = index_.size() - 1;
  size_t position = hash_of(object(slot)) & mask;
  while (index_[position] >= 0) position = (position + 1) & mask;
  index_[position] = slot;
}

// Backward-shift deletion: later entries of the probe run move up so that no lookup stops early.
void TerminalReplayBuffer::index_erase(int slot) {
  const size_t mask = index_.size() - 1;
  size_t hole = hash_of(object(slot)) & mask;
  while (index_[hole] != slot) hole = (hole + 1) & mask;
  for (size_t next = (hole + 1) & mask; index_[next] >= 0; next = (next + 1) & mask) {
    const size_t home = hash_of(object(index_[next])) & mask;
    // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
    const bool home_after_hole = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
    if (!home_after_hole) {
      index_[hole] = index_[next];
      hole = next;
    }
  }
  index_[hole] = -1;
}

void TerminalReplayBuffer::index_grow() {
  size_t table_size = 16;
  while (table_size < 2 * (size_t(size()) + 1)) table_size *= 2;
  table_size *= 2;
  index_.assign(table_size, -1);
  const size_t mask = table_size - 1;
  for (int slot = 0; slot < size(); ++slot) {
    size_t position = hash_of(object(slot)) & mask;
    while (index_[position] >= 0) position = (position + 1) & mask;
    index_[position] = slot;
  }
}

// ---------------------------------------------------------------------------------------------
// Keep rules

bool TerminalReplayBuffer::evicted_before(int a, int b) const {
  return log_rewards_[a] < log_rewards_[b] || (log_rewards_[a] == log_rewards_[b] && a < b);
}

void TerminalReplayBuffer::put(int slot, const int32_t* object, double log_reward) {
  const bool append = slot == size();
  if (append) {
    objects_.insert(objects_.end(), object, object + state_width_);
    log_rewards_.push_back(log_reward);
  } else {
    if (config_.deduplicate) index_erase(slot);
    std::copy(object, object + state_width_, objects_.begin() + int64_t(slot) * state_width_);
    log_rewards_[slot] = log_reward;
  }
  if (config_.deduplicate) index_insert(slot);
  if (append && config_.policy == ReplayPolicy::Reward) {
    eviction_heap_.push_back(slot);
    std::push_heap(eviction_heap_.begin(), eviction_heap_.end(), [this](int a, int b) { return evicted_before(b, a); });
  }
}

void TerminalReplayBuffer::add(const int32_t* object, double log_reward, Rng& rng) {
  if (config_.deduplicate && find_slot(object) >= 0) return;
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
      const int lowest = eviction_heap_.front();
      if (!(log_reward > log_rewards_[lowest])) return;
      // The top leaves the heap, its slot takes the new object, and goes back in at its new rank.
      auto order = [this](int a, int b) { return evicted_before(b, a); };
      std::pop_heap(eviction_heap_.begin(), eviction_heap_.end(), order);
      put(lowest, object, log_reward);
      std::push_heap(eviction_heap_.begin(), eviction_heap_.end(), order);
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
  index_.clear();
  eviction_heap_.clear();
  std::vector<int32_t> object(state_width_);
  for (int64_t slot = 0; slot < size; ++slot) {
    for (int c = 0; c < state_width_; ++c) object[c] = int32_t(objects[slot * state_width_ + c]);
    put(int(slot), object.data(), log_rewards[slot]);
  }
  next_fifo_ = int(counters[0]);
  n_offered_ = counters[1];
}

}  // namespace gfn
