// The OpenMP wait policy: reading it, and choosing the passive one for a whole program.
#include "util/parallel.hpp"

#include <cstdlib>

#include <unistd.h>

namespace gfn {

std::string openmp_wait_policy() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  return policy != nullptr && *policy != '\0' ? policy : "default";
}

void prefer_passive_openmp_waits(char** argv) {
#ifdef _OPENMP
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;  // the user's choice, or already re-executed
  if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: carry on with the runtime's default
  unsetenv("OMP_WAIT_POLICY");
#else
  (void)argv;
#endif
}

}  // namespace gfn
