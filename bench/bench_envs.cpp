// bench_envs: single-thread speed of the environments. First checks the fast paths against simple
// ones (popcount Hamming distance vs a bit-by-bit count; HyperGrid reward vs the rational formula),
// then times, per environment, the mask + step + reward cycle of uniformly random valid walks, and
// the BitSeq n=120 reward alone. Each case runs 5 times; one line per case gives the median.
// Not a training benchmark: no policy, no network.
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "envs/bitseq.hpp"
#include "envs/bitseq_autoregressive.hpp"
#include "envs/hypergrid.hpp"
#include "util/random.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kRepeats = 5;
constexpr double kTorchgfnSecondsPerStep = 115e-6;  // docs/performance.md: per state-step overhead
constexpr double kRewardTargetPerSecond = 5e6;

void fail(const std::string& message) {
  std::fprintf(stderr, "bench_envs: check failed: %s\n", message.c_str());
  std::exit(1);
}

std::string random_bits(int n_bits, gfn::Rng& rng) {
  std::string bits(n_bits, '0');
  for (char& bit : bits) bit = rng.uniform_int(2) ? '1' : '0';
  return bits;
}

void check_bitseq_distance(const gfn::BitSeq& env) {
  const int n_bits = env.reward().n_bits();
  gfn::Rng rng(1);
  std::vector<int32_t> state(env.state_width());
  for (int draw = 0; draw < 2000; ++draw) {
    const std::string bits = random_bits(n_bits, rng);
    int naive = INT_MAX;
    for (const std::string& mode : env.reward().modes()) {
      int distance = 0;
      for (int i = 0; i < n_bits; ++i) distance += bits[i] != mode[i];
      naive = std::min(naive, distance);
    }
    env.reward().words_from_bits(bits, state.data());
    if (env.reward().min_distance(state.data()) != naive) fail("popcount distance differs on " + bits);
  }
}

void check_hypergrid_reward(const gfn::HyperGrid& env) {
  const int side = env.height() - 1;
  const gfn::HyperGridReward reward = env.reward();
  std::vector<int32_t> state(env.ndim());
  for (int64_t index = 0; index < env.n_states(); ++index) {
    env.state_from_index(index, state.data());
    bool outer = true, band = true;
    for (int32_t x : state) {
      const int a20 = std::abs(20 * x - 10 * side);  // 20 (H-1) |x/(H-1) - 1/2|
      outer &= a20 > 5 * side;
      band &= 6 * side < a20 && a20 < 8 * side;
    }
    if (env.reward_value(state.data()) != reward.r0 + (outer ? reward.r1 : 0.0) + (band ? reward.r2 : 0.0))
      fail("hypergrid reward differs at " + env.state_string(state.data()));
  }
}

// Steps (moves and exits) per second of random valid walks: mask, a uniform valid action (drawn by
// rejection, so the harness does not scan the A mask entries), step, and log R at every terminating
// transition.
double walk_steps_per_second(const gfn::Environment& env, int64_t steps) {
  std::vector<int32_t> state(env.state_width());
  std::vector<uint8_t> mask(env.n_actions());
  gfn::Rng rng(7);
  double reward_sum = 0;
  env.initial_state(state.data());
  const auto start = Clock::now();
  for (int64_t step = 0; step < steps; ++step) {
    env.forward_mask(state.data(), mask.data());
    int action = static_cast<int>(rng.uniform_int(env.n_actions()));
    while (!mask[action]) action = static_cast<int>(rng.uniform_int(env.n_actions()));
    if (action == env.exit_action()) {
      reward_sum += env.log_reward(state.data());
      env.initial_state(state.data());
      continue;
    }
    env.step(state.data(), action);
    if (env.is_final(state.data())) {
      reward_sum += env.log_reward(state.data());
      env.initial_state(state.data());
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (reward_sum == 1.2345) std::printf(" ");  // keeps the rewards observable
  return steps / seconds;
}

double rewards_per_second(const gfn::BitSeq& env, int64_t evaluations) {
  constexpr int kStates = 4096;
  gfn::Rng rng(3);
  gfn::StateMatrix states(kStates, env.state_width());
  for (int i = 0; i < kStates; ++i) env.reward().words_from_bits(random_bits(120, rng), states.row(i).data());
  double reward_sum = 0;
  const auto start = Clock::now();
  for (int64_t i = 0; i < evaluations; ++i) reward_sum += env.log_reward(states.row(i % kStates).data());
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (reward_sum == 1.2345) std::printf(" ");
  return evaluations / seconds;
}

void report_walk(const gfn::Environment& env, int64_t steps) {
  std::vector<double> rates;
  for (int repeat = 0; repeat < kRepeats; ++repeat) rates.push_back(walk_steps_per_second(env, steps));
  const double rate = gfn::bench::median(rates);
  std::printf("%-34s mask+step+reward %8.2f M steps/s %7.1f ns/step  x%.0f vs torchgfn's ~115 us/step\n",
              env.name().c_str(), rate / 1e6, 1e9 / rate, rate * kTorchgfnSecondsPerStep);
}

}  // namespace

int main() {
  const gfn::HyperGrid hypergrid(4, 20, "standard");
  const gfn::HyperGrid grid = gfn::HyperGrid::grid();
  const gfn::BitSeq bitseq;
  const gfn::BitSeqAutoregressive bitseq_autoregressive;

  check_bitseq_distance(bitseq);
  check_bitseq_distance(gfn::BitSeq(200, 8, std::vector<std::string>(bitseq.reward().modes().size(),
                                                                     std::string(200, '0')), 2.0, 30));
  check_hypergrid_reward(hypergrid);
  check_hypergrid_reward(grid);
  std::printf("checks passed: popcount distance = naive (n=120, n=200), hypergrid reward = rational formula\n");
  std::printf("one thread, median of %d runs\n", kRepeats);

  report_walk(hypergrid, 20'000'000);
  report_walk(grid, 20'000'000);
  report_walk(bitseq, 5'000'000);
  report_walk(bitseq_autoregressive, 5'000'000);

  std::vector<double> rates;
  for (int repeat = 0; repeat < kRepeats; ++repeat) rates.push_back(rewards_per_second(bitseq, 20'000'000));
  const double rate = gfn::bench::median(rates);
  std::printf("%-34s log_reward       %8.2f M rewards/s %5.1f ns each  x%.1f vs the 5 M/s target\n",
              bitseq.name().c_str(), rate / 1e6, 1e9 / rate, rate / kRewardTargetPerSecond);
  return 0;
}
