// Trainer: one GFlowNet training run. An iteration samples a batch from P_F (possibly off-policy),
// evaluates the objective over all transitions in parallel blocks with per-block gradient buffers,
// reduces them in block order, checks for NaN/infinity and takes one Adam step (log Z in its own group).
//
// With --pb tlm / pessimistic, each iteration first takes one Adam step on the P_B network alone,
// minimising the negative log-likelihood of the moves of the current batch (tlm, learning rate
// decayed by 0.999 per iteration) or of a random batch among the last 20 (pessimistic, no decay),
// then Polyak-averages the target P_B (tau 0.25) that the forward objective reads.
//
// Deterministic: given the seed, the loss history and parameters are bit-identical on any thread
// count (fixed blocks, per-trajectory random streams, fixed reduction order).
//
//   Trainer trainer(env, model_config, train_config);
//   for (int i = 0; i < 1000; ++i) trainer.step();
#pragma once

#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/adam.hpp"
#include "core/checkpoint.hpp"
#include "core/learning_rate_schedule.hpp"
#include "core/objectives.hpp"
#include "core/sampler.hpp"
#include "core/soft_dqn.hpp"

namespace gfn {

struct TrainConfig {
  ObjectiveConfig objective;
  int batch = 16;                       // trajectories per iteration
  double learning_rate = 1e-3;          // networks (group 0)
  double log_z_learning_rate = 0.1;     // log Z (group 1)
  double weight_decay = 0;              // decoupled, networks only
  double max_gradient_norm = 0;         // 0: no clipping
  LearningRateSchedule schedule;        // multiplies both learning rates by its factor at each iteration
  SamplingOptions sampling;
  SoftDqnConfig dqn;                    // --loss soft-dqn / munchausen-dqn
  uint64_t seed = 0;
  int block_size = 16;                  // trajectories per parallel block
};

// Wall-clock seconds of each phase of one iteration. Loss forward and backward run fused per block,
// so they split the loss region's wall time in proportion to their summed thread time (backward
// includes the ordered gradient reduction).
struct PhaseTimes {
  double rollout = 0;
  double loss_forward = 0;
  double backward = 0;
  double optimizer = 0;
};

struct IterationResult {
  double loss = 0;
  double backward_loss = NAN;  // TLM's P_B negative log-likelihood, when there is one
  int trajectories = 0;
  int transitions = 0;
  int rows = 0;  // states evaluated by the loss (and by rollout)
  PhaseTimes times;
};

class Trainer {
 public:
  Trainer(const Environment& env, const ModelConfig& model_config, const TrainConfig& config);

  IterationResult step();

  int64_t iteration() const { return iteration_; }
  void set_iteration(int64_t iteration) { iteration_ = iteration; }
  Model<float>& model() { return model_; }
  const Model<float>& model() const { return model_; }
  Adam<float>& optimizer() { return adam_; }
  const TrajectoryBatch& batch() const { return batch_; }
  const TrainConfig& config() const { return config_; }

  // Everything training depends on (parameters, optimisers, P_B networks, recent batches, iteration),
  // so a restored trainer continues bit-identically. restore() throws on a mismatching layout.
  void save(Checkpoint& checkpoint) const;
  void restore(const Checkpoint& checkpoint);

 private:
  struct Block {
    Tape<float> tape;
    FlatVector<float> gradient;
    BlockObjective<float> objective;
    NodeId loss = -1;
    double forward_seconds = 0, backward_seconds = 0;
  };
  static double run_backward(Block& block);  // zeroes the block's gradient, runs backward; seconds

  double train_backward_policy();  // returns the P_B loss

  TrainConfig config_;
  Model<float> model_;
  Adam<float> adam_;
  // TLM / pessimistic P_B training.
  Adam<float> backward_adam_;
  FlatVector<float> backward_gradient_;
  Tape<float> backward_tape_;
  ModelScratch backward_scratch_;
  std::vector<int> backward_columns_;
  std::vector<TrajectoryBatch> recent_batches_;  // pessimistic: ring of the last 20 batches
  Sampler sampler_;
  TrajectoryBatch batch_;
  std::unique_ptr<SoftDqnLearner> dqn_;  // soft DQN / Munchausen DQN instead of the blocks
  std::vector<std::unique_ptr<Block>> blocks_;  // block 0's gradient receives the reduced gradient
  int64_t iteration_ = 0;
};

}  // namespace gfn
