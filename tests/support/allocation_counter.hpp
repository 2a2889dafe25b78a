// Counting heap allocations, for tests asserting that a warmed-up training step allocates nothing.
//
// The counter (tests/support/allocation_counter.cpp) interposes malloc and its relatives (operator new
// and Eigen's aligned_malloc both end there) and counts every thread's calls. A parallel loop's warm-up
// does not warm every thread: with a dynamic schedule a thread that the machine kept busy elsewhere
// may get no work until the measured steps, so per-thread buffers must be sized by their owner up
// front (for max_threads()), never on a thread's first use (a thread_local allocates then). Not
// available under AddressSanitizer, which owns malloc.
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
