// The non-virtual part of the Environment interface (envs/environment.hpp): can_terminate.
// Not an environment. Uses one thread-local mask buffer of A bytes per thread, grown once,
// so the call does not allocate in steady state.
#include "envs/environment.hpp"

#include <vector>

namespace gfn {

bool Environment::can_terminate(const int32_t* state) const {
  if (is_final(state)) return true;
  const int exit = exit_action();
  if (exit < 0) return false;
  thread_local std::vector<uint8_t> mask;  // [A], grows once per thread: no allocation per call
  if (static_cast<int>(mask.size()) < n_actions()) mask.resize(n_actions());
  forward_mask(state, mask.data());
  return mask[exit] != 0;
}

}  // namespace gfn
