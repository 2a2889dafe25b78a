// Sampler: parallel rollout of trajectories from P_F (the hot path).
//
// Trajectories are split into fixed blocks of `block_size`; each block steps its trajectories in
// lockstep, evaluating P_F for all of its live states with one forward pass (one GEMM per layer per
// step). Trajectory i draws from its own stream Rng::stream(seed, iteration, i), and the block shapes
// do not depend on the thread count, so a batch is bit-identical on 1, 2 or 16 threads.
//
// Sampling modifiers (off-policy): temperature T (log-probabilities / T), sf_bias (subtracted from the
// exit logit), epsilon (mix with the uniform distribution over valid actions). They change only
// which actions are drawn; objectives use the on-policy log-probabilities. With recording on, the P_F
// network's dense-layer values are kept for the loss (one pass per step, core/training/forward_record.hpp).
//
// Thread contract: thread-compatible, not thread-safe: one thread calls sample() at a time (it runs
// its own parallel region over blocks, one scratch per thread). Holds a reference to the model, which
// must outlive it and must not change during sample().
#pragma once

#include <stdexcept>
#include <vector>

#include "core/distributed/communicator.hpp"
#include "core/network/model.hpp"
#include "core/training/forward_record.hpp"
#include "core/training/rollout_scratch.hpp"
#include "core/training/trajectories.hpp"

namespace gfn {

struct SamplingOptions {
  double temperature = 1;
  double epsilon = 0;
  double sf_bias = 0;
};

// Thrown by Sampler::sample when P_F gives no valid action a finite probability at a live state:
// the policy is not finite (e.g. NaN logits after a diverged update; a finite policy never does this).
class NonFinitePolicy : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The part of a rollout this process samples when processes share it (data-parallel training,
// core/training/trainer.hpp): blocks [first_block, end_block) of block_size trajectories; the other
// trajectories come from the other processes through exchange() (core/distributed/communicator.hpp).
struct RolloutShare {
  Communicator* processes = nullptr;  // null: this process samples every block
  int first_block = 0, end_block = 0;
};

class Sampler {
 public:
  explicit Sampler(const Model<float>& model, int block_size = 16);
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Samples n trajectories into `batch` (its buffers are reused). Throws NonFinitePolicy (after the
  // parallel region: no exception escapes a thread).
  // With a share, only its blocks are sampled here (and recorded), and the batch is the same on every
  // process; a failure on any process throws on all of them.
  void sample(int n, uint64_t seed, uint64_t iteration, const SamplingOptions& options, TrajectoryBatch& batch,
              const RolloutShare& share = {});

  // Continues from given states instead of s0 (local search reconstructs from an intermediate state):
  // trajectory i starts at start_states row i (n x S) and draws from Rng::stream(seed, iteration,
  // first_stream + i). Its rows begin at that state, so the batch is a set of trajectory suffixes.
  void sample_from(const int32_t* start_states, int n, uint64_t seed, uint64_t iteration, uint64_t first_stream,
                   const SamplingOptions& options, TrajectoryBatch& batch, const RolloutShare& share = {});

  // One-pass training (core/training/forward_record.hpp): when on, sample() keeps the P_F network's dense-layer
  // values of every row it drew an action at, until the next sample(). Off by default.
  void set_recording(bool on) { recording_ = on; }
  const ForwardRecord<float>& forward_record() const { return record_; }

 private:
  void sample_block(const int32_t* start_states, int first, int count, uint64_t seed, uint64_t iteration,
                    uint64_t first_stream, const SamplingOptions& options, RolloutScratch& scratch);
  // The other processes' trajectories [first, end) into the staging buffers, this process's out.
  void exchange_staged(const RolloutShare& share, int n, std::exception_ptr failure);

  const Model<float>& model_;
  int block_size_;
  int max_rows_;  // per trajectory: max transitions + 1
  std::vector<RolloutScratch> scratch_;   // one per thread
  std::vector<int32_t> staged_states_;  // n x max_rows x S, trajectory i at a fixed stride
  std::vector<int> staged_actions_;     // n x max_rows
  std::vector<int> lengths_;            // rows of each trajectory
  std::vector<double> staged_log_rewards_;
  bool recording_ = false;
  ForwardRecord<float> record_;
};

// Draws an action from masked log-probabilities logp[0..A) (-inf = invalid) under the modifiers.
// scratch: A floats.
int draw_action(const float* logp, int n_actions, int exit_action, const SamplingOptions& options, Rng& rng,
                float* scratch);

}  // namespace gfn
