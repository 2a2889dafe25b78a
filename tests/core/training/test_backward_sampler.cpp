// BackwardSampler: backward-sampled trajectories are valid forward trajectories ending at the given
// objects; the frequency of each path to a fixed object matches its P_B product (uniform P_B computed
// by hand from parent counts, maxent and a random learned P_B from the model) within 5 binomial sigmas;
// batches are bit-identical on 1 and 2 threads and differ between iterations and stream offsets;
// the P_B it reads (Model::backward_policy_logprobs) equals evaluate()'s, with no network for a fixed P_B.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/training/backward_sampler.hpp"
#include "core/training/sampler.hpp"
#include "envs/bitseq.hpp"
#include "envs/hypergrid.hpp"
#include "support/core_fixtures.hpp"
#include "support/statistics.hpp"

namespace gfn {
namespace {

using testing::batch_violation;
using testing::check_binomial;
using testing::ScopedThreads;

bool identical(const TrajectoryBatch& a, const TrajectoryBatch& b) {
  return a.states == b.states && a.actions == b.actions && a.offsets == b.offsets &&
         std::memcmp(a.log_rewards.data(), b.log_rewards.data(), sizeof(double) * a.log_rewards.size()) == 0 &&
         a.log_rewards.size() == b.log_rewards.size();
}

// The forward actions of trajectory b, as a string key ("0,1,0,2").
std::string path_key(const TrajectoryBatch& batch, int b) {
  std::string key;
  for (int r = batch.offsets[b]; r < batch.offsets[b + 1]; ++r) key += std::to_string(batch.actions[r]) + ",";
  return key;
}

// n copies of one state, n x S.
std::vector<int32_t> repeated(const std::vector<int32_t>& state, int n) {
  std::vector<int32_t> states;
  for (int i = 0; i < n; ++i) states.insert(states.end(), state.begin(), state.end());
  return states;
}

TEST_CASE("core: backward-sampled trajectories are valid and end at the given objects (HyperGrid, BitSeq)") {
  const HyperGrid grid(3, 5, "standard");
  const BitSeq bitseq(8, 2, {"00001111", "11110000"}, 2.0, 2);
  for (const Environment* env : {static_cast<const Environment*>(&grid), static_cast<const Environment*>(&bitseq)}) {
    CAPTURE(env->name());
    for (BackwardPolicy policy : {BackwardPolicy::Uniform, BackwardPolicy::MaxEnt, BackwardPolicy::Learned}) {
      CAPTURE(backward_policy_name(policy));
      ModelConfig config;
      config.hidden = {32};
      config.backward = policy;
      Model<float> model(*env, config, 3);
      testing::randomise_parameters(model.store(), 11);
      // Objects: the terminal states of a forward rollout (s0 itself among them on the grid).
      Sampler forward(model, 8);
      TrajectoryBatch rollout;
      SamplingOptions uniform;
      uniform.epsilon = 1;
      forward.sample(40, 5, 0, uniform, rollout);
      std::vector<int32_t> objects;
      for (int b = 0; b < 40; ++b)
        objects.insert(objects.end(), rollout.terminal_state(b), rollout.terminal_state(b) + env->state_width());
      BackwardSampler backward(model, 8);
      TrajectoryBatch batch;
      backward.sample(objects.data(), 40, 1, 2, 0, batch);
      CHECK(batch_violation(*env, batch) == "");
      REQUIRE(batch.n_trajectories() == 40);
      for (int b = 0; b < 40; ++b) {
        CHECK(std::equal(objects.begin() + b * env->state_width(), objects.begin() + (b + 1) * env->state_width(),
                         batch.terminal_state(b)));
        CHECK(batch.log_rewards[b] == rollout.log_rewards[b]);
      }
    }
  }
  // A state that cannot terminate is refused.
  std::vector<int32_t> half(4, bitseq.empty_word());
  half[0] = 1;
  ModelConfig config;
  config.hidden = {8};
  const Model<float> model(bitseq, config, 1);
  BackwardSampler backward(model);
  TrajectoryBatch batch;
  CHECK_THROWS_AS(backward.sample(half.data(), 1, 0, 0, 0, batch), std::invalid_argument);
}

// Draws n backward trajectories to `object` and checks every path's frequency against its probability
// from `path_probability` (5 sigma); the probabilities of the paths seen must add up to 1.
template <typename PathProbability>
void check_path_frequencies(const Model<float>& model, const std::vector<int32_t>& object,
                            PathProbability path_probability) {
  constexpr int n = 20000;
  const std::vector<int32_t> objects = repeated(object, n);
  BackwardSampler backward(model, 64);
  TrajectoryBatch batch;
  backward.sample(objects.data(), n, 17, 0, 0, batch);
  std::map<std::string, int> counts;
  std::map<std::string, double> probabilities;
  for (int b = 0; b < n; ++b) {
    const std::string key = path_key(batch, b);
    if (!counts[key]++) probabilities[key] = path_probability(batch, b);
  }
  double total = 0;
  for (const auto& [key, count] : counts) {
    CAPTURE(key);
    check_binomial(count, n, probabilities[key]);
    total += probabilities[key];
  }
  // Paths never drawn have tiny probability: what was seen carries almost all the mass.
  CHECK(total == doctest::Approx(1).epsilon(1e-3));
}

TEST_CASE("core: backward path frequencies match the products of P_B (uniform, maxent, learned; 5 sigma)") {
  const HyperGrid env(2, 4, "standard");
  const std::vector<int32_t> object = {2, 3};  // C(5, 2) = 10 paths from s0

  SUBCASE("uniform P_B: product of 1 / number of parents, counted by hand") {
    ModelConfig config;
    config.hidden = {8};
    const Model<float> model(env, config, 1);
    check_path_frequencies(model, object, [&](const TrajectoryBatch& batch, int b) {
      double probability = 1;
      for (int r = batch.offsets[b] + 1; r < batch.offsets[b + 1]; ++r) {
        const int32_t* state = batch.state(r);
        probability /= double((state[0] > 0) + (state[1] > 0));
      }
      return probability;
    });
  }
  for (BackwardPolicy policy : {BackwardPolicy::MaxEnt, BackwardPolicy::Learned}) {
    CAPTURE(backward_policy_name(policy));
    ModelConfig config;
    config.hidden = {16};
    config.backward = policy;
    Model<float> model(env, config, 1);
    testing::randomise_parameters(model.store(), 5, -2, 2);  // a learned P_B far from uniform
    check_path_frequencies(model, object, [&](const TrajectoryBatch& batch, int b) {
      // P_B(s_r | s_{r+1}) read from the model at s_{r+1}, column = the backward action of the move.
      double log_probability = 0;
      Tape<float> tape;
      ModelScratch scratch;
      for (int r = batch.offsets[b]; r + 1 < batch.offsets[b + 1]; ++r) {
        tape.clear();
        const ModelOutputs outputs = model.evaluate(tape, nullptr, {batch.state(r + 1), 1}, scratch);
        const int column = env.backward_action_of(batch.state(r + 1), batch.actions[r]);
        log_probability += double(tape.value(outputs.backward_logprobs)(0, column));
      }
      return std::exp(log_probability);
    });
  }
}

TEST_CASE("core: backward batches are bit-identical on 1 and 2 threads, and differ between iterations") {
  const HyperGrid env(4, 8, "medium");
  ModelConfig config;
  config.hidden = {32, 32};
  config.backward = BackwardPolicy::Learned;
  Model<float> model(env, config, 7);
  testing::randomise_parameters(model.store(), 3);
  std::vector<int32_t> objects;
  for (int i = 0; i < 100; ++i)
    for (int d = 0; d < 4; ++d) objects.push_back((i * (d + 3) + d) % 8);
  TrajectoryBatch one_thread, two_threads, next_iteration, other_streams;
  {
    ScopedThreads threads(1);
    BackwardSampler backward(model, 16);
    backward.sample(objects.data(), 100, 42, 3, 0, one_thread);  // 7 blocks, the last one partial
  }
  {
    ScopedThreads threads(2);
    BackwardSampler backward(model, 16);
    backward.sample(objects.data(), 100, 42, 3, 0, two_threads);
    backward.sample(objects.data(), 100, 42, 4, 0, next_iteration);
    backward.sample(objects.data(), 100, 42, 3, 1000, other_streams);
  }
  CHECK(identical(one_thread, two_threads));
  CHECK(!identical(one_thread, next_iteration));
  CHECK(!identical(one_thread, other_streams));
  CHECK(batch_violation(env, one_thread) == "");
}

TEST_CASE("core: P_B alone equals the P_B of a full evaluation; a fixed P_B puts no network on the tape") {
  const HyperGrid env(3, 5, "standard");
  for (BackwardPolicy policy :
       {BackwardPolicy::Uniform, BackwardPolicy::MaxEnt, BackwardPolicy::Learned, BackwardPolicy::Tlm}) {
    CAPTURE(backward_policy_name(policy));
    ModelConfig config;
    config.hidden = {16};
    config.backward = policy;
    Model<float> model(env, config, 5);
    testing::randomise_parameters(model.store(), 8);
    if (model.has_backward_network()) testing::randomise_parameters(model.target_backward_store(), 9);
    Sampler forward(model, 8);
    TrajectoryBatch batch;
    forward.sample(24, 1, 0, SamplingOptions{}, batch);
    const int n_states = batch.offsets.back();  // every state of the rollout, s0 included
    Tape<float> full_tape, alone_tape;
    ModelScratch scratch;
    const ModelOutputs outputs = model.evaluate(full_tape, nullptr, {batch.state(0), n_states}, scratch);
    const NodeId alone = model.backward_policy_logprobs(alone_tape, batch.state(0), n_states, scratch);
    CHECK(alone_tape.value(alone) == full_tape.value(outputs.backward_logprobs));  // bit for bit, -inf too
    const bool fixed = policy == BackwardPolicy::Uniform || policy == BackwardPolicy::MaxEnt;
    if (fixed) CHECK(alone_tape.size() == 1);  // one constant node: no layer ran
  }
}

}  // namespace
}  // namespace gfn
