// check_environment on a small environment defined here (subsets of 4 items, exit anywhere): the
// correct one passes; each deliberately broken variant (wrong backward step, a mask that allows an
// invalid move, a non-bijective index, unreachable terminal states) fails with the matching problem.
// The same environment without its optional methods trains with TB, DB, SubTB and FM (default
// parents), and --pb maxent, a tabular policy and exact evaluation refuse it with one line.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "core/training/trainer.hpp"
#include "envs/check_environment.hpp"
#include "envs/enumeration.hpp"

namespace gfn {
namespace {

constexpr int kItems = 4;

// A state is kItems 0/1 flags; forward action i adds item i, action kItems exits; backward action i
// removes item i. log R(x) = 0.5 * (sum of the chosen items' numbers). Only the required part.
class CoreSubsets : public Environment {
 public:
  std::string name() const override { return "subsets(4)"; }
  int state_width() const override { return kItems; }
  int n_actions() const override { return kItems + 1; }
  int n_backward_actions() const override { return kItems; }
  int exit_action() const override { return kItems; }
  int max_trajectory_length() const override { return kItems + 1; }
  void initial_state(int32_t* state) const override { std::fill(state, state + kItems, 0); }
  bool is_final(const int32_t*) const override { return false; }
  void forward_mask(const int32_t* state, uint8_t* mask) const override {
    for (int i = 0; i < kItems; ++i) mask[i] = state[i] == 0;
    mask[kItems] = 1;
  }
  void backward_mask(const int32_t* state, uint8_t* mask) const override {
    for (int i = 0; i < kItems; ++i) mask[i] = state[i] == 1;
  }
  void step(int32_t* state, int action) const override { state[action] = 1; }
  void backward_step(int32_t* state, int backward_action) const override { state[backward_action] = 0; }
  int backward_action_of(const int32_t*, int action) const override { return action; }
  int forward_action_of(const int32_t*, int backward_action) const override { return backward_action; }
  double log_reward(const int32_t* state) const override {
    double total = 0;
    for (int i = 0; i < kItems; ++i) total += 0.5 * i * state[i];
    return total;
  }
  Encoding default_encoding() const override { return Encoding::KHot; }
  int encoding_width(Encoding encoding) const override { return encoding == Encoding::KHot ? 2 * kItems : -1; }
  int encoding_active(Encoding) const override { return kItems; }
  void encode_active(const int32_t* state, Encoding, int32_t* active) const override {
    for (int i = 0; i < kItems; ++i) active[i] = 2 * i + state[i];
  }
};

// Adds enumeration (index = the flags as a binary number) and the max-entropy P_B (uniform over the
// chosen items: every order of adding them is equally likely, so n(s) = |s|!).
class Subsets : public CoreSubsets {
 public:
  bool provides(Capability capability) const override {
    return capability == Capability::MaxEntBackward || Environment::provides(capability);
  }
  int64_t n_states() const override { return int64_t(1) << kItems; }
  int64_t state_index(const int32_t* state) const override {
    int64_t index = 0;
    for (int i = 0; i < kItems; ++i) index |= int64_t(state[i]) << i;
    return index;
  }
  void state_from_index(int64_t index, int32_t* state) const override {
    for (int i = 0; i < kItems; ++i) state[i] = int32_t((index >> i) & 1);
  }
  void maxent_backward_logprobs(const int32_t* state, double* logp) const override {
    int chosen = 0;
    for (int i = 0; i < kItems; ++i) chosen += state[i];
    for (int i = 0; i < kItems; ++i) logp[i] = state[i] ? -std::log(double(chosen)) : -INFINITY;
  }
};

class WrongBackwardStep : public Subsets {
  void backward_step(int32_t* state, int backward_action) const override {
    state[backward_action] = 0;
    state[(backward_action + 1) % kItems] = 0;
  }
};

class MaskAllowsInvalidMove : public Subsets {  // lets an item be added twice
  void forward_mask(const int32_t*, uint8_t* mask) const override { std::fill(mask, mask + kItems + 1, 1); }
};

class NonBijectiveIndex : public Subsets {  // forgets item 0: two states per index
  int64_t state_index(const int32_t* state) const override { return Subsets::state_index(state) >> 1; }
};

class UnreachableTerminals : public Subsets {  // item 3 can never be added, yet its states count
  void forward_mask(const int32_t* state, uint8_t* mask) const override {
    Subsets::forward_mask(state, mask);
    mask[3] = 0;
  }
};

// The check fails, and its report says why.
void check_caught(const Environment& broken, const std::string& reason) {
  const EnvironmentCheck check = check_environment(broken);
  CHECK(!check.passed());
  CHECK_MESSAGE(check.report().find(reason) != std::string::npos, check.report());
}

TEST_CASE("envs: check_environment passes a correct environment, with and without its optional parts") {
  const EnvironmentCheck full = check_environment(Subsets());
  CHECK_MESSAGE(full.passed(), full.report());
  CHECK(full.states_enumerated == 16);
  const EnvironmentCheck core = check_environment(CoreSubsets());
  CHECK_MESSAGE(core.passed(), core.report());
  CHECK(core.states_enumerated == 0);  // not enumerable: no whole-DAG walk
}

TEST_CASE("envs: check_environment catches each deliberately broken environment") {
  check_caught(WrongBackwardStep(), "backward_step does not undo it");
  check_caught(MaskAllowsInvalidMove(), "backward_step does not undo it");
  check_caught(NonBijectiveIndex(), "not a bijection");
  check_caught(UnreachableTerminals(), "a terminating state that no trajectory from s0 reaches");
}

TEST_CASE("envs: an environment with only the required part trains; features needing more refuse in one line") {
  const CoreSubsets env;
  for (const std::string loss : {"tb", "db", "subtb", "fm"}) {
    CAPTURE(loss);
    ModelConfig model;
    model.hidden = {16};
    TrainConfig config;
    config.objective.loss = loss;
    Trainer trainer(env, model, config);
    for (int i = 0; i < 5; ++i) CHECK(std::isfinite(trainer.step().loss));
  }
  ModelConfig maxent;
  maxent.backward = BackwardPolicy::MaxEnt;
  CHECK_THROWS_WITH_AS(Model<float>(env, maxent, 1),
                       "--pb maxent needs the max-entropy backward policy (maxent_backward_logprobs), which "
                       "subsets(4) does not provide",
                       std::invalid_argument);
  ModelConfig tabular;
  tabular.tabular = true;
  CHECK_THROWS_AS(Model<float>(env, tabular, 1), std::invalid_argument);
  CHECK_THROWS_AS(Enumeration{env}, std::runtime_error);
  CHECK(env.mode_of(nullptr) == -1);
  CHECK(!env.provides(Capability::Modes));
}

}  // namespace
}  // namespace gfn
