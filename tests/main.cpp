// The doctest runner for the whole suite (tests/ mirrors the source tree). Like the gfn command, it
// lets idle OpenMP threads sleep (util/parallel.hpp): ctest runs test processes side by side.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "util/parallel.hpp"

int main(int argc, char** argv) {
  gfn::prefer_passive_openmp_waits(argv);
  doctest::Context context(argc, argv);
  return context.run();
}
