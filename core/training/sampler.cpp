// Sampler implementation: blocks of trajectories stepped in lockstep, blocks spread over threads,
// results staged at fixed per-trajectory strides and assembled in trajectory order.
#include "core/training/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "util/parallel.hpp"

namespace gfn {

int draw_action(const float* logp, int n_actions, int exit_action, const SamplingOptions& options, Rng& rng,
                float* scratch) {
  constexpr float minus_infinity = -std::numeric_limits<float>::infinity();
  Eigen::Map<const Eigen::ArrayXf> log_probabilities(logp, n_actions);
  Eigen::Map<Eigen::ArrayXf> weights(scratch, n_actions);  // exp of every entry, vectorised (invalid: exp(-inf) = 0)
  if (options.temperature == 1 && options.sf_bias == 0) {  // the policy itself
    weights = log_probabilities.exp();
  } else {
    weights = log_probabilities * float(1 / options.temperature);
    if (exit_action >= 0) weights[exit_action] -= float(options.sf_bias);
    float max_logit = minus_infinity;
    for (int a = 0; a < n_actions; ++a)
      if (logp[a] != minus_infinity) max_logit = std::max(max_logit, weights[a]);
    weights = (weights - max_logit).exp();
  }
  // p(a) = (1 - epsilon) weight(a) / total + epsilon / n_valid over the valid actions, drawn as the
  // mixture it is: with probability epsilon a uniform valid action, otherwise one by weight.
  double u = rng.uniform();
  if (u < options.epsilon) {
    const int n_valid = int((log_probabilities != minus_infinity).count());
    int k = std::min(int(u / options.epsilon * n_valid), n_valid - 1);  // the k-th valid action
    for (int a = 0; a < n_actions; ++a)
      if (logp[a] != minus_infinity && k-- == 0) return a;
    return -1;  // nothing valid
  }
  const double total = weights.sum();  // 0 for invalid actions (exp(-inf))
  u = (u - options.epsilon) / (1 - options.epsilon) * total;
  for (int a = 0; a < n_actions; ++a) {
    u -= weights[a];
    if (u < 0) return a;  // never an invalid action: its weight 0 leaves u >= 0
  }
  for (int a = n_actions - 1; a >= 0; --a)  // rounding left u >= 0: the last valid action
    if (logp[a] != minus_infinity) return a;
  return -1;  // nothing valid
}

Sampler::Sampler(const Model<float>& model, int block_size)
    : model_(model), block_size_(block_size), max_rows_(model.env().max_trajectory_length() + 1) {
  if (block_size < 1) throw std::invalid_argument("Sampler: block size must be positive");
}

void Sampler::sample(int n, uint64_t seed, uint64_t iteration, const SamplingOptions& options,
                     TrajectoryBatch& batch, const RolloutShare& share) {
  sample_from(nullptr, n, seed, iteration, 0, options, batch, share);
}

void Sampler::exchange_staged(const RolloutShare& share, int n, std::exception_ptr failure) {
  // Per trajectory sampled here: its index, rows, log reward, then its states (rows x S) and actions.
  const int state_width = model_.env().state_width();
  Packet mine;
  if (!failure)
    for (int i = std::min(share.first_block * block_size_, n); i < std::min(share.end_block * block_size_, n); ++i) {
      mine.put(int64_t(i));
      mine.put(int64_t(lengths_[i]));
      mine.put(staged_log_rewards_[i]);
      mine.put(staged_states_.data() + size_t(i) * max_rows_ * state_width, size_t(lengths_[i]) * state_width);
      mine.put(staged_actions_.data() + size_t(i) * max_rows_, size_t(lengths_[i]));
    }
  mine.put(int64_t(-1));
  std::vector<Packet::Reader> parts = exchange(*share.processes, mine, failure);
  for (int r = 0; r < share.processes->size(); ++r) {
    if (r == share.processes->rank()) continue;
    Packet::Reader& part = parts[size_t(r)];
    for (int64_t i = part.take<int64_t>(); i >= 0; i = part.take<int64_t>()) {
      if (i >= n) throw std::runtime_error("exchange: a trajectory index beyond the batch");
      const int length = int(part.take<int64_t>());
      if (length < 1 || length > max_rows_) throw std::runtime_error("exchange: a trajectory of impossible length");
      lengths_[size_t(i)] = length;
      staged_log_rewards_[size_t(i)] = part.take<double>();
      std::memcpy(staged_states_.data() + size_t(i) * max_rows_ * state_width,
                  part.take<int32_t>(size_t(length) * state_width), sizeof(int32_t) * size_t(length) * state_width);
      std::memcpy(staged_actions_.data() + size_t(i) * max_rows_, part.take<int>(size_t(length)),
                  sizeof(int) * size_t(length));
    }
  }
}

void Sampler::sample_from(const int32_t* start_states, int n, uint64_t seed, uint64_t iteration,
                          uint64_t first_stream, const SamplingOptions& options, TrajectoryBatch& batch,
                          const RolloutShare& share) {
  const Environment& env = model_.env();
  const int state_width = env.state_width();
  staged_states_.resize(size_t(n) * max_rows_ * state_width);
  staged_actions_.resize(size_t(n) * max_rows_);
  lengths_.resize(n);
  staged_log_rewards_.resize(n);
  scratch_.resize(max_threads());
  if (recording_) record_.reset(model_.forward_dense_widths(), n, max_rows_);

  const int n_blocks = (n + block_size_ - 1) / block_size_;
  const int first_block = share.processes ? std::min(share.first_block, n_blocks) : 0;
  const int end_block = share.processes ? std::min(share.end_block, n_blocks) : n_blocks;
  std::exception_ptr failure;
  try {
    parallel_for(std::max(end_block - first_block, 0), [&](int64_t i) {
      const int first = int(first_block + i) * block_size_;
      sample_block(start_states, first, std::min(block_size_, n - first), seed, iteration, first_stream, options,
                   scratch_[thread_id()]);
    });
  } catch (...) {
    if (!share.processes) throw;
    failure = std::current_exception();
  }
  if (share.processes) exchange_staged(share, n, failure);

  batch.state_width = state_width;
  batch.offsets.resize(n + 1);
  batch.offsets[0] = 0;
  for (int i = 0; i < n; ++i) batch.offsets[i + 1] = batch.offsets[i] + lengths_[i];
  const int rows = batch.offsets[n];
  batch.states.resize(size_t(rows) * state_width);
  batch.actions.resize(rows);
  batch.log_rewards.assign(staged_log_rewards_.begin(), staged_log_rewards_.end());
  for (int i = 0; i < n; ++i) {
    std::memcpy(batch.states.data() + size_t(batch.offsets[i]) * state_width,
                staged_states_.data() + size_t(i) * max_rows_ * state_width,
                sizeof(int32_t) * lengths_[i] * state_width);
    std::memcpy(batch.actions.data() + batch.offsets[i], staged_actions_.data() + size_t(i) * max_rows_,
                sizeof(int) * lengths_[i]);
  }
}

void Sampler::sample_block(const int32_t* start_states, int first, int count, uint64_t seed, uint64_t iteration,
                           uint64_t first_stream, const SamplingOptions& options, RolloutScratch& scratch) {
  const Environment& env = model_.env();
  const int state_width = env.state_width();
  const int n_actions = env.n_actions();
  const int exit_action = env.exit_action();
  auto row_of = [&](int trajectory, int row) {
    return staged_states_.data() + (size_t(trajectory) * max_rows_ + row) * state_width;
  };

  scratch.start_block(first, count, seed, iteration, first_stream);
  for (int j = 0; j < count; ++j) {
    const int trajectory = first + j;
    int32_t* start = row_of(trajectory, 0);
    if (start_states)
      std::memcpy(start, start_states + size_t(trajectory) * state_width, sizeof(int32_t) * state_width);
    else
      env.initial_state(start);
    lengths_[trajectory] = 1;
    if (env.is_final(start)) {  // nothing left to do: a final start state is its own suffix
      staged_actions_[size_t(trajectory) * max_rows_] = -1;
      staged_log_rewards_[trajectory] = env.log_reward(start);
      continue;
    }
    scratch.live.push_back(trajectory);
  }
  scratch.weights.resize(n_actions);

  scratch.tape.reuse_packed_weights(true);  // the parameters stay fixed until the rollout ends
  while (!scratch.live.empty()) {
    const int n_live = scratch.gather_live_states(staged_states_.data(), lengths_.data(), max_rows_, state_width);
    scratch.tape.clear();
    const ModelOutputs outputs = model_.evaluate(scratch.tape, nullptr, {scratch.live_states.data(), n_live, /*with_backward=*/false, recording_ ? &scratch.dense : nullptr}, scratch.model);
    const auto logp = scratch.tape.value(outputs.forward_logprobs);  // live x A

    int still_live = 0;
    for (int j = 0; j < n_live; ++j) {
      const int trajectory = scratch.live[j];
      const int row = lengths_[trajectory] - 1;
      int32_t* current = row_of(trajectory, row);
      if (recording_) record_.store(scratch.tape, scratch.dense.nodes, j, trajectory, row);
      const int action = draw_action(logp.row(j).data(), n_actions, exit_action, options, scratch.rngs[trajectory - first],
                                     scratch.weights.data());
      if (action < 0) throw NonFinitePolicy("P_F gives no valid action a finite probability (non-finite policy)");
      staged_actions_[size_t(trajectory) * max_rows_ + row] = action;
      if (action == exit_action) {
        staged_log_rewards_[trajectory] = env.log_reward(current);
        continue;
      }
      int32_t* next = row_of(trajectory, row + 1);
      std::memcpy(next, current, sizeof(int32_t) * state_width);
      env.step(next, action);
      lengths_[trajectory] = row + 2;
      if (env.is_final(next)) {
        staged_actions_[size_t(trajectory) * max_rows_ + row + 1] = -1;
        staged_log_rewards_[trajectory] = env.log_reward(next);
        continue;
      }
      scratch.live[still_live++] = trajectory;
    }
    scratch.live.resize(still_live);
  }
  scratch.tape.reuse_packed_weights(false);
}

}  // namespace gfn
