// log P_T(x) of terminating states x by importance sampling over backward trajectories, and the
// test-set rank correlation built on it (docs/metrics.md). For state i and sample k, a trajectory tau
// from s_0 to x is drawn backwards from a proposal q(tau | x) with Rng::stream(seed, i, k): the uniform
// backward policy (each step uniform over the valid backward actions; for BitSeq, a uniform fill
// order), or the model's own P_B (a learned, TLM or pessimistic head). Its log weight is
// sum log P_F - sum log q along tau, plus log P_F(exit | x) when the environment has an exit, and
// log P_T(x) ~= logsumexp_k(weight) - log K: unbiased in P_T for either proposal, exact for any K when
// P_F is an exact sampler for the proposal's P_B. Works for any environment.
// Shapes: M terminating states (M x S), K samples per state, L = max_trajectory_length().
//
// Thread contract: the functions run their own parallel region (one tape per thread) and only read
// the model; results do not depend on the thread count. Do not call them from inside a parallel region.
//
//   const double rho = test_set_rank_correlation(model, seed);  // BitSeq: the papers' metric
#pragma once

#include <cstdint>
#include <vector>

#include "core/network/model.hpp"

namespace gfn {

constexpr int kDefaultBackwardSamples = 10;  // K of the papers ("fill orders" on BitSeq)

// Where backward trajectories come from: the uniform backward policy, or the model's P_B.
enum class BackwardProposal { Uniform, ModelBackward };

// Per terminating state and sample: the backward trajectory drawn and its log importance weight.
struct BackwardSampleWeights {
  int n_states = 0, n_samples = 0, max_length = 0;  // M, K, L
  // M x K x L: backward_actions[(i K + k) L + t] undoes the (t+1)-th forward move of the trajectory
  // (BitSeq: the slot filled at step t+1); -1 after its end.
  std::vector<int> backward_actions;
  std::vector<int> lengths;         // M x K: moves of each trajectory
  std::vector<double> log_weights;  // M x K: sum log P_F - sum log q along it
};

// Evaluates the model on fixed batches of (state, sample) pairs, about 1024 states per call. Throws
// std::invalid_argument when n_samples < 1, or when a row of `terminals` is not a terminating state
// of the model's environment (or has the wrong width).
BackwardSampleWeights backward_sample_weights(const Model<float>& model, const StateMatrix& terminals,
                                              int n_samples = kDefaultBackwardSamples, uint64_t seed = 0,
                                              BackwardProposal proposal = BackwardProposal::Uniform);

// log P_T(x) estimates, M values: logsumexp over the K samples of the log weights, minus log K.
std::vector<double> terminal_log_likelihoods(const Model<float>& model, const StateMatrix& terminals,
                                             int n_samples = kDefaultBackwardSamples, uint64_t seed = 0,
                                             BackwardProposal proposal = BackwardProposal::Uniform);

// Spearman's rho between the log P_T estimates of `terminals` and their log R. NaN when either side
// is constant (e.g. a uniform P_F gives every BitSeq string the same estimate). An exact sampler gets 1
// only up to ties: log R may take few values, and rounding breaks their ties in the estimates.
double likelihood_rank_correlation(const Model<float>& model, const StateMatrix& terminals,
                                   int n_samples = kDefaultBackwardSamples, uint64_t seed = 0,
                                   BackwardProposal proposal = BackwardProposal::Uniform);

// The same on the environment's held-out test set (Capability::TestSet), with K = 10: what a training
// session reports as "spearman". Throws std::invalid_argument when the environment has no test set.
bool has_test_set_rank_correlation(const Environment& env);
double test_set_rank_correlation(const Model<float>& model, uint64_t seed,
                                 BackwardProposal proposal = BackwardProposal::Uniform);

}  // namespace gfn
