// The non-virtual part of the Environment interface (envs/environment.hpp) and the defaults of its
// optional methods. Not an environment. Defaults that need a scratch buffer use one thread-local
// buffer per function and thread, grown once, so they do not allocate in steady state.
#include "envs/environment.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace gfn {

const char* encoding_name(Encoding encoding) {
  switch (encoding) {
    case Encoding::KHot: return "k-hot";
    case Encoding::OneHotState: return "one-hot-state";
    case Encoding::Dense: return "dense";
  }
  return "?";
}

void Environment::encode_dense(const int32_t*, double*) const {
  throw std::logic_error(name() + ": encode_dense called, but the environment offers no dense encoding");
}

const char* capability_name(Capability capability) {
  switch (capability) {
    case Capability::Enumeration: return "enumeration (n_states, state_index, state_from_index)";
    case Capability::MaxEntBackward: return "the max-entropy backward policy (maxent_backward_logprobs)";
    case Capability::Modes: return "modes (n_modes, mode_of)";
    case Capability::TestSet: return "a test set (test_states)";
  }
  return "?";
}

void require_capability(const Environment& env, Capability capability, const std::string& feature) {
  if (env.provides(capability)) return;
  throw std::invalid_argument(feature + " needs " + capability_name(capability) + ", which " + env.name() +
                              " does not provide");
}

bool Environment::provides(Capability capability) const {
  switch (capability) {
    case Capability::Enumeration: return n_states() >= 0;
    case Capability::Modes: return n_modes() > 0;
    case Capability::MaxEntBackward:
    case Capability::TestSet: return false;
  }
  return false;
}

bool Environment::can_terminate(const int32_t* state) const {
  thread_local std::vector<uint8_t> mask;  // [A]
  return can_terminate(state, mask);
}

bool Environment::can_terminate(const int32_t* state, std::vector<uint8_t>& mask) const {
  if (is_final(state)) return true;
  const int exit = exit_action();
  if (exit < 0) return false;
  if (static_cast<int>(mask.size()) < n_actions()) mask.resize(n_actions());
  forward_mask(state, mask.data());
  return mask[exit] != 0;
}

bool Environment::is_initial(const int32_t* state) const {
  thread_local std::vector<int32_t> initial;  // [S]
  initial.resize(state_width());
  initial_state(initial.data());
  return std::equal(initial.begin(), initial.end(), state);
}

int Environment::parents(const int32_t* state, int32_t* parent_states, int* actions) const {
  thread_local std::vector<uint8_t> mask;  // [A_b]
  const int n_backward = n_backward_actions(), width = state_width();
  if (static_cast<int>(mask.size()) < n_backward) mask.resize(n_backward);
  backward_mask(state, mask.data());
  int count = 0;
  for (int backward = 0; backward < n_backward; ++backward) {
    if (!mask[backward]) continue;
    int32_t* parent = parent_states + static_cast<int64_t>(count) * width;
    std::copy(state, state + width, parent);
    backward_step(parent, backward);
    actions[count++] = forward_action_of(state, backward);
  }
  return count;
}

int Environment::sample_uniform_backward(const int32_t* terminal, Rng& rng, int* backward_actions) const {
  thread_local std::vector<int32_t> state;  // [S]
  thread_local std::vector<uint8_t> mask;   // [A_b]
  thread_local std::vector<int> valid;      // [A_b]
  state.assign(terminal, terminal + state_width());
  mask.resize(n_backward_actions());
  valid.resize(n_backward_actions());
  int length = 0;
  while (length < max_trajectory_length() && !is_initial(state.data())) {
    backward_mask(state.data(), mask.data());
    int n_valid = 0;
    for (int action = 0; action < n_backward_actions(); ++action)
      if (mask[action]) valid[n_valid++] = action;
    const int action = valid[rng.uniform_int(uint32_t(n_valid))];
    backward_actions[length++] = action;
    backward_step(state.data(), action);
  }
  std::reverse(backward_actions, backward_actions + length);
  return length;
}

std::string Environment::action_name(int action) const {
  return action == exit_action() ? "exit" : "action " + std::to_string(action);
}

std::string Environment::state_string(const int32_t* state) const {
  std::string text = "(";
  for (int i = 0; i < state_width(); ++i) text += (i ? "," : "") + std::to_string(state[i]);
  return text + ")";
}

int64_t Environment::state_index(const int32_t*) const {
  require_capability(*this, Capability::Enumeration, "state_index");
  throw std::logic_error(name() + ": provides enumeration but does not override state_index");
}

void Environment::state_from_index(int64_t, int32_t*) const {
  require_capability(*this, Capability::Enumeration, "state_from_index");
  throw std::logic_error(name() + ": provides enumeration but does not override state_from_index");
}

void Environment::maxent_backward_logprobs(const int32_t*, double*) const {
  require_capability(*this, Capability::MaxEntBackward, "maxent_backward_logprobs");
  throw std::logic_error(name() + ": provides the max-entropy P_B but does not override maxent_backward_logprobs");
}

StateMatrix Environment::test_states() const {
  require_capability(*this, Capability::TestSet, "test_states");
  throw std::logic_error(name() + ": provides a test set but does not override test_states");
}

}  // namespace gfn
