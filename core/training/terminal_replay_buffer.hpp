// TerminalReplayBuffer: a store of terminal objects x (with log R(x)) seen in training, from which
// replay draws objects to be turned back into trajectories by backward sampling (core/training/backward_sampler.hpp),
// so it serves every objective. Not the DQN transition buffer (core/training/replay_buffer.hpp: its items are
// transitions whose priority is a loss updated after every use; here an item is an object whose priority
// is its fixed reward, so draws are exact over the stored rewards and no sum tree is needed).
//
// Policies (what is kept when full / how objects are drawn, with replacement):
//   fifo     keeps the newest `capacity` objects (the oldest is overwritten); draws uniformly.
//   uniform  reservoir sampling: the k-th object offered (k > capacity) replaces a uniformly chosen slot
//            with probability capacity / k, so every object offered so far is stored with the same
//            probability capacity / k; draws uniformly. Early discoveries are not pushed out by recency.
//   reward   keeps the `capacity` objects of highest reward: a new object replaces the stored one of
//            lowest log R (of several, the one in the lowest slot) when its log R is higher; ties keep
//            the stored one. A min-heap over (log R, slot) finds that object in O(log capacity).
//            Draws slot i with probability R_i^alpha / sum_j R_j^alpha (alpha >= 0; 0 is uniform).
// With `deduplicate`, an object already stored is not offered again (it counts for nothing); stored
// objects are found through an open-addressing hash table of slots (no allocation once full).
// Shapes: a stored object is S int32 (capacity x S in one flat array); draws write N x S.
//
//   TerminalReplayBuffer buffer({1000, ReplayPolicy::Reward, 1.0, true}, env.state_width());
//   buffer.add(x, log_reward, rng);
//   buffer.draw(8, rng, objects);   // 8 x S
//
// Thread contract: thread-compatible (one owner at a time; const methods may be called concurrently).
// draw() is not const: it reuses a scratch buffer. Once the buffer is full, add() and draw() (into a
// reused `objects`) allocate nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/network/checkpoint.hpp"
#include "core/training/trajectories.hpp"
#include "util/random.hpp"

namespace gfn {

enum class ReplayPolicy { Fifo, Uniform, Reward };

// Names as in settings: fifo, uniform, reward.
ReplayPolicy replay_policy_from_name(const std::string& name);
std::string replay_policy_name(ReplayPolicy policy);

struct ReplayConfig {
  int capacity = 10000;
  ReplayPolicy policy = ReplayPolicy::Reward;
  double alpha = 1;          // reward policy: draw probability proportional to R^alpha
  bool deduplicate = true;
};

class TerminalReplayBuffer {
 public:
  // Throws std::invalid_argument unless capacity >= 1, state_width >= 1 and alpha is finite and >= 0.
  TerminalReplayBuffer(const ReplayConfig& config, int state_width);

  // Offers one object (S int32) with its log R; rng is read only by the uniform (reservoir) policy.
  void add(const int32_t* object, double log_reward, Rng& rng);
  // Offers the terminal objects of trajectories [first, first + count) of a batch, in order.
  void add_terminals(const TrajectoryBatch& batch, int first, int count, Rng& rng);

  // Draws n objects with replacement under the policy's probabilities into `objects` (n x S, resized).
  // Throws std::logic_error when the buffer is empty.
  void draw(int n, Rng& rng, std::vector<int32_t>& objects);
  // The probability that one draw returns slot i.
  double draw_probability(int slot) const;

  const ReplayConfig& config() const { return config_; }
  int size() const { return int(log_rewards_.size()); }
  int64_t n_offered() const { return n_offered_; }  // objects offered (after de-duplication)
  const int32_t* object(int slot) const { return objects_.data() + int64_t(slot) * state_width_; }
  double log_reward(int slot) const { return log_rewards_[slot]; }

  // Checkpoint support: the contents and counters under names starting with `prefix`; restore()
  // into a buffer of the same configuration continues bit-identically. restore() throws on a mismatch.
  void save(Checkpoint& checkpoint, const std::string& prefix) const;
  void restore(const Checkpoint& checkpoint, const std::string& prefix);

 private:
  void put(int slot, const int32_t* object, double log_reward);  // writes a slot (append when slot == size)
  // Reward policy: true when slot a is evicted before slot b (lower log R, then lower slot).
  bool evicted_before(int a, int b) const;
  // De-duplication table: open addressing with linear probing over slots, -1 = empty.
  uint64_t hash_of(const int32_t* object) const;
  int find_slot(const int32_t* object) const;  // the slot storing `object`, or -1
  void index_insert(int slot);
  void index_erase(int slot);
  void index_grow();

  ReplayConfig config_;
  int state_width_;
  std::vector<int32_t> objects_;     // size x S
  std::vector<double> log_rewards_;  // size
  int next_fifo_ = 0;                // fifo: the slot the next object overwrites when full
  int64_t n_offered_ = 0;
  std::vector<int> index_;          // deduplicate: hash table of slots (power-of-two size, at most half full)
  std::vector<int> eviction_heap_;  // reward policy: slots, a heap whose top is evicted next
  std::vector<double> cumulative_;  // draw scratch: cumulative weights, size
};

}  // namespace gfn
