// BitSeqAutoregressive: append a word at the end of the filled prefix; remove the last word. The
// reward, modes and bit-string conversions live in BitSeqReward. Not allocating on any per-state path.
// A state is S = L int32 whose filled slots form a prefix (found by binary search).
#include "envs/bitseq_autoregressive.hpp"

#include <cstring>
#include <utility>

#include "envs/checked_arithmetic.hpp"

namespace gfn {

BitSeqAutoregressive::BitSeqAutoregressive(int n_bits, int word_bits, double beta, int mode_threshold)
    : BitSeqAutoregressive(n_bits, word_bits, bitseq_default_modes(n_bits), beta, mode_threshold) {}

BitSeqAutoregressive::BitSeqAutoregressive(int n_bits, int word_bits, std::vector<std::string> modes, double beta,
                                           int mode_threshold)
    : BitSeqBase(n_bits, word_bits, std::move(modes), beta, mode_threshold) {
  n_states_ = 0;
  for (int length = 0; length <= n_slots_ && n_states_ >= 0; ++length)
    n_states_ = checked_add(n_states_, checked_power(empty_word_, length));
}

std::string BitSeqAutoregressive::name() const { return name_with_prefix("bitseq-ar"); }

std::string BitSeqAutoregressive::description() const {
  return "BitSeq, autoregressive: append k-bit words left to right (a tree), n/k moves, no exit; "
         "log R = -beta * Hamming distance to the nearest mode";
}

int BitSeqAutoregressive::filled_slots(const int32_t* state) const {
  int low = 0, high = n_slots_;  // the filled prefix is [0, t): binary search for t
  while (low < high) {
    const int middle = (low + high) / 2;
    if (state[middle] == empty_word_) high = middle;
    else low = middle + 1;
  }
  return low;
}

void BitSeqAutoregressive::forward_mask(const int32_t* state, uint8_t* mask) const {
  std::memset(mask, !is_final(state), empty_word_);
}

void BitSeqAutoregressive::backward_mask(const int32_t* state, uint8_t* mask) const { mask[0] = !is_initial(state); }

void BitSeqAutoregressive::step(int32_t* state, int action) const { state[filled_slots(state)] = action; }

void BitSeqAutoregressive::backward_step(int32_t* state, int) const { state[filled_slots(state) - 1] = empty_word_; }

int BitSeqAutoregressive::backward_action_of(const int32_t*, int) const { return 0; }

int BitSeqAutoregressive::forward_action_of(const int32_t* state, int) const { return state[filled_slots(state) - 1]; }

int BitSeqAutoregressive::parents(const int32_t* state, int32_t* parent_states, int* actions) const {
  const int filled = filled_slots(state);
  if (filled == 0) return 0;
  std::memcpy(parent_states, state, sizeof(int32_t) * n_slots_);
  parent_states[filled - 1] = empty_word_;
  actions[0] = state[filled - 1];
  return 1;
}

void BitSeqAutoregressive::maxent_backward_logprobs(const int32_t*, double* logp) const { logp[0] = 0.0; }

int64_t BitSeqAutoregressive::state_index(const int32_t* state) const {
  uint64_t shorter_states = 0, level_size = 1, value = 0;  // value: the words as a base-2^k number
  const int filled = filled_slots(state);
  for (int slot = 0; slot < filled; ++slot) {
    shorter_states += level_size;
    level_size <<= word_bits_;
    value = (value << word_bits_) | static_cast<uint64_t>(state[slot]);
  }
  return static_cast<int64_t>(shorter_states + value);
}

void BitSeqAutoregressive::state_from_index(int64_t index, int32_t* state) const {
  uint64_t rest = static_cast<uint64_t>(index), level_size = 1;
  int filled = 0;
  while (filled < n_slots_ && rest >= level_size) {
    rest -= level_size;
    level_size <<= word_bits_;
    ++filled;
  }
  for (int slot = n_slots_ - 1; slot >= 0; --slot) {
    if (slot >= filled) {
      state[slot] = empty_word_;
    } else {
      state[slot] = static_cast<int32_t>(rest & static_cast<uint64_t>(empty_word_ - 1));
      rest >>= word_bits_;
    }
  }
}

std::string BitSeqAutoregressive::action_name(int action) const { return "append " + reward_.word_string(action); }

}  // namespace gfn
