// Counting heap allocations, for tests asserting that a warmed-up training step allocates nothing.
//
// The counter is defined once, in tests/autodiff/test_allocations.cpp, which interposes malloc and its
// relatives (operator new and Eigen's aligned_malloc both end there). It counts every thread's calls,
// so measure with no other thread running. Not available under AddressSanitizer, which owns malloc.
//
//   const int64_t before = testing::allocation_count();
//   train_step();
//   CHECK(testing::allocation_count() - before == 0);
#pragma once

#include <cstdint>

namespace gfn::testing {

// True when allocations are counted in this build.
bool allocation_counting_available();

// Allocations (malloc, calloc, realloc, aligned_alloc, posix_memalign, memalign) made so far.
int64_t allocation_count();

}  // namespace gfn::testing
