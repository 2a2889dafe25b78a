// check_environment: tests an Environment implementation against the interface's contract and
// returns a readable report (it never throws for a broken environment; it lists what is wrong).
//
// On states reached by seeded random walks from s0: every valid forward move is undone by its
// backward action, backward_action_of / forward_action_of agree, the child is not s0, the backward
// mask has exactly one entry per parent and parents() lists them, is_final holds exactly when no move
// or exit is left, sparse encodings are K sorted distinct positions in [0, W), dense features finite, rewards of terminating
// states are not NaN or +inf, the max-entropy P_B (when provided) sums to 1, and state_index /
// state_from_index round-trip (when enumerable). When the environment is enumerable and small enough,
// it also walks the whole DAG from s0: every index in [0, n_states) is reached exactly once (a
// bijection) and every terminating state is reachable.
// Not a performance check. Thread contract: a free function; the environment is only read.
//
//   const EnvironmentCheck check = check_environment(env);
//   if (!check.passed()) std::cerr << check.report();
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "envs/environment.hpp"

namespace gfn {

struct EnvironmentCheckOptions {
  int random_states = 200;              // states drawn by random walks
  uint64_t seed = 1;
  int64_t enumeration_limit = 1000000;  // walk the whole DAG when n_states() is at most this
};

struct EnvironmentCheck {
  std::string environment;
  int states_drawn = 0;
  int64_t states_enumerated = 0;      // 0 when the whole-DAG walk did not run
  struct Problem {
    std::string what;         // the rule broken
    std::string first_state;  // the first state it was seen at (empty for whole-DAG findings)
    int64_t count = 0;
  };
  int64_t n_problems = 0;          // occurrences, all kinds
  std::vector<Problem> problems;   // one entry per kind, in the order first seen

  bool passed() const { return n_problems == 0; }
  std::string report() const;  // a summary line, then one line per kind of problem
};

EnvironmentCheck check_environment(const Environment& env, const EnvironmentCheckOptions& options = {});

}  // namespace gfn
