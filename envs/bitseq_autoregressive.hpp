// BitSeq, autoregressive (docs/environments.md; torchgfn's BitSequence): the same n-bit sequences of
// L = n/k words, but words are appended left to right: forward action w in [0, 2^k) writes w into the
// first EMPTY slot (A = 2^k, no exit, L moves per trajectory); the one backward action removes the
// last word (A_b = 1). The DAG is a tree, so P_B = 1. Slots, reward, encoding: BitSeqBase, as BitSeq.
// Shapes: a state is S = L int32 (filled slots form a prefix, EMPTY = 2^k after it); OneHotState
// numbers the tree level by level when it fits.
//
//   BitSeqAutoregressive env(8, 2);  // n = 8, k = 2: 4 slots, 4 words
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "envs/bitseq_base.hpp"

namespace gfn {

class BitSeqAutoregressive : public BitSeqBase {
 public:
  // Default modes: bitseq_default_modes(n). Throws std::invalid_argument as BitSeqReward does.
  explicit BitSeqAutoregressive(int n_bits = 120, int word_bits = 8, double beta = 2.0, int mode_threshold = 30);
  BitSeqAutoregressive(int n_bits, int word_bits, std::vector<std::string> modes, double beta = 2.0,
                       int mode_threshold = 30);

  int filled_slots(const int32_t* state) const;  // t: the length of the filled prefix

  std::string name() const override;  // "bitseq-ar(n=120,k=8,beta=2)"
  std::string description() const override;
  int n_actions() const override { return 1 << word_bits_; }
  int n_backward_actions() const override { return 1; }
  int max_parents() const override { return 1; }

  bool is_initial(const int32_t* state) const override { return state[0] == empty_word_; }
  bool is_final(const int32_t* state) const override { return state[n_slots_ - 1] != empty_word_; }
  void forward_mask(const int32_t* state, uint8_t* mask) const override;
  void backward_mask(const int32_t* state, uint8_t* mask) const override;
  void step(int32_t* state, int action) const override;
  void backward_step(int32_t* state, int backward_action) const override;
  int backward_action_of(const int32_t* state, int action) const override;
  int forward_action_of(const int32_t* state, int backward_action) const override;
  int parents(const int32_t* state, int32_t* parent_states, int* actions) const override;

  // The single parent: log P_B = 0.
  void maxent_backward_logprobs(const int32_t* state, double* logp) const override;

  // sum_{t=0..L} (2^k)^t states, or -1 when it does not fit in int64. Index: the states of length t
  // come after all shorter ones, and among them in the order of their words read as a base-2^k number.
  int64_t state_index(const int32_t* state) const override;
  void state_from_index(int64_t index, int32_t* state) const override;

  std::string action_name(int action) const override;  // "append 00001111"
};

}  // namespace gfn
