// BitSeq and its reward: the embedded data (first mode, test set layout, facts of docs/environments.md),
// popcount distances against a naive bit-by-bit count (also for n not a multiple of 64 and word
// sizes that leave unused bits in a chunk), bit string <-> state, default and explicit modes, and
// exact enumeration of the small n = 8, k = 2 spaces. Tolerances: log Z absolute 1e-12.
#include <doctest/doctest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "envs/bitseq.hpp"
#include "envs/bitseq_autoregressive.hpp"
#include "envs/enumeration.hpp"
#include "util/random.hpp"

namespace gfn {
namespace {

const char* const kFirstMode =  // line 1 of bitseq_modes_n120_seed42.txt
    "000011110011110011110000001111000011110011111111111100001111"
    "000011110000001111000000111111110000001111001111111100001111";

int naive_distance(const std::string& a, const std::string& b) {
  int distance = 0;
  for (size_t i = 0; i < a.size(); ++i) distance += a[i] != b[i];
  return distance;
}

int naive_min_distance(const std::string& bits, const std::vector<std::string>& modes) {
  int best = INT_MAX;
  for (const std::string& mode : modes) best = std::min(best, naive_distance(bits, mode));
  return best;
}

std::string random_bits(int n_bits, Rng& rng) {
  std::string bits(n_bits, '0');
  for (char& bit : bits) bit = rng.uniform_int(2) ? '1' : '0';
  return bits;
}

TEST_CASE("envs: bitseq embedded modes and test set (docs/environments.md)") {
  const BitSeq env;
  const BitSeqReward& reward = env.reward();
  REQUIRE(reward.n_modes() == 60);
  CHECK(env.n_modes() == 60);
  CHECK(reward.modes()[0] == kFirstMode);
  std::vector<int32_t> state(15);
  reward.words_from_bits(kFirstMode, state.data());
  CHECK(state[0] == 0x0F);  // 00001111, most significant bit first
  CHECK(state[1] == 0x3C);  // 00111100
  CHECK(env.log_reward(state.data()) == 0.0);
  CHECK(env.mode_of(state.data()) == 0);
  CHECK(reward.bits_of(state.data()) == kFirstMode);

  const std::vector<std::string> test_set = reward.test_set();
  REQUIRE(test_set.size() == 7200);
  CHECK(test_set[0] == reward.modes()[0]);
  for (int mode = 0; mode < 60; ++mode) {  // each mode, then copies with 1..119 bits flipped
    CHECK(test_set[120 * mode] == reward.modes()[mode]);
    for (int flips = 1; flips < 120; flips += 17)
      CHECK(naive_distance(test_set[120 * mode + flips], reward.modes()[mode]) == flips);
  }

  int min_pairwise = INT_MAX, max_pairwise = 0;
  for (int a = 0; a < 60; ++a)
    for (int b = a + 1; b < 60; ++b) {
      reward.words_from_bits(reward.modes()[a], state.data());
      const int distance = reward.distance(state.data(), b);
      CHECK(distance == naive_distance(reward.modes()[a], reward.modes()[b]));
      min_pairwise = std::min(min_pairwise, distance);
      max_pairwise = std::max(max_pairwise, distance);
    }
  CHECK(min_pairwise == 28);
  CHECK(max_pairwise == 84);
}

TEST_CASE("envs: bitseq random strings sit at distance ~48 from the modes (mean of 2000, +-1)") {
  const BitSeq env;
  Rng rng(2024);
  std::vector<int32_t> state(15);
  double total = 0;
  for (int draw = 0; draw < 2000; ++draw) {
    env.reward().words_from_bits(random_bits(120, rng), state.data());
    total += env.reward().min_distance(state.data());
  }
  CHECK(std::abs(total / 2000 - 48.0) <= 1.0);
}

TEST_CASE("envs: bitseq popcount distances equal a naive bit-by-bit count") {
  struct Case {
    int n, k;
    bool explicit_modes;
  };
  // n = 120, 8 (< 64), 100 with k = 5 (12 words = 60 bits per chunk), 130 with k = 13 (4 words per
  // chunk), 200 (not a multiple of 64), 4096 with k = 1 (64 full chunks).
  for (const Case& c : {Case{120, 8, false}, Case{8, 2, false}, Case{100, 5, false}, Case{130, 13, true},
                        Case{200, 8, true}, Case{4096, 1, true}, Case{48, 16, true}}) {
    CAPTURE(c.n);
    CAPTURE(c.k);
    Rng rng = Rng::stream(7, c.n, c.k);
    std::vector<std::string> modes = bitseq_default_modes(c.n);
    if (c.explicit_modes) {
      modes.clear();
      for (int m = 0; m < 13; ++m) modes.push_back(random_bits(c.n, rng));
    }
    const BitSeq env(c.n, c.k, modes, 2.0, c.n / 4);
    std::vector<int32_t> state(c.n / c.k);
    for (int draw = 0; draw < 100; ++draw) {
      std::string bits = random_bits(c.n, rng);
      if (draw % 10 == 0) bits = modes[draw % modes.size()];
      env.reward().words_from_bits(bits, state.data());
      CHECK(env.reward().bits_of(state.data()) == bits);
      const int expected = naive_min_distance(bits, modes);
      CHECK(env.reward().min_distance(state.data()) == expected);
      CHECK(env.log_reward(state.data()) == -2.0 * expected);
      int64_t first_found = -1;
      for (size_t m = 0; m < modes.size() && first_found < 0; ++m)
        if (naive_distance(bits, modes[m]) <= c.n / 4) first_found = static_cast<int64_t>(m);
      CHECK(env.mode_of(state.data()) == first_found);
    }
  }
}

TEST_CASE("envs: bitseq mode_of uses the threshold 30 by default") {
  const BitSeq env;
  const std::vector<std::string> test_set = env.reward().test_set();
  std::vector<int32_t> state(15);
  for (int flips : {0, 10, 30, 31, 60}) {
    env.reward().words_from_bits(test_set[120 * 7 + flips], state.data());
    const std::string& bits = test_set[120 * 7 + flips];
    int64_t expected = -1;
    for (int m = 0; m < 60 && expected < 0; ++m)
      if (naive_distance(bits, env.reward().modes()[m]) <= 30) expected = m;
    CHECK(env.mode_of(state.data()) == expected);
    if (flips <= 30) CHECK(expected >= 0);
  }
}

TEST_CASE("envs: bitseq bit strings with empty slots round-trip, malformed strings throw") {
  const BitSeq env(8, 2);
  std::vector<int32_t> state(4);
  env.reward().words_from_bits("01..11..", state.data());
  CHECK(state == std::vector<int32_t>{1, 4, 3, 4});
  CHECK(env.state_string(state.data()) == "01..11..");
  CHECK(env.action_name(2 * 4 + 3) == "slot2=11");
  CHECK_THROWS_AS(env.reward().words_from_bits("0101", state.data()), std::invalid_argument);
  CHECK_THROWS_AS(env.reward().words_from_bits("0101x101", state.data()), std::invalid_argument);
  CHECK_THROWS_AS(env.reward().words_from_bits("0.010101", state.data()), std::invalid_argument);
}

TEST_CASE("envs: bitseq default modes for n != 120 follow the documented block rule") {
  const std::vector<std::string> blocks = {"00000000", "11111111", "11110000", "00001111", "00111100"};
  const std::vector<std::string> modes8 = bitseq_default_modes(8);
  CHECK(std::set<std::string>(modes8.begin(), modes8.end()) == std::set<std::string>(blocks.begin(), blocks.end()));
  CHECK(modes8 == bitseq_default_modes(8));  // deterministic
  CHECK(bitseq_default_modes(16).size() == 25);
  const std::vector<std::string> modes40 = bitseq_default_modes(40);
  CHECK(modes40.size() == 60);
  CHECK(std::set<std::string>(modes40.begin(), modes40.end()).size() == 60);
  for (const std::string& mode : modes40)
    for (int block = 0; block < 5; ++block)
      CHECK(std::find(blocks.begin(), blocks.end(), mode.substr(8 * block, 8)) != blocks.end());
  CHECK(bitseq_default_modes(4).size() == 3);  // blocks cut to 4 bits: 0000, 1111, 0011
  CHECK(BitSeq(8, 2).n_modes() == 5);
  // The generated test set: each mode, then n-1 copies with 1..n-1 bits flipped.
  const BitSeq env(16, 4);
  const std::vector<std::string> test_set = env.reward().test_set();
  REQUIRE(test_set.size() == 25 * 16);
  for (int mode = 0; mode < 25; ++mode)
    for (int flips = 0; flips < 16; ++flips)
      CHECK(naive_distance(test_set[16 * mode + flips], env.reward().modes()[mode]) == flips);
}

TEST_CASE("envs: bitseq explicit modes, sizes and encodings") {
  const BitSeq env(8, 2, {"00001111", "11110000"}, 0.5, 1);
  CHECK(env.n_modes() == 2);
  std::vector<int32_t> state(4);
  env.reward().words_from_bits("00001110", state.data());
  CHECK(env.log_reward(state.data()) == -0.5);
  CHECK(env.mode_of(state.data()) == 0);
  env.reward().words_from_bits("00111100", state.data());
  CHECK(env.log_reward(state.data()) == -2.0);
  CHECK(env.mode_of(state.data()) == -1);
  CHECK(env.n_states() == 625);
  CHECK(env.encoding_width(Encoding::KHot) == 20);
  CHECK(env.encoding_width(Encoding::OneHotState) == 625);
  CHECK(BitSeqAutoregressive(8, 2).n_states() == 1 + 4 + 16 + 64 + 256);

  const BitSeq big;
  CHECK(big.n_actions() == 3840);
  CHECK(big.n_backward_actions() == 15);
  CHECK(big.exit_action() == -1);
  CHECK(big.max_trajectory_length() == 15);
  CHECK(big.encoding_width(Encoding::KHot) == 15 * 257);
  CHECK(big.encoding_active(Encoding::KHot) == 15);
  CHECK(big.n_states() == -1);
  CHECK(big.encoding_width(Encoding::OneHotState) == -1);
  CHECK(big.name() == "bitseq(n=120,k=8,beta=2)");
  const BitSeqAutoregressive big_autoregressive;
  CHECK(big_autoregressive.n_actions() == 256);
  CHECK(big_autoregressive.n_backward_actions() == 1);
  CHECK(big_autoregressive.n_states() == -1);
  CHECK(big_autoregressive.n_modes() == 60);

  CHECK_THROWS_AS(BitSeq(120, 7), std::invalid_argument);
  CHECK_THROWS_AS(BitSeq(120, 0), std::invalid_argument);
  CHECK_THROWS_AS(BitSeq(34, 17), std::invalid_argument);
  CHECK_THROWS_AS(BitSeq(8, 2, {"0000111"}), std::invalid_argument);
  CHECK_THROWS_AS(BitSeq(8, 2, {"0000111."}), std::invalid_argument);
  CHECK_THROWS_AS(BitSeq(8, 2, std::vector<std::string>{}), std::invalid_argument);
}

TEST_CASE("envs: bitseq n=8 k=2 enumerates: log Z, t! paths, uniform max-entropy P_B") {
  const BitSeq env(8, 2);
  const Enumeration all(env);
  CHECK(all.n_states() == 625);
  // Naive log Z over the 256 full strings.
  double z = 0;
  for (int value = 0; value < 256; ++value) {
    std::string bits(8, '0');
    for (int bit = 0; bit < 8; ++bit) bits[bit] = (value >> (7 - bit)) & 1 ? '1' : '0';
    z += std::exp(-2.0 * naive_min_distance(bits, env.reward().modes()));
  }
  CHECK(std::abs(all.log_z() - std::log(z)) <= 1e-12);
  int terminating = 0;
  for (int64_t index = 0; index < all.n_states(); ++index) terminating += all.can_terminate()[index];
  CHECK(terminating == 256);

  const double factorial[5] = {1, 1, 2, 6, 24};
  std::vector<double> closed_form(4), path_count(4);
  for (int64_t index = 0; index < all.n_states(); ++index) {
    const int32_t* state = all.states().row(index).data();
    int filled = 0;
    for (int slot = 0; slot < 4; ++slot) filled += state[slot] != env.empty_word();
    CHECK(std::exp(all.log_path_counts()[index]) == doctest::Approx(factorial[filled]).epsilon(1e-12));
    if (filled == 0) continue;
    env.maxent_backward_logprobs(state, closed_form.data());
    all.maxent_backward_logprobs(index, path_count.data());
    for (int slot = 0; slot < 4; ++slot)
      if (state[slot] != env.empty_word()) CHECK(std::abs(closed_form[slot] - path_count[slot]) <= 1e-12);
  }
}

TEST_CASE("envs: bitseq-ar n=8 k=2 enumerates as a tree with the same log Z") {
  const BitSeqAutoregressive env(8, 2);
  const Enumeration all(env);
  CHECK(all.n_states() == 341);
  const BitSeq non_autoregressive(8, 2);
  CHECK(std::abs(all.log_z() - Enumeration(non_autoregressive).log_z()) <= 1e-12);
  for (int64_t index = 0; index < all.n_states(); ++index) CHECK(all.log_path_counts()[index] == 0.0);
  // Level order: the index numbers shorter sequences first, so the order is by filled length.
  int previous = 0;
  for (int64_t index : all.topological_order()) {
    const int filled = env.filled_slots(all.states().row(index).data());
    CHECK(filled >= previous);
    previous = filled;
  }
  CHECK(env.action_name(3) == "append 11");
}

}  // namespace
}  // namespace gfn
