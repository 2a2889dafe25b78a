// Interface consistency of every environment, by the library's check_environment (random-walk
// checks of moves, masks, parents, max-entropy P_B, encodings and indices, plus a whole-DAG walk of
// the enumerable ones up to 100,000 states), and trajectory lengths of the no-exit environments.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <vector>

#include "envs/bitseq.hpp"
#include "envs/bitseq_autoregressive.hpp"
#include "envs/check_environment.hpp"
#include "envs/hypergrid.hpp"
#include "util/random.hpp"

namespace gfn {
namespace {

using State = std::vector<int32_t>;

void expect_consistent(const Environment& env, int random_states, uint64_t seed) {
  EnvironmentCheckOptions options;
  options.random_states = random_states;
  options.seed = seed;
  options.enumeration_limit = 100000;
  const EnvironmentCheck check = check_environment(env, options);
  CHECK_MESSAGE(check.passed(), check.report());
  CHECK(check.states_drawn == random_states);
}

TEST_CASE("envs: hypergrid moves, masks and parents agree on random states") {
  expect_consistent(HyperGrid(4, 20, "standard"), 200, 1);
  expect_consistent(HyperGrid(2, 2, "hard"), 50, 2);
  expect_consistent(HyperGrid(1, 7, "easy"), 50, 3);
  expect_consistent(HyperGrid::grid(), 100, 4);
  expect_consistent(HyperGrid(64, 20, "standard"), 10, 5);  // n_states overflows: index checks skipped
}

TEST_CASE("envs: bitseq moves, masks and parents agree on random states") {
  expect_consistent(BitSeq(), 40, 6);
  expect_consistent(BitSeq(8, 2), 100, 7);
  expect_consistent(BitSeq(12, 3), 100, 8);
  expect_consistent(BitSeq(100, 5), 20, 9);
  expect_consistent(BitSeq(6, 1), 100, 10);
}

TEST_CASE("envs: bitseq-ar moves, masks and parents agree on random states") {
  expect_consistent(BitSeqAutoregressive(), 100, 11);
  expect_consistent(BitSeqAutoregressive(8, 2), 100, 12);
  expect_consistent(BitSeqAutoregressive(12, 3), 100, 13);
  expect_consistent(BitSeqAutoregressive(32, 16), 4, 14);  // 65536 actions each
}

TEST_CASE("envs: every trajectory of a no-exit environment has exactly L moves") {
  const BitSeq bitseq(8, 2);
  const BitSeqAutoregressive autoregressive(8, 2);
  for (int draw = 0; draw < 20; ++draw) {
    Rng rng(static_cast<uint64_t>(draw));
    for (const Environment* env : {static_cast<const Environment*>(&bitseq),
                                   static_cast<const Environment*>(&autoregressive)}) {
      State state(env->state_width());
      std::vector<uint8_t> mask(env->n_actions());
      env->initial_state(state.data());
      int moves = 0;
      while (!env->is_final(state.data())) {
        env->forward_mask(state.data(), mask.data());
        std::vector<int> valid;
        for (int action = 0; action < env->n_actions(); ++action)
          if (mask[action]) valid.push_back(action);
        env->step(state.data(), valid[rng.uniform_int(static_cast<uint32_t>(valid.size()))]);
        ++moves;
      }
      CHECK(moves == 4);
      CHECK(moves == env->max_trajectory_length());
    }
  }
}

}  // namespace
}  // namespace gfn
