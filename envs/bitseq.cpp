// BitSeq (non-autoregressive): fill any EMPTY slot with any word; erase any filled slot. The reward,
// modes and bit-string conversions live in BitSeqReward. Not allocating on any per-state path.
// A state is S = L int32; forward action slot*2^k + word; backward action = slot.
#include "envs/bitseq.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "envs/checked_arithmetic.hpp"

namespace gfn {

BitSeq::BitSeq(int n_bits, int word_bits, double beta, int mode_threshold)
    : BitSeq(n_bits, word_bits, bitseq_default_modes(n_bits), beta, mode_threshold) {}

BitSeq::BitSeq(int n_bits, int word_bits, std::vector<std::string> modes, double beta, int mode_threshold)
    : BitSeqBase(n_bits, word_bits, std::move(modes), beta, mode_threshold) {
  n_states_ = checked_power(empty_word_ + 1, n_slots_);
}

std::string BitSeq::name() const { return name_with_prefix("bitseq"); }

std::string BitSeq::description() const {
  return "BitSeq, non-autoregressive: fill any empty k-bit slot with a word, n/k moves, no exit; "
         "log R = -beta * Hamming distance to the nearest mode";
}

bool BitSeq::is_initial(const int32_t* state) const {
  for (int slot = 0; slot < n_slots_; ++slot)
    if (state[slot] != empty_word_) return false;
  return true;
}

bool BitSeq::is_final(const int32_t* state) const {
  for (int slot = 0; slot < n_slots_; ++slot)
    if (state[slot] == empty_word_) return false;
  return true;
}

void BitSeq::forward_mask(const int32_t* state, uint8_t* mask) const {
  for (int slot = 0; slot < n_slots_; ++slot)
    std::memset(mask + (static_cast<size_t>(slot) << word_bits_), state[slot] == empty_word_, empty_word_);
}

void BitSeq::backward_mask(const int32_t* state, uint8_t* mask) const {
  for (int slot = 0; slot < n_slots_; ++slot) mask[slot] = state[slot] != empty_word_;
}

void BitSeq::step(int32_t* state, int action) const { state[action >> word_bits_] = action & (empty_word_ - 1); }

void BitSeq::backward_step(int32_t* state, int backward_action) const { state[backward_action] = empty_word_; }

int BitSeq::backward_action_of(const int32_t*, int action) const { return action >> word_bits_; }

int BitSeq::forward_action_of(const int32_t* state, int backward_action) const {
  return (backward_action << word_bits_) | state[backward_action];
}

int BitSeq::parents(const int32_t* state, int32_t* parent_states, int* actions) const {
  int count = 0;
  for (int slot = 0; slot < n_slots_; ++slot) {
    if (state[slot] == empty_word_) continue;
    int32_t* parent = parent_states + static_cast<size_t>(count) * n_slots_;
    std::memcpy(parent, state, sizeof(int32_t) * n_slots_);
    parent[slot] = empty_word_;
    actions[count++] = (slot << word_bits_) | state[slot];
  }
  return count;
}

int BitSeq::sample_uniform_backward(const int32_t*, Rng& rng, int* backward_actions) const {
  // Erasing from the end, each step picks uniformly among the slots not yet erased: a uniform
  // backward trajectory, and backward_actions[t] is the slot filled at step t+1.
  for (int t = 0; t < n_slots_; ++t) backward_actions[t] = t;
  for (int t = n_slots_ - 1; t > 0; --t) std::swap(backward_actions[t], backward_actions[rng.uniform_int(uint32_t(t + 1))]);
  return n_slots_;
}

StateMatrix BitSeq::test_states() const { return states_from_bits(reward_.test_set()); }

void BitSeq::maxent_backward_logprobs(const int32_t* state, double* logp) const {
  int filled = 0;
  for (int slot = 0; slot < n_slots_; ++slot) filled += state[slot] != empty_word_;
  const double log_uniform = -std::log(static_cast<double>(filled));
  for (int slot = 0; slot < n_slots_; ++slot)
    logp[slot] = state[slot] != empty_word_ ? log_uniform : -std::numeric_limits<double>::infinity();
}

int64_t BitSeq::state_index(const int32_t* state) const {
  uint64_t index = 0;
  for (int slot = 0; slot < n_slots_; ++slot) index = index * (empty_word_ + 1) + state[slot];
  return static_cast<int64_t>(index);
}

void BitSeq::state_from_index(int64_t index, int32_t* state) const {
  for (int slot = n_slots_ - 1; slot >= 0; --slot) {
    state[slot] = static_cast<int32_t>(index % (empty_word_ + 1));
    index /= empty_word_ + 1;
  }
}

std::string BitSeq::action_name(int action) const {
  return "slot" + std::to_string(action >> word_bits_) + "=" + reward_.word_string(action & (empty_word_ - 1));
}

}  // namespace gfn
