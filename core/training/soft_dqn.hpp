// Soft DQN and Munchausen DQN for GFlowNets (Tiapkin et al. 2024, "Generative Flow Networks as
// Entropy-Regularized RL"; docs/objectives.md).
//
// A move s -> s' earns reward log P_B(s | s'), an exit earns log R(x) (a move into a final state
// earns both, and ends the episode); no discount. The Q network is the P_F network: its logits are
// f = Q / lambda, so P_F = softmax(Q / lambda) and the sampler and exact evaluation need no change.
// Target: y = r + lambda * logsumexp(f_target(s')) (just r when the episode ends); Munchausen adds
// alpha * clip(lambda * log pi_target(a|s), -100, 0). Loss: mean Huber(1) of Q(s,a) - y over 256
// transitions drawn from a prioritized replay buffer (priority = current Huber loss, new items inserted
// with theirs); learning starts after 16 iterations; the target network follows by Polyak averaging
// (tau 0.25) after each update. No importance-sampling correction of the replay distribution.
#pragma once

#include <limits>
#include <memory>
#include <vector>

#include "core/network/adam.hpp"
#include "core/network/checkpoint.hpp"
#include "core/network/model.hpp"
#include "core/network/training_diverged.hpp"
#include "core/training/replay_buffer.hpp"
#include "core/training/trajectories.hpp"

namespace gfn {

struct SoftDqnConfig {
  bool munchausen = false;
  double munchausen_alpha = 0.15;
  double lambda = 1;            // soft DQN: 1; Munchausen: 1 / (1 - alpha) unless set
  double target_tau = 0.25;
  int replay_capacity = 100000;
  double replay_alpha = 0.5;
  int replay_batch = 256;
  int learning_starts = 16;     // iterations before the first update
  double log_reward_floor = -std::numeric_limits<double>::infinity();
};

// Transitions gathered for one loss evaluation (buffers reused).
struct TransitionBatch {
  std::vector<int32_t> states;       // M x S, then s' rows: 2M x S in all
  std::vector<int> actions;          // M
  std::vector<uint8_t> done;         // M
  std::vector<double> log_rewards;   // M (terminal log R where done)
  int size() const { return int(actions.size()); }
};

// Thread contract: thread-compatible, not thread-safe: one thread calls step() (which runs its own
// parallel region) and the accessors. Holds a reference to the model (owned by the Trainer, which is
// therefore neither copyable nor movable); the model must outlive the learner.
class SoftDqnLearner {
 public:
  SoftDqnLearner(const SoftDqnLearner&) = delete;
  SoftDqnLearner& operator=(const SoftDqnLearner&) = delete;
  SoftDqnLearner(Model<float>& model, const SoftDqnConfig& config, uint64_t seed);

  // Inserts the batch's transitions with their current loss as priority and, once learning has
  // started, takes one Adam step on a replayed minibatch. Returns the minibatch loss (before learning
  // starts: the fresh transitions' mean loss). Throws TrainingDiverged on a non-finite loss or gradient.
  double step(const TrajectoryBatch& batch, int64_t iteration, Adam<float>& adam, FlatVector<float>& gradient);

  // Builds mean Huber(Q - y) over `transitions` on `tape`; per-item Huber values land in huber_values.
  NodeId build_loss(Tape<float>& tape, FlatVector<float>* gradient, const TransitionBatch& transitions,
                    std::vector<double>& huber_values);

  // Target network and replay buffer, for checkpoints (restore() expects a fresh learner).
  void save(Checkpoint& checkpoint) const;
  void restore(const Checkpoint& checkpoint);

  const ParameterStore<float>& target_store() const { return target_.store(); }
  ParameterStore<float>& target_store() { return target_.store(); }
  const ReplayBuffer& replay() const { return replay_; }
  ReplayBuffer& replay() { return replay_; }

 private:
  Model<float>& model_;
  Model<float> target_;  // same layout; only its P_F network is read
  SoftDqnConfig config_;
  uint64_t seed_;
  ReplayBuffer replay_;
  Tape<float> tape_, target_tape_;
  ModelScratch scratch_, target_scratch_;
  TransitionBatch transitions_;
  std::vector<int> indices_, columns_, backward_columns_, drawn_;  // drawn_: replayed slots
  std::vector<double> huber_values_;
};

}  // namespace gfn
