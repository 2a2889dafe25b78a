// The few OpenMP facts the library needs, with serial fallbacks when built without OpenMP.
#pragma once

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

inline void set_threads(int threads) {
#ifdef _OPENMP
  if (threads > 0) omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

}  // namespace gfn
