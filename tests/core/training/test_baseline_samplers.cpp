// Baseline samplers: Metropolis-Hastings chains reach p = R/Z (the final states of many independent
// chains, each count within 5 binomial sigmas) with step moves (HyperGrid) and sibling moves (BitSeq);
// chains are bit-identical on 1 and 2 threads and step without allocating; uniform guessing is uniform over terminal objects (5 sigma).
#include <doctest/doctest.h>

#include <vector>

#include "core/training/baseline_samplers.hpp"
#include "envs/bitseq.hpp"
#include "envs/enumeration.hpp"
#include "envs/hypergrid.hpp"
#include "support/allocation_counter.hpp"
#include "support/core_fixtures.hpp"
#include "support/statistics.hpp"

namespace gfn {
namespace {

using testing::check_binomial;
using testing::ScopedThreads;

// Runs `chains` independent chains for `steps` proposals and checks the histogram of their final states
// against R/Z. Chains are independent, so each state's count is binomial.
void check_stationary(const Environment& env, int chains, int steps) {
  const Enumeration all(env);
  MetropolisHastings mcmc(env, chains, 99);
  for (int t = 0; t < steps; ++t) mcmc.step();
  std::vector<int64_t> counts(all.n_states(), 0);
  const int width = env.state_width();
  for (int chain = 0; chain < chains; ++chain) ++counts[env.state_index(mcmc.states().data() + chain * width)];
  for (int64_t index = 0; index < all.n_states(); ++index) {
    CAPTURE(env.state_string(all.states().row(index).data()));
    if (!all.can_terminate()[index]) {
      CHECK(counts[index] == 0);
      continue;
    }
    check_binomial(counts[index], chains, all.true_distribution()[index]);
  }
  // Each chain's start, then one proposal per step (every object of these spaces has a neighbour).
  CHECK(mcmc.reward_calls() == int64_t(chains) * (steps + 1));
  CHECK(mcmc.accepted() > 0);
}

TEST_CASE("core: MCMC with +-1 steps reaches R/Z on a 4x4 grid (5 sigma over 8000 chains)") {
  check_stationary(HyperGrid(2, 4, 0.3, 0.5, 2.0), 8000, 150);
}

TEST_CASE("core: MCMC re-drawing one word reaches R/Z on BitSeq n=4 k=1 (5 sigma over 8000 chains)") {
  check_stationary(BitSeq(4, 1, {"0011", "1100"}, 1.0, 0), 8000, 60);
}

TEST_CASE("core: MCMC chains are bit-identical on 1 and 2 threads") {
  const HyperGrid env(4, 8, "hard");
  std::vector<int32_t> one, two;
  for (int threads : {1, 2}) {
    ScopedThreads scope(threads);
    MetropolisHastings mcmc(env, 16, 5);
    for (int t = 0; t < 200; ++t) mcmc.step();
    (threads == 1 ? one : two) = mcmc.states();
    CHECK(mcmc.reward_calls() == 16 * 201);  // every grid state has a neighbour
  }
  CHECK(one == two);
}

TEST_CASE("core: MCMC steps allocate nothing (step moves on HyperGrid, sibling moves on BitSeq)") {
  if (!testing::allocation_counting_available()) {
    MESSAGE("skipped: allocation counting is not available in this build (sanitizer owns malloc)");
    return;
  }
  const HyperGrid grid(3, 8, "hard");
  const BitSeq bitseq(24, 4, {"000011110000111100001111", "111100001111000011110000"}, 2.0, 6);
  for (const Environment* env : {static_cast<const Environment*>(&grid), static_cast<const Environment*>(&bitseq)}) {
    CAPTURE(env->name());
    MetropolisHastings mcmc(*env, 16, 7);
    // Warm-up sizes every thread's scratch at once (a thread the machine kept busy may get its first
    // chain only in the measured steps).
    for (int t = 0; t < 20; ++t) mcmc.step();
    const int64_t before = testing::allocation_count();
    for (int t = 0; t < 300; ++t) mcmc.step();
    CHECK(testing::allocation_count() - before == 0);
    CHECK(mcmc.accepted() > 0);
  }
}

TEST_CASE("core: uniform guessing is uniform over terminal objects (grid by index, BitSeq by walk; 5 sigma)") {
  const HyperGrid grid(2, 3, "standard");
  const BitSeq bitseq(4, 1, {"0011"}, 1.0, 0);
  for (const Environment* env : {static_cast<const Environment*>(&grid), static_cast<const Environment*>(&bitseq)}) {
    CAPTURE(env->name());
    const Enumeration all(*env);
    int n_terminal = 0;
    for (uint8_t terminal : all.can_terminate()) n_terminal += terminal;
    UniformGuessing guessing(*env, 3);
    std::vector<int32_t> objects;
    std::vector<double> log_rewards;
    constexpr int n = 18000;
    guessing.draw(n / 2, objects, log_rewards);
    std::vector<int32_t> more;
    guessing.draw(n / 2, more, log_rewards);
    objects.insert(objects.end(), more.begin(), more.end());
    CHECK(guessing.reward_calls() == n);
    std::vector<int64_t> counts(all.n_states(), 0);
    for (int i = 0; i < n; ++i) ++counts[env->state_index(objects.data() + i * env->state_width())];
    for (int64_t index = 0; index < all.n_states(); ++index)
      if (all.can_terminate()[index])
        check_binomial(counts[index], n, 1.0 / n_terminal);
      else
        CHECK(counts[index] == 0);
  }
}

}  // namespace
}  // namespace gfn
