// The shared part of the BitSeq environments (see bitseq_base.hpp). Not allocating on any per-state path.
#include "envs/bitseq_base.hpp"

#include <climits>

#include "util/format.hpp"

namespace gfn {

BitSeqBase::BitSeqBase(int n_bits, int word_bits, std::vector<std::string> modes, double beta, int mode_threshold)
    : reward_(n_bits, word_bits, std::move(modes), beta, mode_threshold),
      word_bits_(word_bits),
      n_slots_(n_bits / word_bits),
      empty_word_(1 << word_bits) {}

std::string BitSeqBase::name_with_prefix(const std::string& prefix) const {
  return prefix + "(n=" + std::to_string(reward_.n_bits()) + ",k=" + std::to_string(word_bits_) +
         ",beta=" + format_number(reward_.beta()) + ")";
}

StateMatrix BitSeqBase::states_from_bits(const std::vector<std::string>& bit_strings) const {
  StateMatrix states(int64_t(bit_strings.size()), n_slots_);
  for (size_t i = 0; i < bit_strings.size(); ++i) reward_.words_from_bits(bit_strings[i], states.row(i).data());
  return states;
}

void BitSeqBase::initial_state(int32_t* state) const {
  for (int slot = 0; slot < n_slots_; ++slot) state[slot] = empty_word_;
}

int BitSeqBase::encoding_width(Encoding encoding) const {
  if (encoding == Encoding::KHot) return n_slots_ * (empty_word_ + 1);
  return n_states_ >= 0 && n_states_ <= INT32_MAX ? static_cast<int>(n_states_) : -1;
}

int BitSeqBase::encoding_active(Encoding encoding) const { return encoding == Encoding::KHot ? n_slots_ : 1; }

void BitSeqBase::encode_active(const int32_t* state, Encoding encoding, int32_t* active) const {
  if (encoding == Encoding::KHot) {
    for (int slot = 0; slot < n_slots_; ++slot) active[slot] = slot * (empty_word_ + 1) + state[slot];
  } else {
    active[0] = static_cast<int32_t>(state_index(state));
  }
}

}  // namespace gfn
