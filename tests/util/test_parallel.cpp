// parallel_for: every index runs exactly once on any thread count, and an exception thrown by the
// body reaches the caller after the loop instead of terminating the process.
#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "support/core_fixtures.hpp"
#include "util/parallel.hpp"

namespace gfn {
namespace {

TEST_CASE("core: parallel_for runs every index once and rethrows a body's exception after the loop") {
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    testing::ScopedThreads scoped(threads);
    std::vector<int> runs(37, 0);
    parallel_for(37, [&](int64_t i) { ++runs[i]; });
    CHECK(runs == std::vector<int>(37, 1));

    std::vector<std::atomic<int>> attempted(37);
    CHECK_THROWS_WITH_AS(parallel_for(37,
                                      [&](int64_t i) {
                                        ++attempted[i];
                                        if (i == 5) throw std::runtime_error("index 5 failed");
                                      }),
                         "index 5 failed", std::runtime_error);
    for (int i = 0; i < 37; ++i) CHECK(attempted[i] == 1);  // the other indices still ran

    int serial = 0;
    parallel_for(0, [&](int64_t) { ++serial; });
    CHECK(serial == 0);
  }
}

}  // namespace
}  // namespace gfn
