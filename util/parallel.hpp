// The few OpenMP facts the library needs, with serial fallbacks when built without OpenMP, and the
// one parallel loop the library uses.
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace gfn {

inline int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// True inside an OpenMP parallel region (where thread_id() numbers the innermost team).
inline bool in_parallel() {
#ifdef _OPENMP
  return omp_in_parallel() != 0;
#else
  return false;
#endif
}

inline void set_threads(int threads) {
#ifdef _OPENMP
  if (threads > 0) omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

// How idle OpenMP threads wait: OMP_WAIT_POLICY as set ("passive": they sleep; "active": they spin),
// or "default" (the runtime's choice: GCC's spins for a while first). The runtime reads the variable
// once, when it loads, before main() runs.
std::string openmp_wait_policy();

// For a program's main(): unless OMP_WAIT_POLICY is set, sets it to passive and re-executes the
// program (same arguments; at most once), so threads that run out of work sleep instead of spinning.
// Spinning threads on a machine shared with another busy process take the CPU from the threads that
// still have work: measured in bench/bench_cotenancy.cpp. Returns if it does not re-execute (the
// variable was set, no OpenMP, or exec failed).
void prefer_passive_openmp_waits(char** argv);

// Runs body(i) for i in [0, n), one index at a time per thread (dynamic schedule). Called outside any
// parallel region with n < 2 or one thread allowed, it loops without entering an OpenMP region (GCC's
// runtime allocates a team for every region, a serialized one included, and a warmed-up step must
// allocate nothing); inside a region it opens a nested (serialized) one, so that thread_id() is 0 for
// the body as on every other path. An exception
// must not leave an OpenMP region (that terminates the process): the first one thrown is kept, the
// remaining indices still run, and it is rethrown after the loop, on every path alike.
template <typename Body>
void parallel_for(int64_t n, Body&& body) {
  std::exception_ptr failure;
  auto run = [&](int64_t i) {
    try {
      body(i);
    } catch (...) {
#pragma omp critical(gfn_parallel_for_failure)
      if (!failure) failure = std::current_exception();
    }
  };
  if (!in_parallel() && (n < 2 || max_threads() < 2)) {
    for (int64_t i = 0; i < n; ++i) run(i);
  } else {
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) run(i);
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace gfn
