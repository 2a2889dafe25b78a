// BitSeq log P_T estimates and rank correlation (see bitseq_likelihood.hpp). Work is cut into fixed
// batches of consecutive (string, order) pairs; a batch first draws its fill orders (Fisher-Yates, or
// L rounds of backward sampling from the model's P_B), then evaluates the L+1 states of every pair's
// trajectory in one call and sums log P_F - log P_B in double (uniform P_B: log P_B = -log t at the
// state with t filled slots).
#include "core/bitseq_likelihood.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/rank_correlation.hpp"

namespace gfn {

namespace {

constexpr int kStatesPerEvaluation = 1024;  // rows of one model call (bounds the tape: rows x A floats)

struct BatchScratch {
  Tape<float> tape;
  ModelScratch model;
  std::vector<int32_t> states;  // rows x L
  std::vector<int> erased;      // pairs x L: slots in erasure order (learned P_B)
};

// Fills slots[first_pair*L ..) for pairs [first_pair, first_pair + n_pairs) with fill orders drawn from
// the proposal: uniform permutations, or backward sampling from the model's P_B.
void draw_fill_orders(const Model<float>& model, const BitSeq& env, const StateMatrix& strings, int n_orders,
                      uint64_t seed, int64_t first_pair, int n_pairs, FillOrders proposal, BatchScratch& scratch,
                      int* slots) {
  const int n_slots = env.state_width();
  std::vector<Rng> rngs;
  rngs.reserve(n_pairs);
  for (int b = 0; b < n_pairs; ++b) {
    const int64_t pair = first_pair + b;
    rngs.push_back(Rng::stream(seed, uint64_t(pair / n_orders), uint64_t(pair % n_orders)));
  }
  if (proposal == FillOrders::Uniform) {
    for (int b = 0; b < n_pairs; ++b) {
      int* order = slots + (first_pair + b) * n_slots;
      for (int t = 0; t < n_slots; ++t) order[t] = t;
      for (int t = n_slots - 1; t > 0; --t) std::swap(order[t], order[rngs[b].uniform_int(uint32_t(t + 1))]);
    }
    return;
  }
  // Backward sampling: from x, erase a slot drawn from P_B(. | current state), L times.
  scratch.states.resize(size_t(n_pairs) * n_slots);
  scratch.erased.resize(size_t(n_pairs) * n_slots);
  for (int b = 0; b < n_pairs; ++b) {
    const int64_t string = (first_pair + b) / n_orders;
    std::copy(strings.row(string).data(), strings.row(string).data() + n_slots,
              scratch.states.begin() + int64_t(b) * n_slots);
  }
  for (int step = 0; step < n_slots; ++step) {
    scratch.tape.clear();
    const ModelOutputs outputs = model.evaluate(scratch.tape, nullptr, scratch.states.data(), n_pairs,
                                                scratch.model, /*with_backward=*/true);
    const auto backward = scratch.tape.value(outputs.backward_logprobs);  // pairs x L
    for (int b = 0; b < n_pairs; ++b) {
      const float* row = backward.data() + int64_t(b) * n_slots;
      const int slot = rngs[b].categorical(row, n_slots);  // a filled slot: its P_B entry is finite
      scratch.erased[int64_t(b) * n_slots + step] = slot;
      scratch.states[int64_t(b) * n_slots + slot] = env.empty_word();
    }
  }
  for (int b = 0; b < n_pairs; ++b) {
    int* order = slots + (first_pair + b) * n_slots;
    for (int t = 0; t < n_slots; ++t) order[t] = scratch.erased[int64_t(b) * n_slots + n_slots - 1 - t];
  }
}

// log_weights[pair] for pairs [first_pair, first_pair + n_pairs), given their fill orders.
void weigh_fill_orders(const Model<float>& model, const BitSeq& env, const StateMatrix& strings, int n_orders,
                       int64_t first_pair, int n_pairs, const int* slots, FillOrders proposal,
                       BatchScratch& scratch, double* log_weights) {
  const bool model_backward = proposal == FillOrders::ModelBackward;
  const int n_slots = env.state_width();
  const int steps = n_slots + 1;  // s_0 .. s_L
  const int word_bits = env.reward().word_bits();
  scratch.states.resize(size_t(n_pairs) * steps * n_slots);
  for (int b = 0; b < n_pairs; ++b) {
    const int32_t* words = strings.row((first_pair + b) / n_orders).data();
    const int* order = slots + (first_pair + b) * n_slots;
    int32_t* rows = scratch.states.data() + int64_t(b) * steps * n_slots;
    env.initial_state(rows);
    for (int t = 1; t < steps; ++t) {
      std::copy(rows + (t - 1) * n_slots, rows + t * n_slots, rows + t * n_slots);
      rows[t * n_slots + order[t - 1]] = words[order[t - 1]];
    }
  }
  scratch.tape.clear();
  const ModelOutputs outputs = model.evaluate(scratch.tape, nullptr, scratch.states.data(), n_pairs * steps,
                                              scratch.model, model_backward);
  const auto forward = scratch.tape.value(outputs.forward_logprobs);  // rows x A
  for (int b = 0; b < n_pairs; ++b) {
    const int32_t* words = strings.row((first_pair + b) / n_orders).data();
    const int* order = slots + (first_pair + b) * n_slots;
    double log_weight = 0;
    for (int t = 1; t < steps; ++t) {
      const int slot = order[t - 1];
      const int action = (slot << word_bits) | words[slot];
      const int parent_row = b * steps + t - 1, child_row = b * steps + t;
      double log_backward = -std::log(double(t));  // uniform P_B: 1 / (filled slots of the child)
      if (model_backward) log_backward = double(scratch.tape.value(outputs.backward_logprobs)(child_row, slot));
      log_weight += double(forward(parent_row, action)) - log_backward;
    }
    log_weights[first_pair + b] = log_weight;
  }
}

}  // namespace

BitSeqOrderWeights bitseq_order_weights(const Model<float>& model, const BitSeq& env, const StateMatrix& strings,
                                        int n_orders, uint64_t seed, FillOrders proposal) {
  const Environment& model_env = model.env();
  const int n_slots = env.state_width();
  if (n_orders < 1) throw std::invalid_argument("bitseq_order_weights: need at least one fill order");
  if (model_env.state_width() != n_slots || model_env.n_actions() != env.n_actions() ||
      model_env.n_backward_actions() != env.n_backward_actions() || model_env.exit_action() != -1)
    throw std::invalid_argument("bitseq_order_weights: the model was built for another environment");
  if (strings.rows() > 0 && strings.cols() != n_slots)
    throw std::invalid_argument("bitseq_order_weights: strings must have one column per slot");
  for (int64_t i = 0; i < strings.rows(); ++i)
    for (int slot = 0; slot < n_slots; ++slot)
      if (strings(i, slot) < 0 || strings(i, slot) >= env.empty_word())
        throw std::invalid_argument("bitseq_order_weights: string " + std::to_string(i) + " is not full");

  BitSeqOrderWeights result;
  result.n_strings = int(strings.rows());
  result.n_orders = n_orders;
  result.n_slots = n_slots;
  const int64_t n_pairs = int64_t(result.n_strings) * n_orders;
  result.slots.resize(size_t(n_pairs) * n_slots);
  result.log_weights.resize(n_pairs);

  // Fixed batches of consecutive pairs: the same composition on any number of threads.
  const int pairs_per_batch = std::max(1, kStatesPerEvaluation / (n_slots + 1));
  const int64_t n_batches = (n_pairs + pairs_per_batch - 1) / pairs_per_batch;
  std::vector<BatchScratch> scratches(max_threads());
  parallel_for(n_batches, [&](int64_t batch) {
    BatchScratch& scratch = scratches[thread_id()];
    const int64_t first_pair = batch * pairs_per_batch;
    const int count = int(std::min<int64_t>(pairs_per_batch, n_pairs - first_pair));
    draw_fill_orders(model, env, strings, n_orders, seed, first_pair, count, proposal, scratch, result.slots.data());
    weigh_fill_orders(model, env, strings, n_orders, first_pair, count, result.slots.data(), proposal, scratch,
                      result.log_weights.data());
  });
  return result;
}

std::vector<double> bitseq_log_likelihoods(const Model<float>& model, const BitSeq& env, const StateMatrix& strings,
                                           int n_orders, uint64_t seed, FillOrders proposal) {
  const BitSeqOrderWeights weights = bitseq_order_weights(model, env, strings, n_orders, seed, proposal);
  std::vector<double> log_likelihoods(weights.n_strings);
  const double log_orders = std::log(double(n_orders));
  for (int i = 0; i < weights.n_strings; ++i) {
    const double* row = weights.log_weights.data() + int64_t(i) * n_orders;
    const double max_weight = *std::max_element(row, row + n_orders);
    if (max_weight == -std::numeric_limits<double>::infinity()) {
      log_likelihoods[i] = max_weight;
      continue;
    }
    double total = 0;
    for (int k = 0; k < n_orders; ++k) total += std::exp(row[k] - max_weight);
    log_likelihoods[i] = max_weight + std::log(total) - log_orders;
  }
  return log_likelihoods;
}

double bitseq_rank_correlation(const Model<float>& model, const BitSeq& env, const StateMatrix& test_set_states,
                               int n_orders, uint64_t seed, FillOrders proposal) {
  const std::vector<double> log_likelihoods =
      bitseq_log_likelihoods(model, env, test_set_states, n_orders, seed, proposal);
  std::vector<double> log_rewards(log_likelihoods.size());
  for (size_t i = 0; i < log_rewards.size(); ++i) log_rewards[i] = env.log_reward(test_set_states.row(i).data());
  return spearman_correlation(log_likelihoods, log_rewards);
}

StateMatrix bitseq_states_from_bits(const BitSeq& env, const std::vector<std::string>& bit_strings) {
  StateMatrix states(int64_t(bit_strings.size()), env.state_width());
  for (size_t i = 0; i < bit_strings.size(); ++i) env.reward().words_from_bits(bit_strings[i], states.row(i).data());
  return states;
}

}  // namespace gfn

namespace gfn {

bool has_test_set_rank_correlation(const Environment& env) { return dynamic_cast<const BitSeq*>(&env) != nullptr; }

double test_set_rank_correlation(const Model<float>& model, uint64_t seed, FillOrders proposal) {
  const auto* env = dynamic_cast<const BitSeq*>(&model.env());
  if (env == nullptr) throw std::invalid_argument("test_set_rank_correlation: the environment has no test set");
  const StateMatrix test_set = bitseq_states_from_bits(*env, env->reward().test_set());
  return bitseq_rank_correlation(model, *env, test_set, kDefaultFillOrders, seed, proposal);
}

}  // namespace gfn
