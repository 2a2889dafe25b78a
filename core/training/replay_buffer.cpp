// ReplayBuffer implementation: ring slots plus a sum tree over priority^alpha (see replay_buffer.hpp).
#include "core/training/replay_buffer.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace gfn {

ReplayBuffer::ReplayBuffer(int capacity, int state_width, double alpha)
    : capacity_(capacity), state_width_(state_width), alpha_(alpha) {
  if (capacity < 1 || capacity > (1 << 29)) throw std::invalid_argument("ReplayBuffer: capacity must be in [1, 2^29]");
  if (state_width < 1) throw std::invalid_argument("ReplayBuffer: state width must be positive");
  // alpha <= 1 keeps every weight >= kMinPriority (no underflow to a zero, undrawable weight).
  if (!(alpha >= 0 && alpha <= 1)) throw std::invalid_argument("ReplayBuffer: alpha must be in [0, 1]");
  while (leaves_ < capacity) leaves_ *= 2;
  tree_.assign(size_t(2) * leaves_, 0.0);
  states_.resize(size_t(capacity) * state_width);
  next_states_.resize(size_t(capacity) * state_width);
  actions_.resize(capacity);
  done_.resize(capacity);
  log_rewards_.resize(capacity);
  priorities_.resize(capacity);
}

double ReplayBuffer::checked_priority(double priority) const {
  if (!std::isfinite(priority))
    throw std::invalid_argument("ReplayBuffer: priority must be finite, got " + std::to_string(priority));
  return std::max(priority, kMinPriority);
}

void ReplayBuffer::set_weight(int slot, double weight) {
  int node = leaves_ + slot;
  tree_[node] = weight;
  for (node /= 2; node >= 1; node /= 2) tree_[node] = tree_[2 * node] + tree_[2 * node + 1];
}

int ReplayBuffer::add(const int32_t* state, int action, const int32_t* next_state, bool done, double log_reward,
                      double priority) {
  const double clamped = checked_priority(priority);
  const int slot = next_;
  std::copy(state, state + state_width_, states_.begin() + int64_t(slot) * state_width_);
  std::copy(next_state, next_state + state_width_, next_states_.begin() + int64_t(slot) * state_width_);
  actions_[slot] = action;
  done_[slot] = done ? 1 : 0;
  log_rewards_[slot] = done ? log_reward : 0.0;
  priorities_[slot] = clamped;
  set_weight(slot, std::pow(clamped, alpha_));
  next_ = (next_ + 1) % capacity_;
  size_ = std::min(size_ + 1, capacity_);
  ++n_added_;
  return slot;
}

void ReplayBuffer::set_ring_position(int next_slot, int64_t n_added) {
  if (next_slot < 0 || next_slot >= capacity_ || n_added < size_ || (size_ < capacity_ && next_slot != size_))
    throw std::invalid_argument("ReplayBuffer::set_ring_position: inconsistent ring position");
  next_ = next_slot;
  n_added_ = n_added;
}

void ReplayBuffer::sample(int n, Rng& rng, std::vector<int>& indices) const {
  if (size_ == 0) throw std::logic_error("ReplayBuffer::sample: the buffer is empty");
  if (n < 0) throw std::invalid_argument("ReplayBuffer::sample: n must be >= 0");
  indices.resize(n);
  const double total = total_weight();
  const double segment = total / n;
  for (int j = 0; j < n; ++j) {
    double u = (j + rng.uniform()) * segment;  // in [j, j+1) segments; rounding may reach total
    int node = 1;
    while (node < leaves_) {
      const int left = 2 * node;
      // Descend only into subtrees of positive weight: empty leaves (0) are never reached, and a u
      // rounded up to the total lands on the last positive leaf.
      if (u < tree_[left] || tree_[left + 1] <= 0) {
        node = left;
      } else {
        u -= tree_[left];
        node = left + 1;
      }
    }
    indices[j] = node - leaves_;
  }
}

void ReplayBuffer::update_priorities(const int* indices, const double* priorities, int n) {
  for (int j = 0; j < n; ++j) {
    const int slot = indices[j];
    if (slot < 0 || slot >= size_)
      throw std::out_of_range("ReplayBuffer::update_priorities: slot " + std::to_string(slot) + " holds no item");
    const double clamped = checked_priority(priorities[j]);
    priorities_[slot] = clamped;
    set_weight(slot, std::pow(clamped, alpha_));
  }
}

void ReplayBuffer::gather(const int* indices, int n, int32_t* states, int* actions, int32_t* next_states,
                          uint8_t* done, double* log_rewards) const {
  for (int j = 0; j < n; ++j) {
    const int slot = indices[j];
    if (slot < 0 || slot >= size_)
      throw std::out_of_range("ReplayBuffer::gather: slot " + std::to_string(slot) + " holds no item");
    if (states) std::copy(state(slot), state(slot) + state_width_, states + int64_t(j) * state_width_);
    if (next_states)
      std::copy(next_state(slot), next_state(slot) + state_width_, next_states + int64_t(j) * state_width_);
    if (actions) actions[j] = actions_[slot];
    if (done) done[j] = done_[slot];
    if (log_rewards) log_rewards[j] = log_rewards_[slot];
  }
}

}  // namespace gfn
