// HyperGrid and Grid: the table of docs/environments.md through Enumeration, the Grid demo's
// modes and action names, integer-exact indicators, indices, encodings, and the max-entropy P_B
// closed form against path counts. Tolerances: Z relative 1e-9, log Z absolute 1e-6 (the table
// is rounded to 6 decimals), P_B absolute 1e-12.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "envs/enumeration.hpp"
#include "envs/hypergrid.hpp"

namespace gfn {
namespace {

struct GoldenRow {
  int ndim, height;
  double r0, r1, r2;
  int64_t n_states;
  double z, log_z;
  int64_t max_reward_states;
};

const GoldenRow kGoldenTable[] = {
    {2, 16, 0.01, 0.5, 2.0, 256, 42.56, 3.750915, 4},   {2, 8, 0.1, 0.5, 2.0, 64, 22.4, 3.109061, 4},
    {4, 8, 0.1, 0.5, 2.0, 4096, 569.6, 6.344934, 16},   {4, 8, 1e-3, 0.5, 2.0, 4096, 164.096, 5.100452, 16},
    {4, 20, 1e-3, 0.5, 2.0, 160000, 5672, 8.643297, 256}, {4, 20, 1e-4, 1.0, 3.0, 160000, 10784, 9.285819, 256},
    {2, 64, 0.01, 0.5, 2.0, 4096, 840.96, 6.734544, 144},
};

TEST_CASE("envs: hypergrid golden table (Z rel 1e-9, log Z abs 1e-6, max-reward count exact)") {
  for (const GoldenRow& row : kGoldenTable) {
    CAPTURE(row.ndim);
    CAPTURE(row.height);
    CAPTURE(row.r0);
    const HyperGrid env(row.ndim, row.height, row.r0, row.r1, row.r2);
    const Enumeration all(env);
    CHECK(all.n_states() == row.n_states);
    CHECK(std::abs(std::exp(all.log_z()) - row.z) <= 1e-9 * row.z);
    CHECK(std::abs(all.log_z() - row.log_z) <= 1e-6);

    double max_log_reward = -std::numeric_limits<double>::infinity();
    for (double log_reward : all.log_rewards()) max_log_reward = std::max(max_log_reward, log_reward);
    CHECK(max_log_reward == doctest::Approx(std::log(row.r0 + row.r1 + row.r2)).epsilon(1e-15));
    int64_t max_reward_states = 0;
    std::set<int64_t> mode_ids;
    for (int64_t index = 0; index < all.n_states(); ++index) {
      const int32_t* state = all.states().row(index).data();
      const bool is_max = all.log_rewards()[index] == max_log_reward;
      max_reward_states += is_max;
      const int64_t id = env.mode_of(state);
      CHECK((id >= 0) == is_max);
      if (is_max) mode_ids.insert(id);
    }
    CHECK(max_reward_states == row.max_reward_states);
    CHECK(env.n_modes() == row.max_reward_states);
    CHECK(static_cast<int64_t>(mode_ids.size()) == row.max_reward_states);  // ids are distinct ...
    CHECK(*mode_ids.rbegin() == row.max_reward_states - 1);                  // ... and dense in [0, n_modes)
  }
}

TEST_CASE("envs: hypergrid presets by name match docs/environments.md and the golden rows") {
  CHECK(HyperGrid(4, 20, "standard").name() == "hypergrid(D=4,H=20,standard)");
  const HyperGridReward hard = hypergrid_reward_preset("hard");
  CHECK(hard.r0 == 1e-4);
  CHECK(hard.r1 == 1.0);
  CHECK(hard.r2 == 3.0);
  CHECK(hypergrid_reward_preset("easy").r1 == 0.3);
  CHECK(hypergrid_reward_preset("medium").r2 == 2.0);
  CHECK(hypergrid_reward_preset("hard-tgfn").r0 == 0.05);
  CHECK(hypergrid_reward_preset("challenging").r2 == 4.0);
  CHECK(hypergrid_reward_preset("impossible").r0 == 0.0);
  CHECK(hypergrid_reward_preset_names().size() == 7);
  CHECK_THROWS_AS(hypergrid_reward_preset("nope"), std::invalid_argument);
  const HyperGrid standard(4, 20, "standard");
  CHECK(std::abs(Enumeration(standard).log_z() - 8.643297) <= 1e-6);
}

TEST_CASE("envs: hypergrid impossible preset has log R = -inf off the bonus regions") {
  const HyperGrid env(2, 16, "impossible");
  const int32_t center[2] = {7, 8}, outer[2] = {0, 15}, mode[2] = {2, 13};
  CHECK(env.log_reward(center) == -std::numeric_limits<double>::infinity());
  CHECK(env.log_reward(outer) == doctest::Approx(std::log(0.7)));
  CHECK(env.log_reward(mode) == doctest::Approx(std::log(5.7)));
  const Enumeration all(env);
  // Outer coordinates per axis: e = |2x - 15| > 7.5, i.e. x <= 3 or x >= 12: 8 per axis; band: 2, 13.
  CHECK(std::exp(all.log_z()) == doctest::Approx(64 * 0.7 + 4 * 5.0).epsilon(1e-12));
  CHECK(env.n_modes() == 4);
}

TEST_CASE("envs: grid is the 16x16 demo preset with four modes at (2,2) (2,13) (13,2) (13,13)") {
  const HyperGrid grid = HyperGrid::grid();
  CHECK(grid.name() == "grid");
  CHECK(grid.ndim() == 2);
  CHECK(grid.height() == 16);
  CHECK(grid.default_encoding() == Encoding::OneHotState);
  CHECK(grid.encoding_width(Encoding::OneHotState) == 256);
  CHECK(grid.action_name(0) == "Down");
  CHECK(grid.action_name(1) == "Right");
  CHECK(grid.action_name(2) == "Terminate");
  CHECK(grid.exit_action() == 2);

  std::set<std::pair<int, int>> modes;
  for (int row = 0; row < 16; ++row)
    for (int column = 0; column < 16; ++column) {
      const int32_t cell[2] = {row, column};
      if (grid.mode_of(cell) >= 0) modes.insert({row, column});
      if (grid.mode_of(cell) >= 0) CHECK(grid.reward_value(cell) == 0.01 + 0.5 + 2.0);
    }
  CHECK(modes == std::set<std::pair<int, int>>{{2, 2}, {2, 13}, {13, 2}, {13, 13}});

  int32_t cell[2];
  grid.initial_state(cell);
  grid.step(cell, 0);  // Down: row + 1 = coordinate 0
  CHECK(cell[0] == 1);
  CHECK(cell[1] == 0);
  CHECK(grid.state_index(cell) == 16);
  CHECK(grid.state_string(cell) == "(1,0)");
}

TEST_CASE("envs: hypergrid action names, indices, k-hot and one-hot encodings") {
  const HyperGrid env(4, 5, "standard");
  CHECK(env.action_name(0) == "+x0");
  CHECK(env.action_name(3) == "+x3");
  CHECK(env.action_name(4) == "exit");
  CHECK(env.n_actions() == 5);
  CHECK(env.n_backward_actions() == 4);
  CHECK(env.max_trajectory_length() == 17);
  CHECK(env.n_states() == 625);
  const int32_t state[4] = {1, 2, 3, 4};
  CHECK(env.state_index(state) == 1 * 125 + 2 * 25 + 3 * 5 + 4);
  int32_t decoded[4];
  env.state_from_index(env.state_index(state), decoded);
  CHECK(std::vector<int32_t>(decoded, decoded + 4) == std::vector<int32_t>(state, state + 4));

  CHECK(env.encoding_width(Encoding::KHot) == 20);
  CHECK(env.encoding_active(Encoding::KHot) == 4);
  int32_t active[4];
  env.encode_active(state, Encoding::KHot, active);
  CHECK(std::vector<int32_t>(active, active + 4) == std::vector<int32_t>{1, 7, 13, 19});
  env.encode_active(state, Encoding::OneHotState, active);
  CHECK(active[0] == env.state_index(state));

  uint8_t mask[5];
  const int32_t corner[4] = {4, 0, 4, 0};
  env.forward_mask(corner, mask);
  CHECK(std::vector<uint8_t>(mask, mask + 5) == std::vector<uint8_t>{0, 1, 0, 1, 1});
  int32_t origin[4];
  env.initial_state(origin);
  env.forward_mask(origin, mask);
  CHECK(mask[4] == 1);  // exit is valid at s0
  CHECK(env.can_terminate(origin));
  CHECK_FALSE(env.is_final(corner));
}

TEST_CASE("envs: hypergrid indicators are integer-exact and symmetric (H = 16 float trap)") {
  for (int height : {2, 3, 8, 16, 20, 21, 64}) {
    const HyperGrid env(1, height, 0.01, 0.5, 2.0);
    for (int x = 0; x < height; ++x) {
      const int32_t low[1] = {x}, high[1] = {height - 1 - x};
      CHECK(env.log_reward(low) == env.log_reward(high));
      // Reference predicate in exact rationals: a = |x/(H-1) - 1/2|, scaled by 20(H-1).
      const int a20 = std::abs(20 * x - 10 * (height - 1));  // 20(H-1) a
      const bool outer = a20 > 5 * (height - 1), band = 6 * (height - 1) < a20 && a20 < 8 * (height - 1);
      CHECK(env.reward_value(low) == 0.01 + (outer ? 0.5 : 0.0) + (band ? 2.0 : 0.0));
    }
  }
}

TEST_CASE("envs: hypergrid n_modes counts max-reward states also when a bonus is 0") {
  struct Case {
    int ndim, height;
    double r0, r1, r2;
  };
  for (const Case& c : {Case{3, 8, 0.1, 0.5, 0.0}, Case{2, 10, 0.1, 0.0, 2.0}, Case{3, 4, 1.0, 0.0, 0.0},
                        Case{3, 20, 0.1, 0.5, 2.0}, Case{2, 2, 0.1, 0.5, 2.0}}) {
    const HyperGrid env(c.ndim, c.height, c.r0, c.r1, c.r2);
    const Enumeration all(env);
    int64_t count = 0;
    for (int64_t index = 0; index < all.n_states(); ++index)
      count += env.reward_value(all.states().row(index).data()) == c.r0 + c.r1 + c.r2;
    CAPTURE(env.name());
    CHECK(env.n_modes() == count);
  }
}

TEST_CASE("envs: hypergrid max-entropy P_B closed form equals the path-count ratio on D=3, H=4") {
  const HyperGrid env(3, 4, "standard");
  const Enumeration all(env);
  double closed_form[3], path_count[3];
  for (int64_t index = 0; index < all.n_states(); ++index) {
    const int32_t* state = all.states().row(index).data();
    if (env.is_initial(state)) continue;
    env.maxent_backward_logprobs(state, closed_form);
    all.maxent_backward_logprobs(index, path_count);
    for (int d = 0; d < 3; ++d) {
      CAPTURE(env.state_string(state));
      if (state[d] == 0) {
        CHECK(closed_form[d] == -std::numeric_limits<double>::infinity());
        CHECK(path_count[d] == -std::numeric_limits<double>::infinity());
      } else {
        CHECK(std::abs(closed_form[d] - path_count[d]) <= 1e-12);
      }
    }
  }
  // n(x) is the multinomial |x|_1! / prod x_d!: (1,2,3) has 6!/(1!2!3!) = 60 paths.
  const int32_t state[3] = {1, 2, 3};
  CHECK(std::exp(all.log_path_counts()[env.state_index(state)]) == doctest::Approx(60.0).epsilon(1e-12));
}

TEST_CASE("envs: hypergrid sizes that overflow int64 report -1 without undefined behaviour") {
  const HyperGrid env(64, 20, "standard");
  CHECK(env.n_states() == -1);
  CHECK(env.encoding_width(Encoding::OneHotState) == -1);
  CHECK(env.n_modes() == -1);  // 4^64 mode states
  CHECK(env.encoding_width(Encoding::KHot) == 64 * 20);
  CHECK_THROWS_AS(HyperGrid(0, 20, "standard"), std::invalid_argument);
  CHECK_THROWS_AS(HyperGrid(2, 1, "standard"), std::invalid_argument);
  CHECK_THROWS_AS(HyperGrid(2, 8, -0.1, 0.5, 2.0), std::invalid_argument);
  CHECK_THROWS_AS(HyperGrid(2, 8, 0.0, 0.0, 0.0), std::invalid_argument);
}

}  // namespace
}  // namespace gfn
