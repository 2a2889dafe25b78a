// Rng: golden outputs of fixed seeds (pinned; the first three words of Rng(42) also agree with an
// independent python3 implementation of splitmix64 seeding + xoshiro256++), stream independence, and
// statistical checks with 5-sigma bounds: categorical frequencies (-inf entries never drawn), uniform
// in [0, 1) and uniform_int in range.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "support/statistics.hpp"
#include "util/random.hpp"

namespace gfn {
namespace {

using testing::check_binomial;

// |count - n p| <= 5 sqrt(n p (1 - p)) for a binomial count.
TEST_CASE("util: Rng golden values for fixed seeds") {
  Rng rng(42);
  CHECK(rng.next_u64() == 0xd0764d4f4476689fULL);
  CHECK(rng.next_u64() == 0x519e4174576f3791ULL);
  CHECK(rng.next_u64() == 0xfbe07cfb0c24ed8cULL);

  Rng stream = Rng::stream(2024, 7, 3);
  CHECK(stream.uniform() == 0.60892295083461878);
  CHECK(stream.uniform() == 0.24672766928857581);
  CHECK(stream.uniform() == 0.18134178054758132);

  Rng draws = Rng::stream(5, 1, 2);
  const double logp[] = {std::log(0.1), std::log(0.2), -std::numeric_limits<double>::infinity(),
                         std::log(0.3), std::log(0.4)};
  const int expected_draws[] = {3, 4, 4, 3, 3, 4, 4, 4, 0, 4};
  for (int expected : expected_draws) CHECK(draws.categorical(logp, 5) == expected);

  Rng integers(9);
  const uint32_t expected_integers[] = {599, 429, 198, 883, 68, 133, 420, 215, 817, 725};
  for (uint32_t expected : expected_integers) CHECK(integers.uniform_int(1000) == expected);
}

TEST_CASE("util: Rng streams are reproducible and differ between ids") {
  auto first_words = [](Rng rng) {
    std::vector<uint64_t> words(4);
    for (auto& w : words) w = rng.next_u64();
    return words;
  };
  const auto base = first_words(Rng::stream(7, 0, 0));
  CHECK(first_words(Rng::stream(7, 0, 0)) == base);
  CHECK(first_words(Rng::stream(7, 1, 0)) != base);
  CHECK(first_words(Rng::stream(7, 0, 1)) != base);
  CHECK(first_words(Rng::stream(8, 0, 0)) != base);
  CHECK(first_words(Rng::stream(7, 1, 0)) != first_words(Rng::stream(7, 0, 1)));  // (a, b) is ordered

  // set_state resumes a stream exactly (checkpoints).
  Rng original = Rng::stream(3, 4, 5);
  original.next_u64();
  Rng resumed(0);
  resumed.set_state(original.state());
  CHECK(first_words(resumed) == first_words(original));
}

TEST_CASE("util: categorical frequencies match probabilities within 5 sigma, -inf is never drawn") {
  const double inf = std::numeric_limits<double>::infinity();
  const double p[] = {0.05, 0.15, 0.0, 0.3, 0.0, 0.5};
  // Unnormalised on purpose (+2.5): the sampler normalises by its own total mass.
  const double logp[] = {std::log(0.05) + 2.5, std::log(0.15) + 2.5, -inf, std::log(0.3) + 2.5, -inf,
                         std::log(0.5) + 2.5};
  float logp_float[6];
  for (int i = 0; i < 6; ++i) logp_float[i] = float(logp[i]);
  const int64_t n = 200000;
  for (bool single : {false, true}) {
    CAPTURE(single);
    Rng rng = Rng::stream(99, single);
    int64_t counts[6] = {};
    for (int64_t i = 0; i < n; ++i)
      ++counts[single ? rng.categorical(logp_float, 6) : rng.categorical(logp, 6)];
    CHECK(counts[2] == 0);
    CHECK(counts[4] == 0);
    for (int i : {0, 1, 3, 5}) check_binomial(counts[i], n, p[i]);
  }
  // A single valid entry is always drawn, even among -inf entries at both ends; with none: -1.
  const double one[] = {-inf, 0.7, -inf};
  Rng rng(1);
  for (int i = 0; i < 100; ++i) CHECK(rng.categorical(one, 3) == 1);
  const double none[] = {-inf, -inf};
  CHECK(rng.categorical(none, 2) == -1);
  CHECK(rng.categorical(none, 0) == -1);
}

TEST_CASE("util: uniform lies in 0 <= u < 1 with mean 1/2 within 5 sigma") {
  Rng rng(123);
  const int n = 100000;
  double total = 0;
  bool in_range = true;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    in_range = in_range && u >= 0 && u < 1;
    total += u;
  }
  CHECK(in_range);
  CHECK(std::abs(total / n - 0.5) <= 5 * std::sqrt(1.0 / 12 / n));
}

TEST_CASE("util: uniform_int stays in 0..n-1 and hits every value evenly within 5 sigma") {
  Rng rng(321);
  const int n = 70000, range = 7;
  int64_t counts[range] = {};
  bool in_range = true;
  for (int i = 0; i < n; ++i) {
    const uint32_t k = rng.uniform_int(range);
    in_range = in_range && k < uint32_t(range);
    if (k < uint32_t(range)) ++counts[k];
  }
  CHECK(in_range);
  for (int k = 0; k < range; ++k) check_binomial(counts[k], n, 1.0 / range);
  for (int i = 0; i < 100; ++i) CHECK(rng.uniform_int(1) == 0);
  // The top of a large range is reachable and never exceeded.
  uint32_t largest = 0;
  for (int i = 0; i < 10000; ++i) largest = std::max(largest, rng.uniform_int(4000000000u));
  CHECK(largest < 4000000000u);
  CHECK(largest > 3990000000u);
}

}  // namespace
}  // namespace gfn
