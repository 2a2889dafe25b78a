// Statistical checks shared by the tests: a count of successes against its binomial expectation.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

namespace gfn::testing {

// count successes in n independent draws of probability p: within 5 binomial sigmas of n p.
inline void check_binomial(int64_t count, int64_t n, double p) {
  const double sigma = std::sqrt(double(n) * p * (1 - p));
  CAPTURE(count);
  CAPTURE(double(n) * p);
  CHECK(std::abs(double(count) - double(n) * p) <= 5 * sigma);
}

}  // namespace gfn::testing
