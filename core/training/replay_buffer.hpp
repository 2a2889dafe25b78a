// ReplayBuffer: prioritized replay of single transitions for soft DQN / Munchausen DQN (docs/objectives.md,
// Tiapkin et al. 2024). A ring of `capacity` slots (full: a new item overwrites the oldest) and a sum
// tree over the slots' weights, weight = priority^alpha, so add, update and a proportional draw cost
// O(log capacity). Not a trajectory store, not the DQN loss, no importance-sampling correction (the
// caller can build one from sample_probability()). Shapes: a transition is s (S int32), action a,
// s' (S int32), done, log R; all fields live in flat arrays (capacity x S for states), no per-item heap.
//
//   ReplayBuffer buffer(100000, env.state_width(), 0.5);
//   buffer.add(s, a, s_next, done, log_reward, loss);       // priority = the item's current loss
//   buffer.sample(256, rng, indices);                        // N slots, proportional to weight
//   buffer.update_priorities(indices.data(), losses.data(), 256);
//
// Thread contract: thread-compatible (one owner at a time; const methods may be called concurrently).
#pragma once

#include <cstdint>
#include <vector>

#include "util/random.hpp"

namespace gfn {

class ReplayBuffer {
 public:
  static constexpr int kDefaultCapacity = 100000;
  static constexpr double kDefaultAlpha = 0.5;
  // Priorities below this floor (including 0) are raised to it, so every stored item stays drawable.
  static constexpr double kMinPriority = 1e-6;

  // Throws std::invalid_argument unless 1 <= capacity <= 2^29, state_width >= 1 and 0 <= alpha <= 1
  // (alpha <= 1 keeps every weight >= kMinPriority, so no weight underflows to an undrawable 0).
  ReplayBuffer(int capacity, int state_width, double alpha = kDefaultAlpha);

  // Stores one transition in the next ring slot (overwriting the oldest item when full) and returns
  // that slot. log_reward is log R of the terminal state when `done` (ignored otherwise, stored as 0).
  // priority: clamped below to kMinPriority; throws std::invalid_argument when it is NaN or infinite.
  int add(const int32_t* state, int action, const int32_t* next_state, bool done, double log_reward,
          double priority);

  // Draws n slots with replacement, slot i with probability weight(i) / total_weight(), by stratified
  // sampling: draw j is a uniform point of the j-th of n equal segments of [0, total). `indices` is
  // resized to n. Deterministic given rng. Throws std::logic_error when the buffer is empty.
  void sample(int n, Rng& rng, std::vector<int>& indices) const;

  // Sets the priority of slots indices[0..n) (clamped and checked as in add()). A slot listed twice
  // gets the last of its priorities. Throws std::out_of_range for a slot not holding an item.
  void update_priorities(const int* indices, const double* priorities, int n);

  int capacity() const { return capacity_; }
  int state_width() const { return state_width_; }
  double alpha() const { return alpha_; }
  int size() const { return size_; }            // items stored, <= capacity
  int64_t n_added() const { return n_added_; }   // items ever added
  int next_slot() const { return next_; }         // the slot the next add() writes (the oldest when full)
  double total_weight() const { return tree_[1]; }  // sum of priority^alpha over stored items

  // Stored fields of slot i in [0, size()).
  const int32_t* state(int i) const { return states_.data() + int64_t(i) * state_width_; }
  const int32_t* next_state(int i) const { return next_states_.data() + int64_t(i) * state_width_; }
  int action(int i) const { return actions_[i]; }
  bool done(int i) const { return done_[i] != 0; }
  double log_reward(int i) const { return log_rewards_[i]; }
  double priority(int i) const { return priorities_[i]; }  // after clamping
  double weight(int i) const { return tree_[leaves_ + i]; } // priority^alpha
  double sample_probability(int i) const { return weight(i) / total_weight(); }

  // Checkpoint support: re-add the saved slots 0..size-1 in order (with their stored priorities) into
  // an empty buffer, then put the ring position back. The sum tree is then identical to the saved one.
  void set_ring_position(int next_slot, int64_t n_added);

  // Copies the fields of slots indices[0..n) into caller buffers: states and next_states N x S,
  // actions, done (0/1) and log_rewards N. Any pointer may be nullptr to skip that field.
  void gather(const int* indices, int n, int32_t* states, int* actions, int32_t* next_states, uint8_t* done,
              double* log_rewards) const;

 private:
  double checked_priority(double priority) const;
  void set_weight(int slot, double weight);  // leaf and its ancestors, O(log capacity)

  int capacity_;
  int state_width_;
  double alpha_;
  int size_ = 0;
  int next_ = 0;
  int64_t n_added_ = 0;
  std::vector<int32_t> states_;       // capacity x S
  std::vector<int32_t> next_states_;  // capacity x S
  std::vector<int> actions_;          // capacity
  std::vector<uint8_t> done_;         // capacity
  std::vector<double> log_rewards_;   // capacity
  std::vector<double> priorities_;    // capacity
  // Sum tree: node 1 is the root, node v has children 2v and 2v+1, leaves at [leaves_, 2 leaves_)
  // (leaves_ = capacity rounded up to a power of two; unused leaves hold 0). An inner node is the sum
  // of its two children, recomputed (not incremented) on every change, so totals never drift.
  int leaves_ = 1;
  std::vector<double> tree_;
};

}  // namespace gfn
