// BitSeq log P_T estimates and rank correlation on a small, fully enumerable BitSeq (n = 8, k = 2:
// 4 slots of 4 words, 256 strings, 625 states). An exact sampler (tabular P_F built from exact flows,
// F = R on full strings, F(s) = sum_children F(s') P_B(s|s')) gets log R - log Z for every string and
// every fill order drawn from its own P_B (uniform, or a learned one sampled backward), and a rank
// correlation that reaches the ceiling set by ties in log R. Each order's weight matches a double
// recomputation from the tables; with many orders exp(estimate) matches the exact P_T (sum over all 24
// orders) within 5 sigma of the importance sampling mean, sigma^2 = (sum_tau P_F(tau)^2 / q(tau|x) -
// P_T^2) / K for the proposal q (uniform orders, also for a learned-P_B model, or the model's P_B);
// results are bit-identical on 1 and 2 threads; a uniform P_F gives a constant estimate (rho
// undefined), a random MLP a low rho.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "core/evaluation/evaluation.hpp"
#include "core/evaluation/rank_correlation.hpp"
#include "core/evaluation/terminal_likelihood.hpp"
#include "envs/bitseq.hpp"
#include "envs/bitseq_autoregressive.hpp"
#include "envs/enumeration.hpp"
#include "envs/hypergrid.hpp"
#include "support/core_fixtures.hpp"

namespace gfn {
namespace {

using testing::parameter_id;
using testing::ScopedThreads;

constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();

// All full strings, slot 0 most significant: M = (2^k)^L rows.
StateMatrix all_full_strings(const BitSeq& env) {
  const int n_slots = env.state_width(), n_words = env.empty_word();
  int64_t count = 1;
  for (int slot = 0; slot < n_slots; ++slot) count *= n_words;
  StateMatrix strings(count, n_slots);
  for (int64_t i = 0; i < count; ++i) {
    int64_t value = i;
    for (int slot = n_slots - 1; slot >= 0; --slot, value /= n_words) strings(i, slot) = int32_t(value % n_words);
  }
  return strings;
}

int filled_slots(const BitSeq& env, const int32_t* state) {
  int filled = 0;
  for (int slot = 0; slot < env.state_width(); ++slot) filled += state[slot] != env.empty_word();
  return filled;
}

// log P_F(action | state) in double from a tabular model's forward table (masked log-softmax).
double forward_logprob(const Model<float>& model, const BitSeq& env, const int32_t* state, int action) {
  const auto weight = model.store().value(parameter_id(model.store(), "forward.head0.weight"));
  const auto bias = model.store().value(parameter_id(model.store(), "forward.head0.bias"));
  const int64_t row = env.state_index(state);
  std::vector<uint8_t> mask(env.n_actions());
  env.forward_mask(state, mask.data());
  double max_logit = kMinusInfinity;
  for (int a = 0; a < env.n_actions(); ++a)
    if (mask[a]) max_logit = std::max(max_logit, double(weight(row, a)) + double(bias(0, a)));
  double total = 0;
  for (int a = 0; a < env.n_actions(); ++a)
    if (mask[a]) total += std::exp(double(weight(row, a)) + double(bias(0, a)) - max_logit);
  return double(weight(row, action)) + double(bias(0, action)) - max_logit - std::log(total);
}

// log P_B(erase slot | state): uniform 1/t, or the learned backward table's masked log-softmax.
double backward_logprob(const Model<float>& model, const BitSeq& env, const int32_t* state, int slot) {
  if (model.config().backward != BackwardPolicy::Learned) return -std::log(double(filled_slots(env, state)));
  const auto weight = model.store().value(parameter_id(model.store(), "backward.head0.weight"));
  const auto bias = model.store().value(parameter_id(model.store(), "backward.head0.bias"));
  const int64_t row = env.state_index(state);
  double max_logit = kMinusInfinity;
  for (int i = 0; i < env.state_width(); ++i)
    if (state[i] != env.empty_word()) max_logit = std::max(max_logit, double(weight(row, i)) + double(bias(0, i)));
  double total = 0;
  for (int i = 0; i < env.state_width(); ++i)
    if (state[i] != env.empty_word()) total += std::exp(double(weight(row, i)) + double(bias(0, i)) - max_logit);
  return double(weight(row, slot)) + double(bias(0, slot)) - max_logit - std::log(total);
}

// A model's backward policy and the proposal its fill orders are drawn from.
struct EstimatorCase {
  BackwardPolicy backward;
  BackwardProposal proposal;
};
constexpr EstimatorCase kEstimatorCases[] = {{BackwardPolicy::Uniform, BackwardProposal::Uniform},
                                             {BackwardPolicy::Learned, BackwardProposal::Uniform},
                                             {BackwardPolicy::Learned, BackwardProposal::ModelBackward}};

// Sum of log P_F and of log q (the proposal's P_B) along the trajectory filling x's slots in `order`.
void path_logprobs(const Model<float>& model, const BitSeq& env, BackwardProposal proposal, const int32_t* words,
                   const int* order, double* log_forward, double* log_backward) {
  const int n_slots = env.state_width();
  std::vector<int32_t> state(n_slots);
  env.initial_state(state.data());
  *log_forward = 0;
  *log_backward = 0;
  for (int t = 0; t < n_slots; ++t) {
    const int slot = order[t];
    *log_forward += forward_logprob(model, env, state.data(), (slot << env.reward().word_bits()) | words[slot]);
    state[slot] = words[slot];
    *log_backward += proposal == BackwardProposal::Uniform ? -std::log(double(t + 1))
                                                     : backward_logprob(model, env, state.data(), slot);
  }
}

// Fills a tabular model's table (zero bias) with random values in [-spread, spread).
void randomize_table(Model<float>& model, const char* name, double spread, uint64_t seed) {
  auto table = model.store().value(parameter_id(model.store(), name));
  Rng rng(seed);
  for (int r = 0; r < table.rows(); ++r)
    for (int c = 0; c < table.cols(); ++c) table(r, c) = float(spread * (2 * rng.uniform() - 1));
}

// A tabular model (all tables zero: uniform policies) with the given backward policy.
ModelConfig tabular(BackwardPolicy backward = BackwardPolicy::Uniform) {
  ModelConfig config;
  config.tabular = true;
  config.backward = backward;
  return config;
}

// Random forward table (seed) and, for a learned P_B, random backward table (seed + 1).
void randomize_tables(Model<float>& model, double spread, uint64_t seed) {
  randomize_table(model, "forward.head0.weight", spread, seed);
  if (model.config().backward == BackwardPolicy::Learned)
    randomize_table(model, "backward.head0.weight", spread, seed + 1);
}

// Sets the forward table of a tabular model to the exact sampler for its P_B: flows F = R on full
// strings and F(s) = sum over children s' of F(s') P_B(s|s'), logits log(F(s') P_B(s|s')) (the masked
// log-softmax normalises them by F(s)). Returns log Z = log F(s0).
double set_exact_forward_policy(Model<float>& model, const BitSeq& env) {
  const int n_slots = env.state_width();
  const int64_t n_states = env.n_states();
  auto table = model.store().value(parameter_id(model.store(), "forward.head0.weight"));
  std::vector<double> flow(n_states, 0.0);
  std::vector<int32_t> state(n_slots), child(n_slots);
  std::vector<uint8_t> mask(env.n_actions());
  for (int filled = n_slots; filled >= 0; --filled) {
    for (int64_t index = 0; index < n_states; ++index) {
      env.state_from_index(index, state.data());
      if (filled_slots(env, state.data()) != filled) continue;
      if (filled == n_slots) {
        flow[index] = std::exp(env.log_reward(state.data()));
        continue;
      }
      env.forward_mask(state.data(), mask.data());
      for (int a = 0; a < env.n_actions(); ++a) {
        if (!mask[a]) continue;
        child = state;
        env.step(child.data(), a);
        const double edge = flow[env.state_index(child.data())] *
                            std::exp(backward_logprob(model, env, child.data(), env.backward_action_of(state.data(), a)));
        flow[index] += edge;
        table(index, a) = float(std::log(edge));
      }
    }
  }
  env.initial_state(state.data());
  return std::log(flow[env.state_index(state.data())]);
}

std::vector<double> log_rewards_of(const BitSeq& env, const StateMatrix& strings) {
  std::vector<double> log_rewards(strings.rows());
  for (int64_t i = 0; i < strings.rows(); ++i) log_rewards[i] = env.log_reward(strings.row(i).data());
  return log_rewards;
}

// The largest rho a score without exact ties can reach against log R: ties in log R leave the
// score's ranks a permutation of 1..M, and any order consistent with log R gives
// sqrt(var(average ranks of log R) / var(1..M)).
double tie_ceiling(const std::vector<double>& log_rewards) {
  const std::vector<double> ranks = average_ranks(log_rewards);
  const double mean = 0.5 * (double(ranks.size()) + 1);
  double tied = 0, distinct = 0;
  for (size_t i = 0; i < ranks.size(); ++i) {
    tied += (ranks[i] - mean) * (ranks[i] - mean);
    distinct += (double(i + 1) - mean) * (double(i + 1) - mean);
  }
  return std::sqrt(tied / distinct);
}

bool is_permutation_of_slots(const int* order, int n_slots) {
  std::vector<int> sorted(order, order + n_slots);
  std::sort(sorted.begin(), sorted.end());
  for (int t = 0; t < n_slots; ++t)
    if (sorted[t] != t) return false;
  return true;
}

TEST_CASE("core: terminal likelihood on bitseq: likelihood of an exact sampler is log R - log Z for every string and fill order") {
  const BitSeq env(8, 2);
  const StateMatrix strings = all_full_strings(env);
  REQUIRE(strings.rows() == 256);
  const std::vector<double> log_rewards = log_rewards_of(env, strings);
  double reward_sum = 0;
  for (double log_reward : log_rewards) reward_sum += std::exp(log_reward);

  // Fill orders from the P_B the sampler is exact for: every importance weight is P_T(x).
  for (const EstimatorCase estimator : {kEstimatorCases[0], kEstimatorCases[2]}) {
    const BackwardPolicy backward = estimator.backward;
    CAPTURE(int(backward));
    Model<float> model(env, tabular(backward), 1);
    if (backward == BackwardPolicy::Learned) randomize_table(model, "backward.head0.weight", 1.5, 99);
    const double log_z = set_exact_forward_policy(model, env);
    CHECK(log_z == doctest::Approx(std::log(reward_sum)).epsilon(1e-12));  // Z = sum_x R(x) for any P_B

    const BackwardSampleWeights weights = backward_sample_weights(model, strings, 10, 5, estimator.proposal);
    REQUIRE(weights.n_states == 256);
    REQUIRE(weights.n_samples == 10);
    REQUIRE(weights.max_length == 4);
    double worst = 0;
    for (int i = 0; i < 256; ++i)
      for (int k = 0; k < 10; ++k) {
        REQUIRE(is_permutation_of_slots(weights.backward_actions.data() + (i * 10 + k) * 4, 4));
        worst = std::max(worst, std::abs(weights.log_weights[i * 10 + k] - (log_rewards[i] - log_z)));
      }
    CAPTURE(worst);
    CHECK(worst < 1e-4);  // float log-softmax rounding over 4 steps of values down to -16

    for (const int n_orders : {1, 10}) {
      const std::vector<double> estimates =
          terminal_log_likelihoods(model, strings, n_orders, 17, estimator.proposal);
      REQUIRE(estimates.size() == 256);
      for (int i = 0; i < 256; ++i) {
        CAPTURE(i);
        CHECK(std::abs(estimates[i] - (log_rewards[i] - log_z)) < 1e-4);
      }
    }
  }
}

TEST_CASE("core: terminal likelihood on bitseq: rank correlation of an exact sampler reaches 1 up to ties in log R") {
  const BitSeq env(8, 2);
  Model<float> model(env, tabular(), 1);
  set_exact_forward_policy(model, env);

  // All 256 strings: every pair with different log R is ordered the same way by the estimates, so rho
  // reaches the tie ceiling (below 1: rounding breaks most ties of log R in the estimates).
  const StateMatrix strings = all_full_strings(env);
  const std::vector<double> log_rewards = log_rewards_of(env, strings);
  const std::vector<double> estimates = terminal_log_likelihoods(model, strings);
  int discordant = 0;
  for (int i = 0; i < 256; ++i)
    for (int j = 0; j < 256; ++j)
      if (log_rewards[i] < log_rewards[j] && !(estimates[i] < estimates[j])) ++discordant;
  CHECK(discordant == 0);
  const double rho = likelihood_rank_correlation(model, strings);
  const double ceiling = tie_ceiling(log_rewards);
  CAPTURE(ceiling);
  CHECK(rho >= ceiling - 1e-12);  // above it only through exact ties among the estimates
  CHECK(ceiling > 0.9);
  // rho is Spearman's correlation of these very estimates (same seed, K = 10) with log R.
  CHECK(rho == spearman_correlation(estimates, log_rewards));

  // One string per reward level (no ties): exactly 1.
  std::vector<double> seen;
  std::vector<int64_t> chosen;
  for (int64_t i = 0; i < strings.rows(); ++i)
    if (std::find(seen.begin(), seen.end(), log_rewards[i]) == seen.end()) {
      seen.push_back(log_rewards[i]);
      chosen.push_back(i);
    }
  REQUIRE(chosen.size() >= 3);
  StateMatrix distinct(int64_t(chosen.size()), env.state_width());
  for (size_t j = 0; j < chosen.size(); ++j) distinct.row(j) = strings.row(chosen[j]);
  CHECK(likelihood_rank_correlation(model, distinct) == doctest::Approx(1.0).epsilon(1e-12));

  // The environment's own test set (each mode, then copies with 1..n-1 flipped bits), as bit strings.
  const std::vector<std::string> test_set = env.reward().test_set();
  const StateMatrix test_states = env.states_from_bits(test_set);
  REQUIRE(test_states.rows() == int64_t(test_set.size()));
  for (size_t i = 0; i < test_set.size(); ++i) CHECK(env.state_string(test_states.row(i).data()) == test_set[i]);
  CHECK(likelihood_rank_correlation(model, test_states) >= tie_ceiling(log_rewards_of(env, test_states)) - 1e-12);
}

TEST_CASE("core: terminal likelihood on bitseq: order weights match a double recomputation along the drawn fill orders") {
  const BitSeq env(8, 2);
  const StateMatrix strings = all_full_strings(env);
  for (const EstimatorCase estimator : kEstimatorCases) {
    CAPTURE(int(estimator.backward));
    CAPTURE(int(estimator.proposal));
    Model<float> model(env, tabular(estimator.backward), 1);
    randomize_tables(model, 2.0, 3);
    const int n_orders = 3;
    const uint64_t seed = 11;
    const BackwardSampleWeights weights = backward_sample_weights(model, strings, n_orders, seed, estimator.proposal);
    const std::vector<double> estimates =
        terminal_log_likelihoods(model, strings, n_orders, seed, estimator.proposal);
    for (int i = 0; i < 256; ++i) {
      CAPTURE(i);
      std::vector<double> order_weights(n_orders);
      for (int k = 0; k < n_orders; ++k) {
        const int* order = weights.backward_actions.data() + (i * n_orders + k) * 4;
        REQUIRE(is_permutation_of_slots(order, 4));
        if (estimator.proposal == BackwardProposal::Uniform) {
          // Contract: Fisher-Yates with Rng::stream(seed, i, k).
          Rng rng = Rng::stream(seed, i, k);
          int expected[4] = {0, 1, 2, 3};
          for (int t = 3; t > 0; --t) std::swap(expected[t], expected[rng.uniform_int(t + 1)]);
          CHECK(std::equal(order, order + 4, expected));
        }
        double log_forward, log_backward;
        path_logprobs(model, env, estimator.proposal, strings.row(i).data(), order, &log_forward, &log_backward);
        CHECK(std::abs(weights.log_weights[i * n_orders + k] - (log_forward - log_backward)) < 1e-4);
        order_weights[k] = weights.log_weights[i * n_orders + k];
      }
      const double top = *std::max_element(order_weights.begin(), order_weights.end());
      double total = 0;
      for (double w : order_weights) total += std::exp(w - top);
      CHECK(estimates[i] == doctest::Approx(top + std::log(total / n_orders)).epsilon(1e-12));
    }
  }
}

TEST_CASE("core: terminal likelihood on bitseq: likelihood with many fill orders matches the exact P_T within 5 sigma") {
  const BitSeq env(8, 2);
  const StateMatrix all = all_full_strings(env);
  StateMatrix strings(32, 4);  // every 8th string
  for (int i = 0; i < 32; ++i) strings.row(i) = all.row(8 * i);
  const int n_orders = 2000;
  for (const EstimatorCase estimator : kEstimatorCases) {
    CAPTURE(int(estimator.backward));
    CAPTURE(int(estimator.proposal));
    Model<float> model(env, tabular(estimator.backward), 1);
    randomize_tables(model, 1.0, 21);
    const std::vector<double> estimates =
        terminal_log_likelihoods(model, strings, n_orders, 8, estimator.proposal);
    for (int i = 0; i < 32; ++i) {
      CAPTURE(i);
      // Over all 24 orders tau: P_T = sum P_F(tau); E_PB[w^2] = sum P_F(tau)^2 / P_B(tau|x).
      int order[4] = {0, 1, 2, 3};
      double probability = 0, second_moment = 0, backward_total = 0;
      do {
        double log_forward, log_backward;
        path_logprobs(model, env, estimator.proposal, strings.row(i).data(), order, &log_forward, &log_backward);
        probability += std::exp(log_forward);
        second_moment += std::exp(2 * log_forward - log_backward);
        backward_total += std::exp(log_backward);
      } while (std::next_permutation(order, order + 4));
      REQUIRE(backward_total == doctest::Approx(1.0).epsilon(1e-9));  // q(. | x) sums to 1 over orders
      const double sigma = std::sqrt((second_moment - probability * probability) / n_orders);
      CAPTURE(probability);
      CAPTURE(sigma);
      CHECK(std::abs(std::exp(estimates[i]) - probability) <= 5 * sigma + 1e-5 * probability);
    }
  }
}

TEST_CASE("core: terminal likelihood on bitseq: likelihood is bit-identical on 1 and 2 threads") {
  if (!testing::can_compare_thread_counts()) return;
  const BitSeq env(8, 2);
  const StateMatrix strings = all_full_strings(env);
  for (const EstimatorCase estimator : kEstimatorCases) {
    const BackwardPolicy backward = estimator.backward;
    CAPTURE(int(backward));
    CAPTURE(int(estimator.proposal));
    ModelConfig config;
    config.hidden = {32, 32};
    config.backward = backward;
    const Model<float> model(env, config, 5);
    BackwardSampleWeights one, two;
    {
      ScopedThreads threads(1);
      one = backward_sample_weights(model, strings, 40, 3, estimator.proposal);  // 10240 pairs: 52 batches
    }
    {
      ScopedThreads threads(2);
      two = backward_sample_weights(model, strings, 40, 3, estimator.proposal);
    }
    CHECK(one.backward_actions == two.backward_actions);
    CHECK(one.log_weights == two.log_weights);  // exact: doubles compared bitwise
    const BackwardSampleWeights other_seed = backward_sample_weights(model, strings, 40, 4, estimator.proposal);
    CHECK(one.backward_actions != other_seed.backward_actions);
  }
}

TEST_CASE("core: terminal likelihood on bitseq: rank correlation of uniform and random policies is far from 1") {
  const BitSeq env(8, 2);
  const StateMatrix strings = all_full_strings(env);
  // Uniform P_F (a zero table): each slot gets a uniform word, P_T(x) = 4^-4 for every x, and the
  // estimate is exact and constant, so rho is undefined.
  ModelConfig tabular;
  tabular.tabular = true;
  const Model<float> uniform(env, tabular, 1);
  for (double estimate : terminal_log_likelihoods(uniform, strings))
    CHECK(estimate == doctest::Approx(-8 * std::log(2.0)).epsilon(1e-6));
  CHECK(std::isnan(likelihood_rank_correlation(uniform, strings)));

  // A randomly initialised MLP: its P_T has nothing to do with R.
  ModelConfig mlp;
  mlp.hidden = {64, 64};
  const Model<float> random_policy(env, mlp, 3);
  const double rho = likelihood_rank_correlation(random_policy, strings);
  CAPTURE(rho);  // 0.31 with these seeds
  CHECK(std::abs(rho) < 0.5);
}

// Each trajectory's weight as first computed: its s_0 .. x evaluated in one call of Model::evaluate
// (masked log-softmax over float rows), P_F at every parent and at x for the exit, P_B at every child.
double reference_log_weight(const Model<float>& model, const int32_t* terminal, const int* actions, int length,
                            BackwardProposal proposal) {
  const Environment& env = model.env();
  const int width = env.state_width();
  std::vector<int32_t> states(size_t(length + 1) * width);
  std::copy(terminal, terminal + width, states.begin() + int64_t(length) * width);
  for (int t = length; t > 0; --t) {
    std::copy(states.begin() + int64_t(t) * width, states.begin() + int64_t(t + 1) * width,
              states.begin() + int64_t(t - 1) * width);
    env.backward_step(states.data() + int64_t(t - 1) * width, actions[t - 1]);
  }
  Tape<float> tape;
  ModelScratch scratch;
  const ModelOutputs outputs = model.evaluate(tape, nullptr, {states.data(), length + 1}, scratch);
  std::vector<uint8_t> mask(env.n_backward_actions());
  double log_weight = 0;
  for (int t = 1; t <= length; ++t) {
    const int32_t* child = states.data() + int64_t(t) * width;
    double log_backward = double(tape.value(outputs.backward_logprobs)(t, actions[t - 1]));
    if (proposal == BackwardProposal::Uniform) {
      env.backward_mask(child, mask.data());
      log_backward = -std::log(double(std::count(mask.begin(), mask.end(), 1)));
    }
    log_weight += double(tape.value(outputs.forward_logprobs)(t - 1, env.forward_action_of(child, actions[t - 1]))) -
                  log_backward;
  }
  if (env.exit_action() >= 0) log_weight += double(tape.value(outputs.forward_logprobs)(length, env.exit_action()));
  return log_weight;
}

TEST_CASE("core: terminal likelihood of an MLP matches one model call per trajectory (BitSeq, HyperGrid; 1e-5)") {
  // The batched path evaluates each distinct state once, multiplies the head only on the column blocks
  // of 256 holding a valid action (BitSeq n=24 k=8: 3 slots of 256 words, 768 actions) and normalises
  // raw logits over byte masks.
  ModelConfig config;
  config.hidden = {32, 32};
  config.backward = BackwardPolicy::Learned;
  const BitSeq bitseq(8, 2), wide(24, 8);
  const HyperGrid grid(2, 6, "standard");
  const StateMatrix strings = all_full_strings(bitseq);
  StateMatrix wide_strings(20, 3);
  for (int i = 0; i < 20; ++i) wide_strings.row(i) << (37 * i) % 256, (101 * i + 7) % 256, (59 * i + 200) % 256;
  StateMatrix cells(36, 2);
  for (int i = 0; i < 36; ++i) cells.row(i) << i / 6, i % 6;
  for (const BackwardProposal proposal : {BackwardProposal::Uniform, BackwardProposal::ModelBackward}) {
    for (const Environment* env : {static_cast<const Environment*>(&bitseq), static_cast<const Environment*>(&wide),
                                   static_cast<const Environment*>(&grid)}) {
      CAPTURE(env->name());
      CAPTURE(int(proposal));
      const StateMatrix& terminals = env == &grid ? cells : env == &wide ? wide_strings : strings;
      Model<float> model(*env, config, 5);
      randomize_table(model, "backward.head0.weight", 0.5, 6);  // a P_B away from uniform
      const BackwardSampleWeights weights = backward_sample_weights(model, terminals, 3, 7, proposal);
      for (int i = 0; i < weights.n_states; ++i)
        for (int k = 0; k < 3; ++k) {
          const int pair = i * 3 + k;
          const double expected = reference_log_weight(
              model, terminals.row(i).data(), weights.backward_actions.data() + int64_t(pair) * weights.max_length,
              weights.lengths[pair], proposal);
          CHECK(std::abs(weights.log_weights[pair] - expected) <= 1e-5 * std::max(1.0, std::abs(expected)));
        }
    }
  }
}

TEST_CASE("core: terminal likelihood rejects non-terminating states, wrong widths and sample counts") {
  const BitSeq env(8, 2);
  const Model<float> model(env, tabular(), 1);
  StateMatrix strings = all_full_strings(env).topRows(4);
  CHECK_THROWS_AS(backward_sample_weights(model, strings, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(backward_sample_weights(model, StateMatrix::Zero(2, 3), 1, 1), std::invalid_argument);
  strings(2, 1) = env.empty_word();
  CHECK_THROWS_AS(terminal_log_likelihoods(model, strings, 1, 1), std::invalid_argument);
  CHECK(terminal_log_likelihoods(model, StateMatrix(0, 4), 3, 1).empty());
}

// Other environments, through the Environment interface alone (the default uniform backward sampler).
TEST_CASE("core: terminal likelihood is exact on BitSeq-AR (one path) and unbiased on HyperGrid (with exit)") {
  // BitSeq-AR is a tree: the one backward trajectory has q = 1, so every weight is log P_T(x).
  const BitSeqAutoregressive tree(6, 2);
  const Enumeration tree_states(tree);
  ModelConfig mlp;
  mlp.hidden = {16};
  const Model<float> tree_model(tree, mlp, 7);
  const std::vector<double> tree_exact = terminating_distribution(tree_model, tree_states);
  std::vector<int64_t> terminal_index;
  for (int64_t i = 0; i < tree_states.n_states(); ++i)
    if (tree_states.can_terminate()[i]) terminal_index.push_back(i);
  StateMatrix leaves(int64_t(terminal_index.size()), tree.state_width());
  for (size_t j = 0; j < terminal_index.size(); ++j) leaves.row(j) = tree_states.states().row(terminal_index[j]);
  const BackwardSampleWeights tree_weights = backward_sample_weights(tree_model, leaves, 2, 1);
  for (size_t j = 0; j < terminal_index.size(); ++j)
    for (int k = 0; k < 2; ++k) {
      CHECK(tree_weights.lengths[j * 2 + k] == 3);
      CHECK(tree_weights.log_weights[j * 2 + k] == doctest::Approx(std::log(tree_exact[terminal_index[j]])).epsilon(1e-5));
    }

  // HyperGrid 3x3: trajectories of 0..4 moves end with an exit, whose log P_F the weight includes.
  // The mean of K importance weights is within 5 estimated standard errors of the exact P_T.
  const HyperGrid grid(2, 3, "medium");
  const Enumeration grid_states(grid);
  const Model<float> grid_model(grid, mlp, 9);
  const std::vector<double> grid_exact = terminating_distribution(grid_model, grid_states);
  const int n_samples = 4000;
  const BackwardSampleWeights weights =
      backward_sample_weights(grid_model, grid_states.states(), n_samples, 3);  // every state can exit
  for (int64_t i = 0; i < grid_states.n_states(); ++i) {
    CAPTURE(i);
    double mean = 0, square = 0;
    for (int k = 0; k < n_samples; ++k) {
      const double weight = std::exp(weights.log_weights[i * n_samples + k]);
      mean += weight / n_samples;
      square += weight * weight / n_samples;
    }
    const double standard_error = std::sqrt(std::max(0.0, square - mean * mean) / n_samples);  // 0: one path
    CHECK(std::abs(mean - grid_exact[i]) <= 5 * standard_error + 1e-6 * grid_exact[i]);
  }
}

}  // namespace
}  // namespace gfn
