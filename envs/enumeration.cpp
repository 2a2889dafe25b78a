// Enumeration: Kahn's algorithm from s0 over the forward moves (parents counted by the backward
// mask), path counts pushed along the same walk in log space, then log Z and p = R/Z.
// Memory: N x S int32 states plus about 30 bytes per state; N is checked against the limit first.
#include "envs/enumeration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace gfn {

namespace {

constexpr double kNegativeInfinity = -std::numeric_limits<double>::infinity();

double log_add(double a, double b) {
  if (a == kNegativeInfinity) return b;
  if (b == kNegativeInfinity) return a;
  const double larger = std::max(a, b);
  return larger + std::log1p(std::exp(-std::abs(a - b)));
}

}  // namespace

Enumeration::Enumeration(const Environment& environment, int64_t limit)
    : environment_(environment), n_states_(environment.n_states()) {
  if (n_states_ < 0)
    throw std::runtime_error(environment.name() + " is not enumerable: its number of states does not fit in int64");
  if (n_states_ > limit)
    throw std::runtime_error(environment.name() + " is not enumerable: " + std::to_string(n_states_) +
                             " states, above the enumeration limit of " + std::to_string(limit));

  const int width = environment.state_width();
  const int n_actions = environment.n_actions();
  const int n_backward_actions = environment.n_backward_actions();
  const int exit = environment.exit_action();
  states_.resize(n_states_, width);
  can_terminate_.resize(n_states_);
  log_rewards_.assign(n_states_, kNegativeInfinity);
  std::vector<int32_t> pending_parents(n_states_);
  for (int64_t index = 0; index < n_states_; ++index) {
    int32_t* state = states_.row(index).data();
    environment.state_from_index(index, state);
    can_terminate_[index] = environment.can_terminate(state);
    if (can_terminate_[index]) log_rewards_[index] = environment.log_reward(state);
  }

  std::vector<uint8_t> mask(std::max(n_actions, n_backward_actions));
  for (int64_t index = 0; index < n_states_; ++index) {
    environment.backward_mask(states_.row(index).data(), mask.data());
    pending_parents[index] = static_cast<int32_t>(std::count(mask.begin(), mask.begin() + n_backward_actions, 1));
  }

  // Kahn: order_ doubles as the FIFO queue; a state is appended once all its parents are in it.
  std::vector<int32_t> child(width);
  environment.initial_state(child.data());
  const int64_t initial = environment.state_index(child.data());
  if (pending_parents[initial] != 0) throw std::runtime_error(environment.name() + ": s0 has parents");
  log_path_counts_.assign(n_states_, kNegativeInfinity);
  log_path_counts_[initial] = 0.0;
  order_.reserve(n_states_);
  order_.push_back(initial);
  for (size_t head = 0; head < order_.size(); ++head) {
    const int64_t index = order_[head];
    const int32_t* state = states_.row(index).data();
    environment.forward_mask(state, mask.data());
    for (int action = 0; action < n_actions; ++action) {
      if (!mask[action] || action == exit) continue;
      std::copy(state, state + width, child.begin());
      environment.step(child.data(), action);
      const int64_t child_index = environment.state_index(child.data());
      log_path_counts_[child_index] = log_add(log_path_counts_[child_index], log_path_counts_[index]);
      if (--pending_parents[child_index] == 0) order_.push_back(child_index);
    }
  }
  if (static_cast<int64_t>(order_.size()) != n_states_)
    throw std::runtime_error(environment.name() + ": " + std::to_string(n_states_ - order_.size()) +
                             " states are not reachable from s0");

  double max_log_reward = kNegativeInfinity;
  for (int64_t index = 0; index < n_states_; ++index) max_log_reward = std::max(max_log_reward, log_rewards_[index]);
  double scaled_z = 0.0;
  for (int64_t index = 0; index < n_states_; ++index)
    if (log_rewards_[index] != kNegativeInfinity) scaled_z += std::exp(log_rewards_[index] - max_log_reward);
  log_z_ = max_log_reward + std::log(scaled_z);
  true_distribution_.resize(n_states_);
  for (int64_t index = 0; index < n_states_; ++index)
    true_distribution_[index] =
        log_rewards_[index] == kNegativeInfinity ? 0.0 : std::exp(log_rewards_[index] - log_z_);
}

void Enumeration::maxent_backward_logprobs(int64_t index, double* logp) const {
  const int width = environment_.state_width();
  const int n_backward_actions = environment_.n_backward_actions();
  const int32_t* state = states_.row(index).data();
  thread_local std::vector<uint8_t> mask;  // [A_b]; both grow once per thread: no allocation per call
  thread_local std::vector<int32_t> parent;  // [S]
  if (static_cast<int>(mask.size()) < n_backward_actions) mask.resize(n_backward_actions);
  if (static_cast<int>(parent.size()) < width) parent.resize(width);
  environment_.backward_mask(state, mask.data());
  for (int action = 0; action < n_backward_actions; ++action) {
    logp[action] = kNegativeInfinity;
    if (!mask[action]) continue;
    std::copy(state, state + width, parent.begin());
    environment_.backward_step(parent.data(), action);
    logp[action] = log_path_counts_[environment_.state_index(parent.data())] - log_path_counts_[index];
  }
}

}  // namespace gfn
