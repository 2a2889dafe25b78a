// An environment of your own in one file: binary sequences of length 8 built left to right, rewarded
// for containing the motif 101. It implements the required part of gfn::Environment (see
// envs/environment.hpp) plus enumeration, so the whole DAG can be checked and the trained sampler
// compared exactly with R/Z. Used by motif_sequences.cpp (train and check) and motif_gfn.cpp (a gfn
// command that knows it).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "envs/environment.hpp"

constexpr int kLength = 8;

// A state is [length, bit_0, ..., bit_7] (unfilled bits are 0). Forward action b appends bit b;
// the only backward action removes the last bit. A full sequence is final (there is no exit action).
class MotifSequences : public gfn::Environment {
 public:
  std::string name() const override { return "motif-sequences(8)"; }
  // Optional: one line for `gfn info` (motif_gfn.cpp).
  std::string description() const override {
    return "binary sequences of length 8 built left to right, no exit; R = 0.1 + the number of 101 motifs";
  }
  int state_width() const override { return 1 + kLength; }
  int n_actions() const override { return 2; }
  int n_backward_actions() const override { return 1; }
  int exit_action() const override { return -1; }
  int max_trajectory_length() const override { return kLength; }

  void initial_state(int32_t* state) const override { std::fill(state, state + 1 + kLength, 0); }
  bool is_final(const int32_t* state) const override { return state[0] == kLength; }
  void forward_mask(const int32_t* state, uint8_t* mask) const override { mask[0] = mask[1] = !is_final(state); }
  void backward_mask(const int32_t* state, uint8_t* mask) const override { mask[0] = state[0] > 0; }
  void step(int32_t* state, int bit) const override { state[1 + state[0]++] = bit; }
  void backward_step(int32_t* state, int) const override { state[1 + --state[0]] = 0; }
  int backward_action_of(const int32_t*, int) const override { return 0; }
  int forward_action_of(const int32_t* state, int) const override { return state[state[0]]; }  // the last bit

  // R(x) = 0.1 + the number of times 101 occurs in x (overlaps count).
  double log_reward(const int32_t* state) const override {
    int motifs = 0;
    for (int i = 0; i + 2 < kLength; ++i) motifs += state[1 + i] == 1 && state[2 + i] == 0 && state[3 + i] == 1;
    return std::log(0.1 + motifs);
  }

  // What the network sees: per position, one of (unfilled, 0, 1). K = 8 active inputs of W = 24.
  gfn::Encoding default_encoding() const override { return gfn::Encoding::KHot; }
  int encoding_width(gfn::Encoding encoding) const override { return encoding == gfn::Encoding::KHot ? 3 * kLength : -1; }
  int encoding_active(gfn::Encoding) const override { return kLength; }
  void encode_active(const int32_t* state, gfn::Encoding, int32_t* active) const override {
    for (int i = 0; i < kLength; ++i) active[i] = 3 * i + (i < state[0] ? 1 + state[1 + i] : 0);
  }

  // Optional: enumeration. A sequence of length n with value v (bit_0 most significant) has index
  // 2^n - 1 + v, a bijection onto [0, 2^9 - 1).
  int64_t n_states() const override { return (int64_t(1) << (kLength + 1)) - 1; }
  int64_t state_index(const int32_t* state) const override {
    int64_t value = 0;
    for (int i = 0; i < state[0]; ++i) value = 2 * value + state[1 + i];
    return (int64_t(1) << state[0]) - 1 + value;
  }
  void state_from_index(int64_t index, int32_t* state) const override {
    initial_state(state);
    while ((int64_t(1) << (state[0] + 1)) - 1 <= index) ++state[0];
    int64_t value = index - ((int64_t(1) << state[0]) - 1);
    for (int i = state[0] - 1; i >= 0; --i, value /= 2) state[1 + i] = int32_t(value % 2);
  }
};
