// BitSeq, autoregressive (docs/environments.md; torchgfn's BitSequence): the same n-bit sequences of
// L = n/k words, but words are appended left to right: forward action w in [0, 2^k) writes w into the
// first EMPTY slot (A = 2^k, no exit, L moves per trajectory); the one backward action removes the
// last word (A_b = 1). The DAG is a tree, so P_B = 1. Reward and modes: BitSeqReward, as in BitSeq.
// Shapes: a state is S = L int32 (filled slots form a prefix, EMPTY = 2^k after it); K-hot encoding
// as BitSeq (W = L*(2^k+1), K = L); OneHotState numbers the tree level by level when it fits.
//
//   BitSeqAutoregressive env(8, 2);  // n = 8, k = 2: 4 slots, 4 words
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "envs/bitseq_reward.hpp"
#include "envs/environment.hpp"

namespace gfn {

class BitSeqAutoregressive : public Environment {
 public:
  // Default modes: bitseq_default_modes(n). Throws std::invalid_argument as BitSeqReward does.
  explicit BitSeqAutoregressive(int n_bits = 120, int word_bits = 8, double beta = 2.0, int mode_threshold = 30);
  BitSeqAutoregressive(int n_bits, int word_bits, std::vector<std::string> modes, double beta = 2.0,
                       int mode_threshold = 30);

  const BitSeqReward& reward() const { return reward_; }  // modes, distances, bits <-> state, test set
  int32_t empty_word() const { return empty_word_; }       // 2^k
  int filled_slots(const int32_t* state) const;            // t: the length of the filled prefix

  std::string name() const override;  // "bitseq-ar(n=120,k=8,beta=2)"
  int state_width() const override { return n_slots_; }
  int n_actions() const override { return 1 << word_bits_; }
  int n_backward_actions() const override { return 1; }
  int exit_action() const override { return -1; }
  int max_trajectory_length() const override { return n_slots_; }
  int max_parents() const override { return 1; }

  void initial_state(int32_t* state) const override;
  bool is_initial(const int32_t* state) const override { return state[0] == empty_word_; }
  bool is_final(const int32_t* state) const override { return state[n_slots_ - 1] != empty_word_; }
  void forward_mask(const int32_t* state, uint8_t* mask) const override;
  void backward_mask(const int32_t* state, uint8_t* mask) const override;
  void step(int32_t* state, int action) const override;
  void backward_step(int32_t* state, int backward_action) const override;
  int backward_action_of(const int32_t* state, int action) const override;
  int forward_action_of(const int32_t* state, int backward_action) const override;
  double log_reward(const int32_t* state) const override { return reward_.log_reward(state); }  // final x
  int parents(const int32_t* state, int32_t* parent_states, int* actions) const override;

  Encoding default_encoding() const override { return Encoding::KHot; }
  // OneHotState: -1 when the number of states does not fit in an int32 (e.g. n = 120).
  int encoding_width(Encoding encoding) const override;
  int encoding_active(Encoding encoding) const override;
  void encode_active(const int32_t* state, Encoding encoding, int32_t* active) const override;

  // The single parent: log P_B = 0.
  void maxent_backward_logprobs(const int32_t* state, double* logp) const override;
  bool provides(Capability capability) const override {
    return capability == Capability::MaxEntBackward || Environment::provides(capability);
  }

  int64_t n_modes() const override { return reward_.n_modes(); }
  int64_t mode_of(const int32_t* state) const override { return reward_.mode_of(state); }  // final x

  // sum_{t=0..L} (2^k)^t, or -1 when it does not fit in int64. Index: the states of length t come
  // after all shorter ones, and among them in the order of their words read as a base-2^k number.
  int64_t n_states() const override { return n_states_; }
  int64_t state_index(const int32_t* state) const override;
  void state_from_index(int64_t index, int32_t* state) const override;

  std::string action_name(int action) const override;               // "append 00001111"
  std::string state_string(const int32_t* state) const override;    // bits, '.' for empty slots
  // No floor (log R = -beta d would be flattened beyond some distance); epsilon 0.001 as in the papers.
  TrainingDefaults training_defaults() const override {
    return TrainingDefaults{-std::numeric_limits<double>::infinity(), 0.001};
  }
  std::vector<std::pair<std::string, double>> reward_constants() const override {
    return {{"beta", reward_.beta()}};
  }

 private:
  BitSeqReward reward_;
  int word_bits_;
  int n_slots_;
  int32_t empty_word_;
  int64_t n_states_;
};

}  // namespace gfn
