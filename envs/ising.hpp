// Ising (docs/environments.md): a discrete energy-based model on the periodic L x L lattice. A state is
// D = L*L spins stored as int32, 0 = unset, -1 = down, +1 = up (site r*L + c is row r, column c); s0
// has every spin unset. Forward action a < D sets spin a to -1, a >= D sets spin a - D to +1 (A = 2D,
// valid only on an unset spin); no exit: a trajectory is exactly D moves and ends when every spin is
// set. Backward action i clears set spin i (A_b = D). log R(x) = -alpha E(x), E(x) = -J s^T A s, A the
// 0/1 adjacency of the 4-neighbour torus (entries set once, so on L = 2 a site has 2 neighbours).
// Not a sampler of the Boltzmann distribution (no Gibbs or Wolff reference here).
// Shapes: a state is S = D int32; encodings K-hot (one one-hot of 3 values per site, W = 3D, K = D)
// and OneHotState (W = 3^D, K = 1) when 3^D fits in an int32 (L <= 4).
//
//   Ising env(3, 0.44, 1.0);   Enumeration(env).log_z();  // 16.5417
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "envs/environment.hpp"

namespace gfn {

class Ising : public Environment {
 public:
  static constexpr int kMaxSize = 64;  // L: D = 4096 spins, A = 8192 actions

  // Throws std::invalid_argument when L is outside [2, kMaxSize], J is not finite, or alpha is not a
  // finite number >= 0 (a negative alpha would be a negative J).
  Ising(int size, double coupling, double alpha);  // defaults: EnvConfig (envs/factory.hpp)

  int size() const { return size_; }             // L
  int n_sites() const { return n_sites_; }       // D = L*L
  double coupling() const { return coupling_; }  // J (the lattice coupling j: J = j A)
  double alpha() const { return alpha_; }
  // The lattice's bonds (i, k), i < k: each unordered pair of neighbours once (2L^2 for L >= 3, 4 for
  // L = 2). s^T A s = 2 * sum over bonds of s_i s_k.
  const std::vector<std::pair<int32_t, int32_t>>& bonds() const { return bonds_; }
  // s^T A s of a state (unset spins count 0): an integer in [-4D, 4D].
  int64_t spin_product_sum(const int32_t* state) const;
  double energy(const int32_t* state) const;  // E = -J s^T A s (of a complete state)

  std::string name() const override { return name_; }  // "ising(L=3,J=0.44,alpha=1)"
  std::string description() const override;
  int state_width() const override { return n_sites_; }
  int n_actions() const override { return 2 * n_sites_; }
  int n_backward_actions() const override { return n_sites_; }
  int exit_action() const override { return -1; }
  int max_trajectory_length() const override { return n_sites_; }
  int max_parents() const override { return n_sites_; }

  void initial_state(int32_t* state) const override;
  bool is_initial(const int32_t* state) const override;
  bool is_final(const int32_t* state) const override;  // every spin set
  void forward_mask(const int32_t* state, uint8_t* mask) const override;
  void backward_mask(const int32_t* state, uint8_t* mask) const override;
  void step(int32_t* state, int action) const override;
  void backward_step(int32_t* state, int backward_action) const override;
  int backward_action_of(const int32_t* state, int action) const override;
  int forward_action_of(const int32_t* state, int backward_action) const override;
  double log_reward(const int32_t* state) const override;  // alpha J s^T A s
  int parents(const int32_t* state, int32_t* parent_states, int* actions) const override;
  // A uniform order of setting the spins: a Fisher-Yates permutation of the sites (O(D)).
  int sample_uniform_backward(const int32_t* terminal, Rng& rng, int* backward_actions) const override;

  Encoding default_encoding() const override { return Encoding::KHot; }
  // K-hot position 3i + digit(s_i), digit 0 unset, 1 down, 2 up. OneHotState: -1 when 3^D does not fit
  // in an int32.
  int encoding_width(Encoding encoding) const override;
  int encoding_active(Encoding encoding) const override;
  void encode_active(const int32_t* state, Encoding encoding, int32_t* active) const override;

  // Every order of setting t spins reaches the state, so path counts give 1/t per set spin (= uniform).
  void maxent_backward_logprobs(const int32_t* state, double* logp) const override;
  bool provides(Capability capability) const override {
    return capability == Capability::MaxEntBackward || Environment::provides(capability);
  }

  // idx = sum_i digit(s_i) 3^(D-1-i) (site 0 most significant; s0 is 0); n_states = 3^D, or -1 when
  // it does not fit in int64 (L >= 7).
  int64_t n_states() const override { return n_states_; }
  int64_t state_index(const int32_t* state) const override;
  void state_from_index(int64_t index, int32_t* state) const override;

  std::string action_name(int action) const override;            // "s4=+1", "s0=-1"
  std::string state_string(const int32_t* state) const override;  // rows joined by '/': "+-./+++/..."
  std::vector<std::pair<std::string, double>> reward_constants() const override {
    return {{"J", coupling_}, {"alpha", alpha_}};
  }

 private:
  int size_;
  int n_sites_;
  double coupling_;
  double alpha_;
  std::string name_;
  int64_t n_states_;
  std::vector<std::pair<int32_t, int32_t>> bonds_;
};

}  // namespace gfn
