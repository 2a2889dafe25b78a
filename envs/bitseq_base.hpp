// BitSeqBase: what the two BitSeq environments share (docs/environments.md): n bits in L = n/k slots of
// k-bit words, a slot holding a word in [0, 2^k) or EMPTY = 2^k; s_0 all EMPTY; no exit, L moves per
// trajectory to a full sequence; the reward and modes of BitSeqReward; the K-hot encoding, one one-hot
// over 2^k+1 values per slot (W = L*(2^k+1), K = L), and OneHotState when the states fit in an int32.
// Not an environment by itself: BitSeq (fill any empty slot) and BitSeqAutoregressive (append) add the
// moves, the numbering of states and the name. Shapes: a state is S = L int32.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "envs/bitseq_reward.hpp"
#include "envs/environment.hpp"

namespace gfn {

class BitSeqBase : public Environment {
 public:
  const BitSeqReward& reward() const { return reward_; }  // modes, distances, bits <-> state, test set
  int32_t empty_word() const { return empty_word_; }       // 2^k
  // Rows of words for bit strings of n '0'/'1' (e.g. reward().test_set()); M x L. Throws
  // std::invalid_argument on a malformed string.
  StateMatrix states_from_bits(const std::vector<std::string>& bit_strings) const;

  int state_width() const override { return n_slots_; }
  int exit_action() const override { return -1; }
  int max_trajectory_length() const override { return n_slots_; }
  void initial_state(int32_t* state) const override;
  double log_reward(const int32_t* state) const override { return reward_.log_reward(state); }  // final x

  Encoding default_encoding() const override { return Encoding::KHot; }
  // OneHotState: -1 when the number of states does not fit in an int32 (e.g. n = 120).
  int encoding_width(Encoding encoding) const override;
  int encoding_active(Encoding encoding) const override;
  void encode_active(const int32_t* state, Encoding encoding, int32_t* active) const override;

  bool provides(Capability capability) const override {
    return capability == Capability::MaxEntBackward || Environment::provides(capability);
  }
  int64_t n_modes() const override { return reward_.n_modes(); }
  int64_t mode_of(const int32_t* state) const override { return reward_.mode_of(state); }  // final x
  int64_t n_states() const override { return n_states_; }  // -1 when it does not fit in int64

  std::string state_string(const int32_t* state) const override { return reward_.bits_of(state); }  // '.' empty
  // No floor (log R = -beta d would be flattened beyond some distance); epsilon 0.001 as in the papers.
  TrainingDefaults training_defaults() const override {
    return TrainingDefaults{-std::numeric_limits<double>::infinity(), 0.001};
  }
  std::vector<std::pair<std::string, double>> reward_constants() const override {
    return {{"beta", reward_.beta()}};
  }

 protected:
  // Throws std::invalid_argument as BitSeqReward does. The derived class sets n_states_.
  BitSeqBase(int n_bits, int word_bits, std::vector<std::string> modes, double beta, int mode_threshold);
  std::string name_with_prefix(const std::string& prefix) const;  // "<prefix>(n=120,k=8,beta=2)"

  BitSeqReward reward_;
  int word_bits_;       // k
  int n_slots_;         // L
  int32_t empty_word_;  // 2^k
  int64_t n_states_ = -1;
};

}  // namespace gfn
