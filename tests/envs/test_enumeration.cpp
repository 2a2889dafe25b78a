// Enumeration: refuses large or uncountable spaces before allocating, gives a topological order,
// the true distribution p = R/Z (sums to 1 within 1e-12) and states indexed by state_index.
// Golden log Z values are in test_hypergrid.cpp and test_bitseq.cpp.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "envs/bitseq.hpp"
#include "envs/enumeration.hpp"
#include "envs/hypergrid.hpp"

namespace gfn {
namespace {

std::string runtime_error_message(const Environment& env, int64_t limit) {
  try {
    Enumeration all(env, limit);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

TEST_CASE("envs: enumeration refuses spaces above the limit or not countable, without allocating") {
  const auto start = std::chrono::steady_clock::now();
  const std::string too_many = runtime_error_message(HyperGrid(4, 60, "standard"), Enumeration::kDefaultLimit);
  CHECK(too_many.find("12960000 states, above the enumeration limit of 10000000") != std::string::npos);
  const std::string overflow = runtime_error_message(BitSeq(), Enumeration::kDefaultLimit);
  CHECK(overflow.find("not enumerable") != std::string::npos);
  CHECK(overflow.find("bitseq(n=120,k=8,beta=2)") != std::string::npos);
  CHECK(runtime_error_message(HyperGrid::grid(), 255).find("256 states") != std::string::npos);
  CHECK(runtime_error_message(HyperGrid(64, 20, "standard"), Enumeration::kDefaultLimit) != "");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(200));  // refused up front
  const HyperGrid grid = HyperGrid::grid();
  CHECK_NOTHROW(Enumeration(grid, 256));
}

TEST_CASE("envs: enumeration order puts parents first, p sums to 1, rows follow state_index") {
  const HyperGrid env(3, 5, "medium");
  const Enumeration all(env);
  std::vector<int64_t> position(all.n_states(), -1);
  for (size_t i = 0; i < all.topological_order().size(); ++i) position[all.topological_order()[i]] = i;
  std::vector<int32_t> parents(3 * 3);
  std::vector<int> actions(3);
  int previous_sum = 0;
  double total = 0;
  for (int64_t index = 0; index < all.n_states(); ++index) {
    const int32_t* state = all.states().row(index).data();
    CHECK(env.state_index(state) == index);
    const int n_parents = env.parents(state, parents.data(), actions.data());
    for (int p = 0; p < n_parents; ++p) CHECK(position[env.state_index(parents.data() + 3 * p)] < position[index]);
    total += all.true_distribution()[index];
    CHECK(all.true_distribution()[index] ==
          doctest::Approx(env.reward_value(state) / std::exp(all.log_z())).epsilon(1e-12));
  }
  CHECK(total == doctest::Approx(1.0).epsilon(1e-12));
  for (int64_t index : all.topological_order()) {  // by |x|_1 on HyperGrid
    const int32_t* state = all.states().row(index).data();
    const int sum = state[0] + state[1] + state[2];
    CHECK(sum >= previous_sum);
    previous_sum = sum;
  }
  CHECK(all.topological_order().front() == 0);
}

TEST_CASE("envs: enumeration of a no-exit space gives p = 0 on states that cannot terminate") {
  const BitSeq env(4, 2);
  const Enumeration all(env);
  for (int64_t index = 0; index < all.n_states(); ++index) {
    const bool final = env.is_final(all.states().row(index).data());
    CHECK(all.can_terminate()[index] == final);
    if (!final) CHECK(all.true_distribution()[index] == 0.0);
    if (!final) CHECK(std::isinf(all.log_rewards()[index]));
  }
}

}  // namespace
}  // namespace gfn
