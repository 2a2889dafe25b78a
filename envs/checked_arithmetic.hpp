// Overflow-checked int64 arithmetic for counting states (n_states, n_modes): the result, or -1 when
// it does not fit in int64. Arguments are >= 0. Not for hot paths; used by the constructors of the
// environments, which must report huge spaces (n_states = -1) instead of overflowing.
#pragma once

#include <cstdint>

namespace gfn {

inline int64_t checked_multiply(int64_t a, int64_t b) {
  if (a < 0 || b < 0) return -1;
  if (a != 0 && b > INT64_MAX / a) return -1;
  return a * b;
}

inline int64_t checked_add(int64_t a, int64_t b) {
  if (a < 0 || b < 0 || b > INT64_MAX - a) return -1;
  return a + b;
}

inline int64_t checked_power(int64_t base, int exponent) {
  int64_t result = 1;
  for (int i = 0; i < exponent && result >= 0; ++i) result = checked_multiply(result, base);
  return result;
}

}  // namespace gfn
