// Interface consistency of every environment on random states reached by seeded random walks:
// each valid forward move is undone by its backward action, backward_action_of / forward_action_of
// agree, the backward mask is exactly the set of parents, parents() agrees with the masks, the
// max-entropy P_B is normalised, encodings are K sorted positions in [0, W), indices round-trip.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <vector>

#include "core/random.hpp"
#include "envs/bitseq.hpp"
#include "envs/bitseq_autoregressive.hpp"
#include "envs/hypergrid.hpp"

namespace gfn {
namespace {

using State = std::vector<int32_t>;

// A state after a random number of uniformly chosen valid moves (never exit) from s0.
State random_state(const Environment& env, Rng& rng) {
  State state(env.state_width());
  std::vector<uint8_t> mask(env.n_actions());
  env.initial_state(state.data());
  const int moves = static_cast<int>(rng.uniform_int(env.max_trajectory_length()));
  for (int move = 0; move < moves; ++move) {
    env.forward_mask(state.data(), mask.data());
    std::vector<int> valid;
    for (int action = 0; action < env.n_actions(); ++action)
      if (mask[action] && action != env.exit_action()) valid.push_back(action);
    if (valid.empty()) break;
    env.step(state.data(), valid[rng.uniform_int(static_cast<uint32_t>(valid.size()))]);
  }
  return state;
}

void check_moves(const Environment& env, const State& state) {
  const int n_actions = env.n_actions(), n_backward = env.n_backward_actions();
  std::vector<uint8_t> mask(n_actions), child_backward_mask(n_backward);
  env.forward_mask(state.data(), mask.data());
  int valid_moves = 0;
  for (int action = 0; action < n_actions; ++action) {
    if (!mask[action] || action == env.exit_action()) continue;
    ++valid_moves;
    State child = state;
    env.step(child.data(), action);
    const int backward = env.backward_action_of(state.data(), action);
    REQUIRE(backward >= 0);
    REQUIRE(backward < n_backward);
    env.backward_mask(child.data(), child_backward_mask.data());
    CHECK(child_backward_mask[backward] == 1);
    CHECK(env.forward_action_of(child.data(), backward) == action);
    CHECK_FALSE(env.is_initial(child.data()));
    State back = child;
    env.backward_step(back.data(), backward);
    CHECK(back == state);
  }
  CHECK(env.is_final(state.data()) == (valid_moves == 0 && env.exit_action() < 0));
  if (env.exit_action() >= 0) CHECK(mask[env.exit_action()] == 1);
  CHECK(env.can_terminate(state.data()) == (env.exit_action() >= 0 || env.is_final(state.data())));
}

void check_parents(const Environment& env, const State& state) {
  const int width = env.state_width(), n_backward = env.n_backward_actions();
  std::vector<uint8_t> backward_mask(n_backward), parent_mask(env.n_actions());
  env.backward_mask(state.data(), backward_mask.data());
  std::vector<int32_t> parent_states(static_cast<size_t>(env.max_parents()) * width);
  std::vector<int> actions(env.max_parents());
  const int n_parents = env.parents(state.data(), parent_states.data(), actions.data());
  CHECK(n_parents == std::count(backward_mask.begin(), backward_mask.end(), 1));
  CHECK(n_parents <= env.max_parents());
  CHECK((n_parents == 0) == env.is_initial(state.data()));
  // Every backward action yields a listed parent, reached by the listed action.
  for (int backward = 0; backward < n_backward; ++backward) {
    if (!backward_mask[backward]) continue;
    State parent = state;
    env.backward_step(parent.data(), backward);
    bool listed = false;
    for (int p = 0; p < n_parents; ++p)
      if (std::equal(parent.begin(), parent.end(), parent_states.begin() + p * width))
        listed = actions[p] == env.forward_action_of(state.data(), backward);
    CHECK(listed);
  }
  // Every listed parent reaches the state by its listed (valid) action.
  for (int p = 0; p < n_parents; ++p) {
    State parent(parent_states.begin() + p * width, parent_states.begin() + (p + 1) * width);
    env.forward_mask(parent.data(), parent_mask.data());
    CHECK(parent_mask[actions[p]] == 1);
    env.step(parent.data(), actions[p]);
    CHECK(parent == state);
  }
  if (n_parents > 0) {
    std::vector<double> logp(n_backward);
    env.maxent_backward_logprobs(state.data(), logp.data());
    double total = 0;
    for (int backward = 0; backward < n_backward; ++backward) {
      CHECK((logp[backward] > -INFINITY) == (backward_mask[backward] == 1));
      if (backward_mask[backward]) total += std::exp(logp[backward]);
    }
    CHECK(total == doctest::Approx(1.0).epsilon(1e-12));
  }
}

void check_encodings_and_index(const Environment& env, const State& state) {
  for (Encoding encoding : {Encoding::KHot, Encoding::OneHotState}) {
    const int width = env.encoding_width(encoding);
    if (width < 0) continue;
    std::vector<int32_t> active(env.encoding_active(encoding));
    env.encode_active(state.data(), encoding, active.data());
    CHECK(active.front() >= 0);
    CHECK(active.back() < width);
    CHECK(std::is_sorted(active.begin(), active.end()));
    CHECK(std::adjacent_find(active.begin(), active.end()) == active.end());
  }
  if (env.n_states() >= 0) {
    const int64_t index = env.state_index(state.data());
    CHECK(index >= 0);
    CHECK(index < env.n_states());
    State decoded(env.state_width());
    env.state_from_index(index, decoded.data());
    CHECK(decoded == state);
  }
}

void check_environment(const Environment& env, int n_states_to_draw, uint64_t seed) {
  CAPTURE(env.name());
  for (int draw = 0; draw < n_states_to_draw; ++draw) {
    Rng rng = Rng::stream(seed, draw);
    const State state = random_state(env, rng);
    CAPTURE(env.state_string(state.data()));
    check_moves(env, state);
    check_parents(env, state);
    check_encodings_and_index(env, state);
  }
}

TEST_CASE("envs: hypergrid moves, masks and parents agree on random states") {
  check_environment(HyperGrid(4, 20, "standard"), 200, 1);
  check_environment(HyperGrid(2, 2, "hard"), 50, 2);
  check_environment(HyperGrid(1, 7, "easy"), 50, 3);
  check_environment(HyperGrid::grid(), 100, 4);
  check_environment(HyperGrid(64, 20, "standard"), 10, 5);  // n_states overflows: index checks skipped
}

TEST_CASE("envs: bitseq moves, masks and parents agree on random states") {
  check_environment(BitSeq(), 40, 6);
  check_environment(BitSeq(8, 2), 100, 7);
  check_environment(BitSeq(12, 3), 100, 8);
  check_environment(BitSeq(100, 5), 20, 9);
  check_environment(BitSeq(6, 1), 100, 10);
}

TEST_CASE("envs: bitseq-ar moves, masks and parents agree on random states") {
  check_environment(BitSeqAutoregressive(), 100, 11);
  check_environment(BitSeqAutoregressive(8, 2), 100, 12);
  check_environment(BitSeqAutoregressive(12, 3), 100, 13);
  check_environment(BitSeqAutoregressive(32, 16), 4, 14);  // 65536 actions each
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
