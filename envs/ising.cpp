// Ising: moves, masks, the lattice's bonds and the energy, encodings, enumeration. A state is
// S = D int32 spins (0 unset, -1, +1); forward action a sets spin a mod D to -1 (a < D) or +1;
// backward action i clears spin i. Not allocating on any per-state path.
#include "envs/ising.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "envs/checked_arithmetic.hpp"
#include "util/format.hpp"

namespace gfn {

namespace {

// Enumeration and K-hot digit of a spin: 0 unset, 1 down (-1), 2 up (+1).
inline int32_t digit_of(int32_t spin) { return spin == 0 ? 0 : (spin < 0 ? 1 : 2); }
constexpr int32_t kSpinOfDigit[3] = {0, -1, 1};

}  // namespace

Ising::Ising(int size, double coupling, double alpha) : size_(size), coupling_(coupling), alpha_(alpha) {
  if (size < 2 || size > kMaxSize)
    throw std::invalid_argument("ising: L must be between 2 and " + std::to_string(kMaxSize) + ", got " +
                                std::to_string(size));
  if (!std::isfinite(coupling)) throw std::invalid_argument("ising: J must be finite, got " + format_number(coupling));
  if (!std::isfinite(alpha) || alpha < 0)
    throw std::invalid_argument("ising: alpha must be finite and >= 0, got " + format_number(alpha));
  n_sites_ = size * size;
  name_ = "ising(L=" + std::to_string(size) + ",J=" + format_number(coupling) + ",alpha=" + format_number(alpha) + ")";
  n_states_ = checked_power(3, n_sites_);

  // Each site's right and lower neighbour on the torus gives every bond; on L = 2 the right and left
  // neighbours coincide, so pairs are deduplicated: an adjacency entry is set, never added to.
  for (int row = 0; row < size; ++row)
    for (int column = 0; column < size; ++column) {
      const int32_t site = row * size + column;
      for (const int32_t other : {row * size + (column + 1) % size, ((row + 1) % size) * size + column})
        bonds_.emplace_back(std::min(site, other), std::max(site, other));
    }
  std::sort(bonds_.begin(), bonds_.end());
  bonds_.erase(std::unique(bonds_.begin(), bonds_.end()), bonds_.end());
}

std::string Ising::description() const {
  return "Ising on the periodic LxL lattice: set one unset spin to -1 or +1 per move, L*L moves, no exit; "
         "log R = -alpha E, E = -J s^T A s (A: 4-neighbour torus adjacency)";
}

int64_t Ising::spin_product_sum(const int32_t* state) const {
  int64_t sum = 0;
  for (const auto& [i, k] : bonds_) sum += state[i] * state[k];
  return 2 * sum;
}

double Ising::energy(const int32_t* state) const { return -coupling_ * static_cast<double>(spin_product_sum(state)); }

double Ising::log_reward(const int32_t* state) const {
  return alpha_ * coupling_ * static_cast<double>(spin_product_sum(state));
}

void Ising::initial_state(int32_t* state) const { std::fill(state, state + n_sites_, 0); }

bool Ising::is_initial(const int32_t* state) const {
  for (int i = 0; i < n_sites_; ++i)
    if (state[i] != 0) return false;
  return true;
}

bool Ising::is_final(const int32_t* state) const {
  for (int i = 0; i < n_sites_; ++i)
    if (state[i] == 0) return false;
  return true;
}

void Ising::forward_mask(const int32_t* state, uint8_t* mask) const {
  for (int i = 0; i < n_sites_; ++i) mask[i] = mask[n_sites_ + i] = state[i] == 0;
}

void Ising::backward_mask(const int32_t* state, uint8_t* mask) const {
  for (int i = 0; i < n_sites_; ++i) mask[i] = state[i] != 0;
}

void Ising::step(int32_t* state, int action) const {
  if (action < n_sites_) state[action] = -1;
  else state[action - n_sites_] = 1;
}

void Ising::backward_step(int32_t* state, int backward_action) const { state[backward_action] = 0; }

int Ising::backward_action_of(const int32_t*, int action) const {
  return action < n_sites_ ? action : action - n_sites_;
}

int Ising::forward_action_of(const int32_t* state, int backward_action) const {
  return state[backward_action] > 0 ? backward_action + n_sites_ : backward_action;
}

int Ising::parents(const int32_t* state, int32_t* parent_states, int* actions) const {
  int count = 0;
  for (int i = 0; i < n_sites_; ++i) {
    if (state[i] == 0) continue;
    int32_t* parent = parent_states + static_cast<size_t>(count) * n_sites_;
    std::memcpy(parent, state, sizeof(int32_t) * n_sites_);
    parent[i] = 0;
    actions[count++] = state[i] > 0 ? i + n_sites_ : i;
  }
  return count;
}

int Ising::sample_uniform_backward(const int32_t*, Rng& rng, int* backward_actions) const {
  // Clearing from the end, each step picks uniformly among the spins still set: a uniform backward
  // trajectory, and backward_actions[t] is the site set at step t+1.
  for (int t = 0; t < n_sites_; ++t) backward_actions[t] = t;
  for (int t = n_sites_ - 1; t > 0; --t) std::swap(backward_actions[t], backward_actions[rng.uniform_int(uint32_t(t + 1))]);
  return n_sites_;
}

int Ising::encoding_width(Encoding encoding) const {
  if (encoding == Encoding::KHot) return 3 * n_sites_;
  if (encoding == Encoding::OneHotState) return n_states_ >= 0 && n_states_ <= INT32_MAX ? static_cast<int>(n_states_) : -1;
  return -1;
}

int Ising::encoding_active(Encoding encoding) const { return encoding == Encoding::KHot ? n_sites_ : 1; }

void Ising::encode_active(const int32_t* state, Encoding encoding, int32_t* active) const {
  if (encoding == Encoding::KHot) {
    for (int i = 0; i < n_sites_; ++i) active[i] = 3 * i + digit_of(state[i]);
  } else {
    active[0] = static_cast<int32_t>(state_index(state));
  }
}

void Ising::maxent_backward_logprobs(const int32_t* state, double* logp) const {
  int set = 0;
  for (int i = 0; i < n_sites_; ++i) set += state[i] != 0;
  const double log_uniform = -std::log(static_cast<double>(set));
  for (int i = 0; i < n_sites_; ++i)
    logp[i] = state[i] != 0 ? log_uniform : -std::numeric_limits<double>::infinity();
}

int64_t Ising::state_index(const int32_t* state) const {
  uint64_t index = 0;
  for (int i = 0; i < n_sites_; ++i) index = index * 3 + uint64_t(digit_of(state[i]));
  return static_cast<int64_t>(index);
}

void Ising::state_from_index(int64_t index, int32_t* state) const {
  for (int i = n_sites_ - 1; i >= 0; --i) {
    state[i] = kSpinOfDigit[index % 3];
    index /= 3;
  }
}

std::string Ising::action_name(int action) const {
  return action < n_sites_ ? "s" + std::to_string(action) + "=-1" : "s" + std::to_string(action - n_sites_) + "=+1";
}

std::string Ising::state_string(const int32_t* state) const {
  std::string text;
  for (int i = 0; i < n_sites_; ++i) {
    if (i > 0 && i % size_ == 0) text += '/';
    text += state[i] == 0 ? '.' : (state[i] < 0 ? '-' : '+');
  }
  return text;
}

}  // namespace gfn
