// HyperGrid (docs/environments.md): states are D coordinates in {0..H-1}, D+1 forward actions
// (action d < D adds 1 to x_d; action D is exit, valid everywhere, also at s0) and D backward ones.
// Reward R = R0 + R1 [all coordinates outer] + R2 [all coordinates in the band], with the indicators
// computed in integers. Grid (the 16x16 demo) is a preset of this class, not a second implementation.
// Not a policy and not an enumerator (see envs/enumeration.hpp).
// Shapes: a state is S = D int32; encodings K-hot (W = D*H, K = D) and OneHotState (W = H^D, K = 1).
//
//   HyperGrid env(4, 20, "standard");   HyperGrid grid = HyperGrid::grid();
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "envs/environment.hpp"

namespace gfn {

struct HyperGridReward {
  double r0 = 1e-3;
  double r1 = 0.5;
  double r2 = 2.0;
};

// The named reward presets (standard, hard, easy, medium, hard-tgfn, challenging, impossible).
// Throws std::invalid_argument naming the valid presets on an unknown name.
HyperGridReward hypergrid_reward_preset(const std::string& preset);
const std::vector<std::string>& hypergrid_reward_preset_names();

class HyperGrid : public Environment {
 public:
  // Throws std::invalid_argument when D < 1, H < 2, a reward is negative or not finite, all three
  // rewards are 0, or D*H does not fit in an int. R0 = 0 is allowed: log R = -inf off the bonuses.
  HyperGrid(int ndim, int height, HyperGridReward reward);
  HyperGrid(int ndim, int height, double r0, double r1, double r2);
  HyperGrid(int ndim, int height, const std::string& preset);
  // The Grid demo: D = 2, H = 16, R0 = 0.01, R1 = 0.5, R2 = 2, one-hot state encoding, actions
  // "Down" (row + 1 = coordinate 0), "Right", "Terminate"; name "grid".
  static HyperGrid grid();

  int ndim() const { return ndim_; }
  int height() const { return height_; }
  HyperGridReward reward() const { return reward_; }
  // R(x) itself (not its log), exact up to the rounding of R0 + R1 + R2.
  double reward_value(const int32_t* state) const;

  std::string name() const override { return name_; }
  std::string description() const override;
  int state_width() const override { return ndim_; }
  int n_actions() const override { return ndim_ + 1; }
  int n_backward_actions() const override { return ndim_; }
  int exit_action() const override { return ndim_; }
  int max_trajectory_length() const override { return ndim_ * (height_ - 1) + 1; }
  int max_parents() const override { return ndim_; }

  void initial_state(int32_t* state) const override;
  bool is_initial(const int32_t* state) const override;
  bool is_final(const int32_t* state) const override;  // never: exit is always valid
  void forward_mask(const int32_t* state, uint8_t* mask) const override;
  void backward_mask(const int32_t* state, uint8_t* mask) const override;
  void step(int32_t* state, int action) const override;
  void backward_step(int32_t* state, int backward_action) const override;
  int backward_action_of(const int32_t* state, int action) const override;
  int forward_action_of(const int32_t* state, int backward_action) const override;
  double log_reward(const int32_t* state) const override;
  int parents(const int32_t* state, int32_t* parent_states, int* actions) const override;

  Encoding default_encoding() const override { return default_encoding_; }
  // OneHotState: -1 when H^D does not fit in an int32 (the encoding is then unavailable).
  int encoding_width(Encoding encoding) const override;
  int encoding_active(Encoding encoding) const override;
  void encode_active(const int32_t* state, Encoding encoding, int32_t* active) const override;

  // P_B(x - e_d | x) = x_d / |x|_1.
  void maxent_backward_logprobs(const int32_t* state, double* logp) const override;
  bool provides(Capability capability) const override {
    return capability == Capability::MaxEntBackward || Environment::provides(capability);
  }

  // Modes are the states with R = R0 + R1 + R2. mode_of gives a dense id in [0, n_modes): the
  // mixed-radix number of the coordinates' ranks among the mode coordinates. n_modes is the exact
  // product over d of the mode coordinates per dimension, or -1 when it does not fit in int64 (the
  // ids are then taken modulo 2^64 and no longer unique).
  int64_t n_modes() const override { return n_modes_; }
  int64_t mode_of(const int32_t* state) const override;

  // idx = sum_d x_d * H^(D-1-d); n_states = H^D, or -1 when it does not fit in int64 (the index is
  // then meaningless, computed modulo 2^64 without overflow).
  int64_t n_states() const override { return n_states_; }
  int64_t state_index(const int32_t* state) const override;
  void state_from_index(int64_t index, int32_t* state) const override;

  std::string action_name(int action) const override;
  std::string state_string(const int32_t* state) const override;  // "(2,13)"
  // TB and SubTB clip log R at -12: R0 may be 0 (log R = -inf) and the uncovered grid is flat anyway.
  // Exploration: a quarter of each batch is drawn uniformly among the grid's cells (trained on through
  // P_B), no epsilon. The modes sit in far corners behind a low-reward plateau that on-policy rollouts,
  // with or without epsilon, rarely cross; uniform draws reach every corner (docs/cli.md, "Exploration defaults").
  TrainingDefaults training_defaults() const override { return TrainingDefaults{-12.0, 0.0, 0.25}; }
  std::vector<std::pair<std::string, double>> reward_constants() const override {
    return {{"R0", reward_.r0}, {"R1", reward_.r1}, {"R2", reward_.r2}};
  }

 private:
  int ndim_;
  int height_;
  HyperGridReward reward_;
  std::string name_;
  Encoding default_encoding_ = Encoding::KHot;
  bool grid_action_names_ = false;
  int64_t n_states_;
  int64_t n_modes_;
  int mode_coordinates_ = 0;                // per dimension
  std::vector<uint8_t> outer_;              // [H]: 2|2x - (H-1)| > H-1
  std::vector<uint8_t> band_;               // [H]: 3(H-1) < 5|2x - (H-1)| < 4(H-1)
  std::vector<int32_t> mode_rank_;          // [H]: rank among the mode coordinates, or -1
  double log_reward_by_bonus_[3];           // log of R0, R0 + R1, R0 + R1 + R2
  double reward_by_bonus_[3];
};

}  // namespace gfn
