// BackwardSampler: trajectories that end at given terminal objects, drawn from the backward policy.
//
// From each terminal object x (a state that can terminate) it walks s_m = x, s_{m-1}, ... down to s0,
// drawing each parent from P_B(. | s) as the model defines it (uniform, maxent, learned, or TLM's target
// network: exactly the P_B the objectives read), and writes the walk forwards into the TrajectoryBatch
// layout of a forward rollout (s0 first, forward actions, exit at x or -1 when x is final), so every
// objective trains on it unchanged. Used by replay (objects from a buffer) and local search. Not a
// forward sampler (core/training/sampler.hpp) and not a buffer (core/training/terminal_replay_buffer.hpp).
//
// Like the Sampler: fixed blocks stepped in lockstep (one P_B evaluation per step per block; a fixed P_B
// runs no network, see Model::backward_policy_logprobs), and trajectory i draws from
// Rng::stream(seed, iteration, first_stream + i), so a batch is bit-identical on any thread count.
// Shapes: terminal_states is n x S; the batch has n trajectories.
//
//   BackwardSampler backward(model);
//   backward.sample(objects.data(), n, seed, iteration, /*first_stream=*/1 << 20, batch);
//
// Thread contract: thread-compatible (one caller at a time; it parallelises internally).
#pragma once

#include <cstdint>
#include <vector>

#include "core/network/model.hpp"
#include "core/training/rollout_scratch.hpp"
#include "core/training/trajectories.hpp"

namespace gfn {

class BackwardSampler {
 public:
  explicit BackwardSampler(const Model<float>& model, int block_size = 16);

  // Samples one trajectory ending at each of terminal_states[0..n) into `batch` (buffers reused).
  // Throws std::invalid_argument when a state cannot terminate, NonFinitePolicy (core/training/sampler.hpp)
  // when P_B gives no parent a finite probability.
  void sample(const int32_t* terminal_states, int n, uint64_t seed, uint64_t iteration, uint64_t first_stream,
              TrajectoryBatch& batch);

 private:
  void sample_block(const int32_t* terminal_states, int first, int count, uint64_t seed, uint64_t iteration,
                    uint64_t first_stream, RolloutScratch& scratch);

  const Model<float>& model_;
  int block_size_;
  int max_rows_;  // per trajectory: max transitions + 1
  std::vector<RolloutScratch> scratch_;   // one per thread
  // Trajectory i at a fixed stride, in walk order (x first, s0 last); reversed on assembly.
  std::vector<int32_t> staged_states_;  // n x max_rows x S
  std::vector<int> staged_actions_;     // n x max_rows: the forward action taken at that row
  std::vector<int> lengths_;            // rows of each trajectory
};

}  // namespace gfn
