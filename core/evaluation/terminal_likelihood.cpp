// log P_T estimates by backward sampling, and the rank correlation (see terminal_likelihood.hpp). Work
// is cut into fixed batches of consecutive (state, sample) pairs; a batch first draws its backward
// trajectories (the environment's uniform sampler, or rounds of sampling from the model's P_B), then
// evaluates the distinct states of its pairs' trajectories in one call and sums log P_F - log q in
// double.
#include "core/evaluation/terminal_likelihood.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "autodiff/gemm.hpp"
#include "core/evaluation/rank_correlation.hpp"
#include "util/parallel.hpp"
#include "util/random.hpp"

namespace gfn {

namespace {

constexpr int kStatesPerEvaluation = 1024;  // rows of one model call (bounds the tape: rows x A floats)

struct BatchScratch {
  Tape<float> tape;
  ModelScratch model;
  std::vector<int32_t> states;   // rows x S
  std::vector<int> taken;        // pairs x L: backward actions in the order drawn (model's P_B)
  std::vector<int> row_offsets;  // pairs + 1: each pair's rows s_0..s_n
  std::vector<int> unique_of;    // rows: the row's index among the distinct states, -1 if not evaluated
  std::vector<int> order;        // the evaluated rows, sorted by state
  std::vector<int32_t> unique_states;  // U x S
  FlatVector<float> logits;            // U x A: P_F's logits, at least at every valid action
  std::vector<float> log_normalisers;  // U: log sum over the valid actions of exp(logit)
  std::vector<std::pair<int, int>> runs;  // (first action, length) of the runs of valid actions, state by state
  std::vector<int> run_offsets;           // U + 1: each state's runs
  std::vector<uint8_t> needs_block;       // U x head blocks: the block holds a valid action of the state
  std::vector<int> block_rows;            // the states that need one head block
  FlatVector<float> block_inputs, block_weight, block_outputs, gemm_workspace;  // one head block's product
  std::vector<uint8_t> mask;     // A or A_b
};

// Draws the backward trajectories of pairs [first_pair, first_pair + n_pairs) into
// result.backward_actions and result.lengths.
void draw_backward_trajectories(const Model<float>& model, const StateMatrix& terminals, uint64_t seed,
                                int64_t first_pair, int n_pairs, BackwardProposal proposal, BatchScratch& scratch,
                                BackwardSampleWeights& result) {
  const Environment& env = model.env();
  const int width = env.state_width(), max_length = result.max_length, n_samples = result.n_samples;
  std::vector<Rng> rngs;
  rngs.reserve(n_pairs);
  for (int b = 0; b < n_pairs; ++b) {
    const int64_t pair = first_pair + b;
    rngs.push_back(Rng::stream(seed, uint64_t(pair / n_samples), uint64_t(pair % n_samples)));
  }
  if (proposal == BackwardProposal::Uniform) {
    for (int b = 0; b < n_pairs; ++b) {
      const int64_t pair = first_pair + b;
      result.lengths[pair] = env.sample_uniform_backward(terminals.row(pair / n_samples).data(), rngs[b],
                                                         result.backward_actions.data() + pair * max_length);
    }
    return;
  }
  // The model's P_B: from x, draw a backward action from P_B(. | current state) until s_0. Rows that
  // reached s_0 are still evaluated (the batch keeps its shape) but no longer drawn from.
  scratch.states.resize(size_t(n_pairs) * width);
  scratch.taken.resize(size_t(n_pairs) * max_length);
  for (int b = 0; b < n_pairs; ++b) {
    const int32_t* terminal = terminals.row((first_pair + b) / n_samples).data();
    std::copy(terminal, terminal + width, scratch.states.begin() + int64_t(b) * width);
    result.lengths[first_pair + b] = 0;
  }
  for (int step = 0; step < max_length; ++step) {
    bool walking = false;
    for (int b = 0; b < n_pairs && !walking; ++b) walking = !env.is_initial(scratch.states.data() + int64_t(b) * width);
    if (!walking) break;
    scratch.tape.clear();
    const ModelOutputs outputs = model.evaluate(scratch.tape, nullptr, {scratch.states.data(), n_pairs, /*with_backward=*/true}, scratch.model);
    const auto backward = scratch.tape.value(outputs.backward_logprobs);  // pairs x A_b
    for (int b = 0; b < n_pairs; ++b) {
      int32_t* state = scratch.states.data() + int64_t(b) * width;
      if (env.is_initial(state)) continue;
      const int action = rngs[b].categorical(backward.data() + int64_t(b) * backward.cols(), int(backward.cols()));
      int& length = result.lengths[first_pair + b];
      scratch.taken[int64_t(b) * max_length + length++] = action;
      env.backward_step(state, action);
    }
  }
  for (int b = 0; b < n_pairs; ++b) {  // drawn from x backwards; stored in forward order
    const int length = result.lengths[first_pair + b];
    int* actions = result.backward_actions.data() + (first_pair + b) * max_length;
    for (int t = 0; t < length; ++t) actions[t] = scratch.taken[int64_t(b) * max_length + length - 1 - t];
  }
}

// Sorts the needed rows of scratch.states and keeps one of each distinct state: scratch.unique_states
// (U x S) and scratch.unique_of (per row, its unique index, -1 for a row not needed).
void deduplicate_rows(int width, BatchScratch& scratch) {
  const int32_t* states = scratch.states.data();
  scratch.order.clear();
  for (int row = 0; row < int(scratch.unique_of.size()); ++row)
    if (scratch.unique_of[row] >= 0) scratch.order.push_back(row);
  auto state = [&](int row) { return states + int64_t(row) * width; };
  std::sort(scratch.order.begin(), scratch.order.end(), [&](int a, int b) {
    const int c = std::memcmp(state(a), state(b), sizeof(int32_t) * width);
    return c != 0 ? c < 0 : a < b;
  });
  scratch.unique_states.clear();
  int n_unique = 0;
  for (size_t i = 0; i < scratch.order.size(); ++i) {
    const int row = scratch.order[i];
    if (i == 0 || std::memcmp(state(row), state(scratch.order[i - 1]), sizeof(int32_t) * width) != 0) {
      scratch.unique_states.insert(scratch.unique_states.end(), state(row), state(row) + width);
      ++n_unique;
    }
    scratch.unique_of[row] = n_unique - 1;
  }
}

// Columns of P_F's head multiplied together: BitSeq's 2^k = 256 words of one slot.
constexpr int kHeadBlock = 256;

// P_F's logits of the distinct states of the batch at their valid actions (scratch.logits; the other
// entries are left unspecified) and each state's log normaliser, log sum over its valid actions of
// exp(logit). The valid actions are read from the environment's byte mask as runs (BitSeq: one run of
// 2^k words per empty slot): no A-wide float rows. With a trunk, the head is multiplied only on the
// blocks of kHeadBlock columns that hold a valid action of a state, each block on the states that
// need it: on BitSeq about half of the 256 x 3840 head, which dominates the cost.
void valid_logits(const Model<float>& model, int n_unique, BatchScratch& scratch) {
  const Environment& env = model.env();
  const int width = env.state_width(), n_actions = env.n_actions();
  const int n_blocks = (n_actions + kHeadBlock - 1) / kHeadBlock;
  scratch.mask.resize(n_actions);
  scratch.runs.clear();
  scratch.run_offsets.assign(1, 0);
  scratch.needs_block.assign(size_t(n_unique) * n_blocks, 0);
  for (int u = 0; u < n_unique; ++u) {
    env.forward_mask(scratch.unique_states.data() + int64_t(u) * width, scratch.mask.data());
    for (int a = 0; a < n_actions;) {
      if (!scratch.mask[a]) {
        ++a;
        continue;
      }
      const int begin = a;
      while (a < n_actions && scratch.mask[a]) ++a;
      scratch.runs.push_back({begin, a - begin});
      for (int j = begin / kHeadBlock; j <= (a - 1) / kHeadBlock; ++j) scratch.needs_block[size_t(u) * n_blocks + j] = 1;
    }
    scratch.run_offsets.push_back(int(scratch.runs.size()));
  }

  scratch.logits.resize(size_t(n_unique) * n_actions);
  MatrixMap<float> logits(scratch.logits.data(), n_unique, n_actions);
  scratch.tape.clear();
  Model<float>::ForwardHead head;
  if (!model.forward_head(scratch.tape, scratch.unique_states.data(), n_unique, scratch.model, &head)) {
    logits = scratch.tape.value(model.forward_logits(scratch.tape, scratch.unique_states.data(), n_unique,
                                                     scratch.model));
  } else {
    const auto features = scratch.tape.value(head.features);  // U x H
    const auto weight = model.store().value(head.weight);      // H x A
    const auto bias = model.store().value(head.bias);          // 1 x A
    const int hidden = int(features.cols());
    for (int j = 0; j < n_blocks; ++j) {
      const int first = j * kHeadBlock, columns = std::min(kHeadBlock, n_actions - first);
      scratch.block_rows.clear();
      for (int u = 0; u < n_unique; ++u)
        if (scratch.needs_block[size_t(u) * n_blocks + j]) scratch.block_rows.push_back(u);
      const int rows = int(scratch.block_rows.size());
      if (rows == 0) continue;
      scratch.block_inputs.resize(size_t(rows) * hidden);
      scratch.block_weight.resize(size_t(hidden) * columns);
      scratch.block_outputs.resize(size_t(rows) * columns);
      MatrixMap<float> x(scratch.block_inputs.data(), rows, hidden);          // rows x H
      MatrixMap<float> w(scratch.block_weight.data(), hidden, columns);       // H x columns
      MatrixMap<float> y(scratch.block_outputs.data(), rows, columns);        // rows x columns
      for (int r = 0; r < rows; ++r) x.row(r) = features.row(scratch.block_rows[r]);
      w = weight.middleCols(first, columns);
      y.rowwise() = bias.row(0).segment(first, columns);
      gemm<float>(ConstMatrixMap<float>(x.data(), rows, hidden), false, ConstMatrixMap<float>(w.data(), hidden, columns),
                  false, y, true, scratch.gemm_workspace);
      for (int r = 0; r < rows; ++r) logits.row(scratch.block_rows[r]).segment(first, columns) = y.row(r);
    }
  }

  scratch.log_normalisers.resize(n_unique);
  for (int u = 0; u < n_unique; ++u) {  // over the state's runs, vectorised
    const auto row = logits.row(u).array();
    float row_max = -std::numeric_limits<float>::infinity();
    for (int i = scratch.run_offsets[u]; i < scratch.run_offsets[u + 1]; ++i)
      row_max = std::max(row_max, row.segment(scratch.runs[i].first, scratch.runs[i].second).maxCoeff());
    float total = 0;
    for (int i = scratch.run_offsets[u]; i < scratch.run_offsets[u + 1]; ++i)
      total += (row.segment(scratch.runs[i].first, scratch.runs[i].second) - row_max).exp().sum();
    scratch.log_normalisers[u] = row_max + std::log(total);
  }
}

// log_weights of pairs [first_pair, first_pair + n_pairs), given their backward trajectories. P_F is
// read at s_0 .. s_{n-1} of each pair and at x only for its exit; P_B (the model's, as proposal) at
// s_1 .. x. Each distinct state of the batch is evaluated once (every pair starts at s_0, and the
// samples of one string share states), and log P_F(a | s) = logit_a - log sum over the valid actions
// of exp(logit) (valid_logits).
void weigh_backward_trajectories(const Model<float>& model, const StateMatrix& terminals, int64_t first_pair,
                                 int n_pairs, BackwardProposal proposal, BatchScratch& scratch,
                                 BackwardSampleWeights& result) {
  const Environment& env = model.env();
  const bool model_backward = proposal == BackwardProposal::ModelBackward;
  const bool read_terminal = model_backward || env.exit_action() >= 0;
  const int width = env.state_width(), max_length = result.max_length, n_samples = result.n_samples;
  scratch.row_offsets.assign(1, 0);
  for (int b = 0; b < n_pairs; ++b)
    scratch.row_offsets.push_back(scratch.row_offsets.back() + result.lengths[first_pair + b] + 1);
  const int n_rows = scratch.row_offsets.back();
  scratch.states.resize(size_t(n_rows) * width);
  scratch.unique_of.assign(n_rows, 0);
  for (int b = 0; b < n_pairs; ++b) {  // s_n = x, then s_{t-1} = s_t with the t-th move undone
    const int length = result.lengths[first_pair + b];
    const int* actions = result.backward_actions.data() + (first_pair + b) * max_length;
    int32_t* rows = scratch.states.data() + int64_t(scratch.row_offsets[b]) * width;
    const int32_t* terminal = terminals.row((first_pair + b) / n_samples).data();
    std::copy(terminal, terminal + width, rows + int64_t(length) * width);
    for (int t = length; t > 0; --t) {
      std::copy(rows + int64_t(t) * width, rows + int64_t(t + 1) * width, rows + int64_t(t - 1) * width);
      env.backward_step(rows + int64_t(t - 1) * width, actions[t - 1]);
    }
    if (!read_terminal) scratch.unique_of[scratch.row_offsets[b] + length] = -1;
  }
  deduplicate_rows(width, scratch);
  const int n_unique = int(scratch.unique_states.size()) / width;

  valid_logits(model, n_unique, scratch);
  const ConstMatrixMap<float> logits(scratch.logits.data(), n_unique, env.n_actions());
  auto log_forward = [&](int row, int action) {
    const int u = scratch.unique_of[row];
    return double(logits(u, action) - scratch.log_normalisers[u]);
  };
  NodeId backward_logprobs = -1;  // U x A_b
  if (model_backward)
    backward_logprobs =
        model.backward_policy_logprobs(scratch.tape, scratch.unique_states.data(), n_unique, scratch.model);

  scratch.mask.resize(env.n_backward_actions());
  for (int b = 0; b < n_pairs; ++b) {
    const int length = result.lengths[first_pair + b];
    const int* actions = result.backward_actions.data() + (first_pair + b) * max_length;
    const int first_row = scratch.row_offsets[b];
    double log_weight = 0;
    for (int t = 1; t <= length; ++t) {
      const int parent_row = first_row + t - 1, child_row = first_row + t;
      const int32_t* child = scratch.states.data() + int64_t(child_row) * width;
      const int action = env.forward_action_of(child, actions[t - 1]);
      double log_backward;
      if (model_backward) {
        log_backward = double(scratch.tape.value(backward_logprobs)(scratch.unique_of[child_row], actions[t - 1]));
      } else {  // uniform: 1 / (valid backward actions of the child)
        env.backward_mask(child, scratch.mask.data());
        int n_valid = 0;
        for (uint8_t valid : scratch.mask) n_valid += valid;
        log_backward = -std::log(double(n_valid));
      }
      log_weight += log_forward(parent_row, action) - log_backward;
    }
    if (env.exit_action() >= 0) log_weight += log_forward(first_row + length, env.exit_action());
    result.log_weights[first_pair + b] = log_weight;
  }
}

}  // namespace

BackwardSampleWeights backward_sample_weights(const Model<float>& model, const StateMatrix& terminals, int n_samples,
                                              uint64_t seed, BackwardProposal proposal) {
  const Environment& env = model.env();
  const int width = env.state_width();
  if (n_samples < 1) throw std::invalid_argument("backward_sample_weights: need at least one sample per state");
  if (terminals.rows() > 0 && terminals.cols() != width)
    throw std::invalid_argument("backward_sample_weights: states must have " + std::to_string(width) + " columns");
  for (int64_t i = 0; i < terminals.rows(); ++i)
    if (!env.can_terminate(terminals.row(i).data()))
      throw std::invalid_argument("backward_sample_weights: state " + std::to_string(i) + " is not terminating");

  BackwardSampleWeights result;
  result.n_states = int(terminals.rows());
  result.n_samples = n_samples;
  result.max_length = env.max_trajectory_length();
  const int64_t n_pairs = int64_t(result.n_states) * n_samples;
  result.backward_actions.assign(size_t(n_pairs) * result.max_length, -1);
  result.lengths.resize(n_pairs);
  result.log_weights.resize(n_pairs);

  // Fixed batches of consecutive pairs: the same composition on any number of threads.
  const int pairs_per_batch = std::max(1, kStatesPerEvaluation / (result.max_length + 1));
  const int64_t n_batches = (n_pairs + pairs_per_batch - 1) / pairs_per_batch;
  std::vector<BatchScratch> scratches(max_threads());
  parallel_for(n_batches, [&](int64_t batch) {
    BatchScratch& scratch = scratches[thread_id()];
    const int64_t first_pair = batch * pairs_per_batch;
    const int count = int(std::min<int64_t>(pairs_per_batch, n_pairs - first_pair));
    draw_backward_trajectories(model, terminals, seed, first_pair, count, proposal, scratch, result);
    weigh_backward_trajectories(model, terminals, first_pair, count, proposal, scratch, result);
  });
  return result;
}

std::vector<double> terminal_log_likelihoods(const Model<float>& model, const StateMatrix& terminals, int n_samples,
                                             uint64_t seed, BackwardProposal proposal) {
  const BackwardSampleWeights weights = backward_sample_weights(model, terminals, n_samples, seed, proposal);
  std::vector<double> log_likelihoods(weights.n_states);
  const double log_samples = std::log(double(n_samples));
  for (int i = 0; i < weights.n_states; ++i) {
    const double* row = weights.log_weights.data() + int64_t(i) * n_samples;
    const double max_weight = *std::max_element(row, row + n_samples);
    if (max_weight == -std::numeric_limits<double>::infinity()) {
      log_likelihoods[i] = max_weight;
      continue;
    }
    double total = 0;
    for (int k = 0; k < n_samples; ++k) total += std::exp(row[k] - max_weight);
    log_likelihoods[i] = max_weight + std::log(total) - log_samples;
  }
  return log_likelihoods;
}

double likelihood_rank_correlation(const Model<float>& model, const StateMatrix& terminals, int n_samples,
                                   uint64_t seed, BackwardProposal proposal) {
  const std::vector<double> log_likelihoods = terminal_log_likelihoods(model, terminals, n_samples, seed, proposal);
  std::vector<double> log_rewards(log_likelihoods.size());
  for (size_t i = 0; i < log_rewards.size(); ++i) log_rewards[i] = model.env().log_reward(terminals.row(i).data());
  return spearman_correlation(log_likelihoods, log_rewards);
}

bool has_test_set_rank_correlation(const Environment& env) { return env.provides(Capability::TestSet); }

double test_set_rank_correlation(const Model<float>& model, uint64_t seed, BackwardProposal proposal) {
  require_capability(model.env(), Capability::TestSet, "the test-set rank correlation");
  return likelihood_rank_correlation(model, model.env().test_states(), kDefaultBackwardSamples, seed, proposal);
}

}  // namespace gfn
