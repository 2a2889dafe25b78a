// check_environment (envs/check_environment.hpp): random-walk checks of every interface rule, then a
// breadth-first walk of the whole DAG for enumerable environments. The checks go on after a problem,
// so one report shows every kind of problem found.
#include "envs/check_environment.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <sstream>

namespace gfn {
namespace {

using State = std::vector<int32_t>;

class Checker {
 public:
  Checker(const Environment& env, EnvironmentCheck& result) : env_(env), result_(result) {}

  // Each kind of problem is listed once, with how often it occurred and the first state showing it.
  void problem(const State& state, const std::string& what) { note(what, env_.state_string(state.data())); }
  void note(const std::string& what, const std::string& where = "") {
    ++result_.n_problems;
    for (EnvironmentCheck::Problem& known : result_.problems)
      if (known.what == what) {
        ++known.count;
        return;
      }
    result_.problems.push_back({what, where, 1});
  }
  void expect(bool condition, const State& state, const std::string& what) {
    if (!condition) problem(state, what);
  }

  // A state after a random number of uniformly chosen valid moves (never exit) from s0.
  State random_state(std::mt19937_64& rng) {
    State state(env_.state_width());
    std::vector<uint8_t> mask(env_.n_actions());
    env_.initial_state(state.data());
    const int moves = std::uniform_int_distribution<int>(0, env_.max_trajectory_length())(rng);
    for (int move = 0; move < moves; ++move) {
      const std::vector<int> valid = valid_moves(state, mask);
      if (valid.empty()) break;
      env_.step(state.data(), valid[std::uniform_int_distribution<size_t>(0, valid.size() - 1)(rng)]);
    }
    return state;
  }

  std::vector<int> valid_moves(const State& state, std::vector<uint8_t>& mask) const {
    env_.forward_mask(state.data(), mask.data());
    std::vector<int> valid;
    for (int action = 0; action < env_.n_actions(); ++action)
      if (mask[action] && action != env_.exit_action()) valid.push_back(action);
    return valid;
  }

  void check_moves(const State& state) {
    std::vector<uint8_t> mask(env_.n_actions()), child_backward_mask(env_.n_backward_actions());
    const std::vector<int> valid = valid_moves(state, mask);
    for (int action : valid) {
      const std::string move = "move " + env_.action_name(action);
      State child = state;
      env_.step(child.data(), action);
      const int backward = env_.backward_action_of(state.data(), action);
      if (backward < 0 || backward >= env_.n_backward_actions()) {
        problem(state, move + ": backward_action_of is out of range");
        continue;
      }
      env_.backward_mask(child.data(), child_backward_mask.data());
      expect(child_backward_mask[backward] == 1, state, move + ": its backward action is masked at the child");
      expect(env_.forward_action_of(child.data(), backward) == action, state,
             move + ": forward_action_of does not invert backward_action_of");
      expect(!env_.is_initial(child.data()), state, move + ": leads to a state that is_initial");
      State back = child;
      env_.backward_step(back.data(), backward);
      expect(back == state, state, move + ": backward_step does not undo it");
    }
    const bool has_exit = env_.exit_action() >= 0 && mask[env_.exit_action()];
    expect(env_.is_final(state.data()) == (valid.empty() && env_.exit_action() < 0), state,
           "is_final disagrees with the forward mask (final means no move and no exit action)");
    expect(!valid.empty() || has_exit || env_.is_final(state.data()), state, "a dead end: no move, no exit, not final");
    if (env_.can_terminate(state.data())) {
      const double log_reward = env_.log_reward(state.data());
      expect(!std::isnan(log_reward) && log_reward != INFINITY, state, "log_reward is NaN or +inf");
    }
  }

  void check_parents(const State& state) {
    const int width = env_.state_width(), n_backward = env_.n_backward_actions();
    std::vector<uint8_t> backward_mask(n_backward);
    env_.backward_mask(state.data(), backward_mask.data());
    const int n_masked = int(std::count(backward_mask.begin(), backward_mask.end(), 1));
    std::vector<int32_t> parent_states(size_t(std::max(env_.max_parents(), n_masked)) * width);
    std::vector<int> actions(std::max(env_.max_parents(), n_masked));
    const int n_parents = env_.parents(state.data(), parent_states.data(), actions.data());
    expect(n_parents == n_masked, state, "parents() and the backward mask disagree on the number of parents");
    expect(n_parents <= env_.max_parents(), state, "more parents than max_parents()");
    expect((n_parents == 0) == env_.is_initial(state.data()), state, "only s0 may have no parents");
    std::vector<uint8_t> parent_mask(env_.n_actions());
    for (int p = 0; p < std::min(n_parents, n_masked); ++p) {
      State parent(parent_states.begin() + int64_t(p) * width, parent_states.begin() + int64_t(p + 1) * width);
      env_.forward_mask(parent.data(), parent_mask.data());
      if (actions[p] < 0 || actions[p] >= env_.n_actions() || !parent_mask[actions[p]]) {
        problem(state, "parents(): a listed action is not valid at its parent");
        continue;
      }
      env_.step(parent.data(), actions[p]);
      expect(parent == state, state, "parents(): a listed parent does not reach the state by its action");
    }
    if (n_parents > 0 && env_.provides(Capability::MaxEntBackward)) {
      std::vector<double> logp(n_backward);
      env_.maxent_backward_logprobs(state.data(), logp.data());
      double total = 0;
      for (int backward = 0; backward < n_backward; ++backward) {
        expect((logp[backward] > -INFINITY) == (backward_mask[backward] == 1), state,
               "maxent P_B is positive exactly on the valid backward actions: violated");
        if (backward_mask[backward]) total += std::exp(logp[backward]);
      }
      expect(std::abs(total - 1) < 1e-9, state, "maxent P_B does not sum to 1");
    }
  }

  void check_encodings_and_index(const State& state) {
    for (Encoding encoding : {Encoding::KHot, Encoding::OneHotState}) {
      const int width = env_.encoding_width(encoding);
      if (width < 0) continue;
      std::vector<int32_t> active(env_.encoding_active(encoding));
      if (active.empty()) continue;
      env_.encode_active(state.data(), encoding, active.data());
      expect(active.front() >= 0 && active.back() < width && std::is_sorted(active.begin(), active.end()) &&
                 std::adjacent_find(active.begin(), active.end()) == active.end(),
             state, "encode_active does not give K sorted distinct positions in [0, W)");
    }
    if (env_.default_encoding() == Encoding::Dense) {
      std::vector<double> features(std::max(env_.encoding_width(Encoding::Dense), 0));
      env_.encode_dense(state.data(), features.data());
      expect(std::all_of(features.begin(), features.end(), [](double f) { return std::isfinite(f); }), state,
             "encode_dense writes a non-finite feature");
    }
    if (!env_.provides(Capability::Enumeration)) return;
    const int64_t index = env_.state_index(state.data());
    if (index < 0 || index >= env_.n_states()) {
      problem(state, "state_index out of [0, n_states)");
      return;
    }
    State decoded(env_.state_width());
    env_.state_from_index(index, decoded.data());
    expect(decoded == state, state, "state_from_index(state_index(s)) != s");
  }

  // Breadth-first from s0 over forward moves: each index in [0, n_states) must be reached, by
  // exactly one state (a bijection), and every terminating state must be among them.
  void walk_dag(int64_t n_states) {
    std::vector<uint8_t> seen(size_t(n_states), 0), mask(env_.n_actions());
    std::deque<State> queue;
    State state(env_.state_width());
    env_.initial_state(state.data());
    auto visit = [&](const State& s) {
      const int64_t index = env_.state_index(s.data());
      if (index < 0 || index >= n_states) return problem(s, "state_index out of [0, n_states) on a reachable state");
      if (seen[index]) {
        State other(env_.state_width());
        env_.state_from_index(index, other.data());
        if (other != s) problem(s, "two reachable states share an index (not a bijection)");
        return;
      }
      seen[index] = 1;
      ++result_.states_enumerated;
      queue.push_back(s);
    };
    visit(state);
    while (!queue.empty()) {
      const State current = std::move(queue.front());
      queue.pop_front();
      for (int action : valid_moves(current, mask)) {
        State child = current;
        env_.step(child.data(), action);
        visit(child);
      }
    }
    int64_t unreachable = 0;
    for (int64_t index = 0; index < n_states; ++index) {
      if (seen[index]) continue;
      ++unreachable;
      env_.state_from_index(index, state.data());
      if (env_.can_terminate(state.data())) problem(state, "a terminating state that no trajectory from s0 reaches");
    }
    if (unreachable > 0)
      note(std::to_string(unreachable) + " of " + std::to_string(n_states) +
                           " indices belong to no state reachable from s0");
  }

 private:
  const Environment& env_;
  EnvironmentCheck& result_;
};

}  // namespace

std::string EnvironmentCheck::report() const {
  std::ostringstream text;
  text << environment << ": " << (passed() ? "passed" : "FAILED") << " (" << states_drawn << " random states";
  if (states_enumerated > 0) text << ", " << states_enumerated << " states enumerated";
  text << ", " << n_problems << " problems)\n";
  for (const Problem& problem : problems) {
    text << "  " << problem.what << " (" << problem.count << (problem.count == 1 ? " time" : " times");
    if (!problem.first_state.empty()) text << "; first at " << problem.first_state;
    text << ")\n";
  }
  return text.str();
}

EnvironmentCheck check_environment(const Environment& env, const EnvironmentCheckOptions& options) {
  EnvironmentCheck result;
  result.environment = env.name();
  Checker checker(env, result);
  for (int draw = 0; draw < options.random_states; ++draw) {
    std::mt19937_64 rng(options.seed * 1000003 + uint64_t(draw));
    const State state = checker.random_state(rng);
    checker.check_moves(state);
    checker.check_parents(state);
    checker.check_encodings_and_index(state);
    ++result.states_drawn;
  }
  if (env.provides(Capability::Enumeration) && env.n_states() <= options.enumeration_limit)
    checker.walk_dag(env.n_states());
  return result;
}

}  // namespace gfn
