// BackwardSampler implementation: blocks of backward walks stepped in lockstep, staged in walk order
// at fixed per-trajectory strides, assembled forwards (s0 first) in trajectory order.
#include "core/training/backward_sampler.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "core/training/sampler.hpp"
#include "util/parallel.hpp"

namespace gfn {

BackwardSampler::BackwardSampler(const Model<float>& model, int block_size)
    : model_(model), block_size_(block_size), max_rows_(model.env().max_trajectory_length() + 1) {
  if (block_size < 1) throw std::invalid_argument("BackwardSampler: block size must be positive");
}

void BackwardSampler::sample(const int32_t* terminal_states, int n, uint64_t seed, uint64_t iteration,
                             uint64_t first_stream, TrajectoryBatch& batch) {
  const Environment& env = model_.env();
  const int state_width = env.state_width();
  for (int i = 0; i < n; ++i)
    if (!env.can_terminate(terminal_states + int64_t(i) * state_width))
      throw std::invalid_argument("backward sampling: state " +
                                  env.state_string(terminal_states + int64_t(i) * state_width) +
                                  " is not a terminal object");
  staged_states_.resize(size_t(n) * max_rows_ * state_width);
  staged_actions_.resize(size_t(n) * max_rows_);
  lengths_.resize(n);
  scratch_.resize(max_threads());

  const int n_blocks = (n + block_size_ - 1) / block_size_;
  parallel_for(n_blocks, [&](int64_t block) {
    const int first = int(block) * block_size_;
    sample_block(terminal_states, first, std::min(block_size_, n - first), seed, iteration, first_stream,
                 scratch_[thread_id()]);
  });

  batch.state_width = state_width;
  batch.offsets.resize(n + 1);
  batch.offsets[0] = 0;
  for (int i = 0; i < n; ++i) batch.offsets[i + 1] = batch.offsets[i] + lengths_[i];
  batch.states.resize(size_t(batch.offsets[n]) * state_width);
  batch.actions.resize(batch.offsets[n]);
  batch.log_rewards.resize(n);
  for (int i = 0; i < n; ++i) {
    const int length = lengths_[i];
    for (int k = 0; k < length; ++k) {  // walk row k is trajectory row length - 1 - k
      const int row = batch.offsets[i] + length - 1 - k;
      std::memcpy(batch.states.data() + size_t(row) * state_width,
                  staged_states_.data() + (size_t(i) * max_rows_ + k) * state_width, sizeof(int32_t) * state_width);
      batch.actions[row] = staged_actions_[size_t(i) * max_rows_ + k];
    }
    batch.log_rewards[i] = env.log_reward(terminal_states + int64_t(i) * state_width);
  }
}

void BackwardSampler::sample_block(const int32_t* terminal_states, int first, int count, uint64_t seed,
                                   uint64_t iteration, uint64_t first_stream, RolloutScratch& scratch) {
  const Environment& env = model_.env();
  const int state_width = env.state_width();
  const int n_backward = env.n_backward_actions();
  auto row_of = [&](int trajectory, int k) {
    return staged_states_.data() + (size_t(trajectory) * max_rows_ + k) * state_width;
  };

  scratch.start_block(first, count, seed, iteration, first_stream);
  for (int j = 0; j < count; ++j) {
    const int trajectory = first + j;
    const int32_t* object = terminal_states + int64_t(trajectory) * state_width;
    std::memcpy(row_of(trajectory, 0), object, sizeof(int32_t) * state_width);
    staged_actions_[size_t(trajectory) * max_rows_] = env.is_final(object) ? -1 : env.exit_action();
    lengths_[trajectory] = 1;
    if (!env.is_initial(object)) scratch.live.push_back(trajectory);
  }

  scratch.tape.reuse_packed_weights(true);  // the parameters stay fixed until the rollout ends
  while (!scratch.live.empty()) {
    const int n_live = scratch.gather_live_states(staged_states_.data(), lengths_.data(), max_rows_, state_width);
    scratch.tape.clear();
    const NodeId backward_logprobs =
        model_.backward_policy_logprobs(scratch.tape, scratch.live_states.data(), n_live, scratch.model);
    const auto logp = scratch.tape.value(backward_logprobs);  // live x A_b

    int still_live = 0;
    for (int j = 0; j < n_live; ++j) {
      const int trajectory = scratch.live[j];
      const int k = lengths_[trajectory] - 1;
      const int32_t* child = row_of(trajectory, k);
      const int backward_action = scratch.rngs[trajectory - first].categorical(logp.row(j).data(), n_backward);
      if (backward_action < 0)
        throw NonFinitePolicy("P_B gives no parent a finite probability (non-finite backward policy)");
      int32_t* parent = row_of(trajectory, k + 1);
      std::memcpy(parent, child, sizeof(int32_t) * state_width);
      env.backward_step(parent, backward_action);
      staged_actions_[size_t(trajectory) * max_rows_ + k + 1] = env.forward_action_of(child, backward_action);
      lengths_[trajectory] = k + 2;
      if (!env.is_initial(parent)) scratch.live[still_live++] = trajectory;
    }
    scratch.live.resize(still_live);
  }
  scratch.tape.reuse_packed_weights(false);
}

}  // namespace gfn
