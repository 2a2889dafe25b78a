// The BitSeq rank-correlation metric (docs/metrics.md): estimates log P_T(x) of full bit strings x under a
// model's P_F by importance sampling over fill orders, then Spearman's rho against log R(x).
// For string i and order k, a fill order tau (a permutation of the L slots) is drawn from a proposal
// P_B(. | x) with Rng::stream(seed, i, k): the uniform P_B (the metric of docs/metrics.md, for every model), or
// the model's own P_B (a learned, TLM or pessimistic head: backward sampling). Its log weight is
// sum log P_F - sum log P_B along tau (states built by filling x's words in that order), and
// log P_T(x) ~= logsumexp_k(weight) - log K: unbiased in P_T for either proposal, exact for any K when
// P_F is an exact sampler for the proposal's P_B. Not for the autoregressive BitSeq.
// Shapes: strings M x L int32 (full: every word in [0, 2^k)); weights M x K; orders M x K x L.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "envs/bitseq.hpp"

namespace gfn {

constexpr int kDefaultFillOrders = 10;  // K of the papers

// Where fill orders come from: uniform permutations, or backward trajectories of the model's P_B.
enum class FillOrders { Uniform, ModelBackward };

// Per string and fill order: the order and its log importance weight.
struct BitSeqOrderWeights {
  int n_strings = 0, n_orders = 0, n_slots = 0;  // M, K, L
  std::vector<int> slots;           // M x K x L: slots[(i K + k) L + t] is the slot filled at step t+1
  std::vector<double> log_weights;  // M x K: sum log P_F - sum log P_B along that order
};

// Evaluates the model on fixed batches of (string, order) pairs, about 1024 states per call, in
// parallel with one tape per thread; the results do not depend on the thread count. Throws
// std::invalid_argument when n_orders < 1, when the model's environment does not have env's shapes,
// or when a row of `strings` is not a full string of env.
BitSeqOrderWeights bitseq_order_weights(const Model<float>& model, const BitSeq& env, const StateMatrix& strings,
                                        int n_orders = kDefaultFillOrders, uint64_t seed = 0,
                                        FillOrders proposal = FillOrders::Uniform);

// log P_T(x) estimates, M values: logsumexp over the K orders of the log weights, minus log K.
std::vector<double> bitseq_log_likelihoods(const Model<float>& model, const BitSeq& env, const StateMatrix& strings,
                                           int n_orders = kDefaultFillOrders, uint64_t seed = 0,
                                           FillOrders proposal = FillOrders::Uniform);

// Spearman's rho between the log P_T estimates of the test strings and their log R. NaN when either
// side is constant (e.g. a uniform P_F gives every string the same estimate). An exact sampler gets 1
// only up to ties: log R takes few values, and rounding breaks their ties in the estimates.
double bitseq_rank_correlation(const Model<float>& model, const BitSeq& env, const StateMatrix& test_set_states,
                               int n_orders = kDefaultFillOrders, uint64_t seed = 0,
                               FillOrders proposal = FillOrders::Uniform);

// Rows of words for bit strings of n '0'/'1' (e.g. env.reward().test_set()); M x L.
StateMatrix bitseq_states_from_bits(const BitSeq& env, const std::vector<std::string>& bit_strings);

}  // namespace gfn

namespace gfn {

// The test-set rank correlation seen from any environment (what a training session calls): whether
// `env` has it (the non-autoregressive BitSeq), and its value for the model's own environment with
// the default number of fill orders.
bool has_test_set_rank_correlation(const Environment& env);
double test_set_rank_correlation(const Model<float>& model, uint64_t seed, FillOrders proposal = FillOrders::Uniform);

}  // namespace gfn
