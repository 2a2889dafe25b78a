// BitSeq, non-autoregressive (docs/environments.md): n bits in L = n/k slots of k-bit words; a slot is a
// word in [0, 2^k) or EMPTY = 2^k. Forward action slot*2^k + word fills an EMPTY slot (A = L*2^k, no
// exit: a trajectory is exactly L moves and ends at a full sequence); backward action i erases filled
// slot i (A_b = L). Slots, reward, encoding: BitSeqBase. Not autoregressive: see bitseq_autoregressive.hpp.
// Shapes: a state is S = L int32; OneHotState numbers states in mixed radix 2^k+1, slot 0 most
// significant. Provides the test set of the rank correlation (its modes and their mutants).
//
//   BitSeq env;  // n = 120, k = 8, beta = 2, the 60 embedded modes, threshold 30
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "envs/bitseq_base.hpp"

namespace gfn {

class BitSeq : public BitSeqBase {
 public:
  // Default modes: bitseq_default_modes(n). Throws std::invalid_argument as BitSeqReward does.
  explicit BitSeq(int n_bits = 120, int word_bits = 8, double beta = 2.0, int mode_threshold = 30);
  BitSeq(int n_bits, int word_bits, std::vector<std::string> modes, double beta = 2.0, int mode_threshold = 30);

  std::string name() const override;  // "bitseq(n=120,k=8,beta=2)"
  std::string description() const override;
  int n_actions() const override { return n_slots_ << word_bits_; }
  int n_backward_actions() const override { return n_slots_; }
  int max_parents() const override { return n_slots_; }

  bool is_initial(const int32_t* state) const override;
  bool is_final(const int32_t* state) const override;
  void forward_mask(const int32_t* state, uint8_t* mask) const override;
  void backward_mask(const int32_t* state, uint8_t* mask) const override;
  void step(int32_t* state, int action) const override;
  void backward_step(int32_t* state, int backward_action) const override;
  int backward_action_of(const int32_t* state, int action) const override;
  int forward_action_of(const int32_t* state, int backward_action) const override;
  int parents(const int32_t* state, int32_t* parent_states, int* actions) const override;
  // A uniform fill order: a Fisher-Yates permutation of the slots (O(L)).
  int sample_uniform_backward(const int32_t* terminal, Rng& rng, int* backward_actions) const override;

  // Uniform over the t filled slots: log(1/t) (all t! fill orders reach a state).
  void maxent_backward_logprobs(const int32_t* state, double* logp) const override;
  bool provides(Capability capability) const override {
    return capability == Capability::TestSet || BitSeqBase::provides(capability);
  }
  StateMatrix test_states() const override;  // reward().test_set() as states

  // (2^k+1)^L states, or -1 when it does not fit in int64.
  int64_t state_index(const int32_t* state) const override;
  void state_from_index(int64_t index, int32_t* state) const override;

  std::string action_name(int action) const override;  // "slot3=00001111"
};

}  // namespace gfn
