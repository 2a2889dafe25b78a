// Trainer implementation: sample, per-block loss and backward in parallel (this process's blocks),
// exchange with the other processes, ordered reduction, Adam.
#include "core/training/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "core/training/baseline_samplers.hpp"
#include "util/parallel.hpp"

namespace gfn {

namespace {

ModelConfig with_estimators(ModelConfig config, const std::string& loss) {
  require_estimators(loss, config);
  return config;
}

bool is_soft_dqn(const TrainConfig& config) { return objective_spec(config.objective.loss).learner != Learner::Blocks; }

TrainConfig with_block_size(TrainConfig config) {
  if (config.block_size < 0) throw std::invalid_argument("--block-size must be at least 1 (0: from --batch)");
  if (config.block_size == 0) config.block_size = default_block_size(config.batch);
  return config;
}

}  // namespace

int default_block_size(int batch) {
  if (batch <= 64) return 16;
  int block = 16;
  while (block < 128 && 2 * block <= batch / 4) block *= 2;
  return block;
}

Trainer::Trainer(const Environment& env, const ModelConfig& model_config, const TrainConfig& config)
    : config_(with_block_size(config)),
      model_(env, with_estimators(model_config, config.objective.loss), config.seed),
      adam_(model_.store(), {AdamGroup{config.learning_rate, config.weight_decay}, AdamGroup{config.log_z_learning_rate, 0}}),
      sampler_(model_, config_.block_size),
      replay_buffer_(config.replay, env.state_width()),
      backward_sampler_(model_, config_.block_size),
      local_search_(model_, config_.block_size),
      reduction_(model_.store().flat_size(), config.lazy_table_updates && model_config.tabular && !is_soft_dqn(config),
                 is_soft_dqn(config)) {
  if (config.batch < 1) throw std::invalid_argument("--batch must be at least 1");
  if (!(config.replay_ratio >= 0 && config.replay_ratio < 1))
    throw std::invalid_argument("--replay-ratio must be in [0, 1)");
  if (!(config.uniform_ratio >= 0 && config.uniform_ratio < 1))
    throw std::invalid_argument("--uniform-ratio must be in [0, 1)");
  const ObjectiveSpec& objective = objective_spec(config.objective.loss);
  if (objective.needs_exit && env.exit_action() < 0)
    throw std::invalid_argument("--loss " + config.objective.loss + " needs an environment where every state can exit");
  if (model_.has_backward_network()) {
    backward_adam_ = Adam<float>(model_.backward_store(), {AdamGroup{config.learning_rate, config.weight_decay}});
    backward_gradient_ = model_.backward_store().make_gradient();
  }
  const bool dqn = is_soft_dqn(config);
  if (dqn && (config.replay_ratio > 0 || config.uniform_ratio > 0 || config.local_search.backtrack > 0))
    throw std::invalid_argument("--replay-ratio, --uniform-ratio and --ls-backtrack apply to the balance objectives, not to " +
                                config.objective.loss);
  // Local search adds one refined trajectory per fresh one (at most batch fresh: the first iteration).
  max_trajectories_ = config.batch * (config.local_search.backtrack > 0 ? 2 : 1);
  const int n_blocks = dqn ? 1 : (max_trajectories_ + config_.block_size - 1) / config_.block_size;
  if (dqn) {
    SoftDqnConfig dqn_config = config.dqn;
    dqn_config.munchausen = objective.learner == Learner::MunchausenDqn;
    dqn_config.log_reward_floor = config.objective.log_reward_floor;
    dqn_ = std::make_unique<SoftDqnLearner>(model_, dqn_config, config.seed);
  }
  sampler_.set_recording(!dqn && !config.recompute_logprobs);
  for (int b = 0; b < n_blocks; ++b) {
    blocks_.push_back(std::make_unique<LossBlock>());
    blocks_.back()->gradient = model_.store().make_gradient();
    if (!dqn) blocks_.back()->objective = make_block_objective<float>(config.objective);
  }
}

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool all_finite(const FlatVector<float>& values, const std::vector<FlatRange>& support) {
  for (const FlatRange& range : support)
    if (!Eigen::Map<const Eigen::ArrayXf>(values.data() + range.begin, range.end - range.begin).allFinite()) return false;
  return true;
}
}  // namespace

double Trainer::run_backward(LossBlock& block) const {
  const auto start = Clock::now();
  if (!reduction_.lazy()) std::fill(block.gradient.begin(), block.gradient.end(), 0.0f);
  block.tape.backward(block.loss);
  return seconds_since(start);
}

namespace {
// Random stream ids beyond the fresh rollouts' 0..batch-1 (evaluation uses ids >= 2^63).
constexpr int kPessimisticHistory = 20;
constexpr uint64_t kPessimisticStream = uint64_t(1) << 62;
constexpr uint64_t kReplayDrawStream = uint64_t(1) << 61;
constexpr uint64_t kReplayAddStream = kReplayDrawStream + 1;
constexpr uint64_t kReplayWalkStreams = kReplayDrawStream + (uint64_t(1) << 32);  // + replayed index
constexpr uint64_t kLocalSearchStreams = uint64_t(1) << 60;                        // + 3 round n + index
constexpr uint64_t kUniformDrawStreams = uint64_t(1) << 59;                        // + uniform object index
constexpr uint64_t kUniformWalkStreams = kUniformDrawStreams + (uint64_t(1) << 32);  // + uniform object index
}  // namespace

SamplingOptions Trainer::sampling_options(int64_t iteration) const {
  const double factor = learning_rate_factor(config_.exploration_schedule, iteration);
  if (factor == 1) return config_.sampling;
  SamplingOptions options = config_.sampling;
  options.epsilon *= factor;
  options.temperature = 1 + (options.temperature - 1) * factor;
  return options;
}

int Trainer::compose_batch() try {
  const uint64_t seed = config_.seed, iteration = uint64_t(iteration_);
  const int n_replay = replay_buffer_.size() == 0
                           ? 0
                           : std::min(config_.batch - 1, int(std::lround(config_.replay_ratio * config_.batch)));
  const double explore_factor = learning_rate_factor(config_.exploration_schedule, iteration_);
  const int n_uniform = std::min(config_.batch - 1 - n_replay,
                                 int(std::lround(config_.uniform_ratio * explore_factor * config_.batch)));
  n_fresh_ = config_.batch - n_replay - n_uniform;
  // Across processes each samples the fresh trajectories of the loss blocks it will build (so the loss
  // finds their forward pass recorded, as in one process), and receives the others'.
  RolloutShare share;
  Communicator& communicator = reduction_.communicator();
  if (communicator.size() > 1) {
    const int composed = n_fresh_ * (config_.local_search.backtrack > 0 ? 2 : 1) + n_uniform + n_replay;
    const int n_blocks = (composed + config_.block_size - 1) / config_.block_size;
    const int rank = communicator.rank(), size = communicator.size();
    share = {&communicator, first_block_of(n_blocks, rank, size), first_block_of(n_blocks, rank + 1, size)};
  }
  sampler_.sample(n_fresh_, seed, iteration, sampling_options(iteration_), batch_, share);
  int reward_calls = n_fresh_;
  if (config_.local_search.backtrack > 0) {
    reward_calls += int(local_search_.run(batch_, config_.local_search, seed, iteration, kLocalSearchStreams, refined_));
    append_batch(batch_, refined_);
  }
  if (n_uniform > 0) {
    const Environment& env = model_.env();
    uniform_objects_.resize(size_t(n_uniform) * env.state_width());
    for (int i = 0; i < n_uniform; ++i) {
      Rng rng = Rng::stream(seed, iteration, kUniformDrawStreams + uint64_t(i));
      draw_uniform_object(env, rng, uniform_objects_.data() + size_t(i) * env.state_width(), uniform_mask_);
    }
    backward_sampler_.sample(uniform_objects_.data(), n_uniform, seed, iteration, kUniformWalkStreams, explored_);
    append_batch(batch_, explored_);
    reward_calls += n_uniform;
  }
  if (config_.replay_ratio > 0) {
    if (n_replay > 0) {  // drawn before this iteration's objects are offered
      Rng draw = Rng::stream(seed, iteration, kReplayDrawStream);
      replay_buffer_.draw(n_replay, draw, replay_objects_);
      backward_sampler_.sample(replay_objects_.data(), n_replay, seed, iteration, kReplayWalkStreams, replayed_);
    }
    Rng add = Rng::stream(seed, iteration, kReplayAddStream);
    replay_buffer_.add_terminals(batch_, 0, batch_.n_trajectories(), add);
    if (n_replay > 0) append_batch(batch_, replayed_);
  }
  return reward_calls;
} catch (const NonFinitePolicy& error) {
  throw TrainingDiverged("training diverged at iteration " + std::to_string(iteration_ + 1) + ": rollout: " + error.what());
}

double Trainer::train_backward_policy() {
  const bool pessimistic = model_.config().backward == BackwardPolicy::Pessimistic;
  const TrajectoryBatch* source = &batch_;
  if (pessimistic) {
    const size_t slot = size_t(iteration_ % kPessimisticHistory);
    if (recent_batches_.size() <= slot) recent_batches_.resize(slot + 1);
    recent_batches_[slot] = batch_;
    Rng rng = Rng::stream(config_.seed, uint64_t(iteration_), kPessimisticStream);
    source = &recent_batches_[rng.uniform_int(uint32_t(recent_batches_.size()))];
  }
  backward_tape_.clear();
  const NodeId logprobs = model_.evaluate_backward(backward_tape_, &backward_gradient_, source->states.data(),
                                                   source->n_rows(), backward_scratch_);
  const NodeId loss =
      backward_negative_log_likelihood(backward_tape_, logprobs, *source, model_.env(), backward_columns_);
  std::fill(backward_gradient_.begin(), backward_gradient_.end(), 0.0f);
  backward_tape_.backward(loss);
  const double value = backward_tape_.scalar(loss);
  if (!std::isfinite(value) ||
      !Eigen::Map<const Eigen::ArrayXf>(backward_gradient_.data(), backward_gradient_.size()).allFinite())
    throw TrainingDiverged("training diverged at iteration " + std::to_string(iteration_ + 1) +
                           ": the P_B likelihood loss or its gradient is not finite");
  backward_adam_.step(model_.backward_store(), backward_gradient_);
  if (!pessimistic) backward_adam_.decay_learning_rates(0.999);
  polyak_update(model_.target_backward_store(), model_.backward_store(), 0.25);
  return value;
}

void Trainer::set_learning_rates() {
  const double factor = learning_rate_factor(config_.schedule, iteration_);
  adam_.mutable_groups()[0].learning_rate = config_.learning_rate * factor;
  adam_.mutable_groups()[1].learning_rate = config_.log_z_learning_rate * factor;
}

// One iteration: sample a batch, build each block's loss and run its backward (in parallel, blocks
// of trajectories), reduce the blocks' gradients in block order, check them, take one Adam step.
IterationResult Trainer::step() {
  IterationResult result;
  set_learning_rates();
  reduction_.begin_iteration();
  auto start = Clock::now();
  BatchCounts counts{};
  reduction_.guard([&] {  // 1. the batch: fresh rollouts of P_F, refined, uniform and replayed ones
    result.reward_calls = compose_batch();
    counts = count_batch(batch_, model_.env().exit_action());
    result.times.rollout = seconds_since(start);
    if (model_.has_backward_network()) result.backward_loss = train_backward_policy();
  });
  if (dqn_) return soft_dqn_step(counts, result);

  // 2. Each block builds its loss and runs backward at once while its tape is hot in cache, unless
  // the objective needs a batch-wide total first (two phases, see core/training/objective.hpp).
  start = Clock::now();
  const int batch_size = reduction_.failed() ? 0 : batch_.n_trajectories();
  reduction_.assign_blocks((batch_size + config_.block_size - 1) / config_.block_size);
  const int first_block = reduction_.first_block();
  const bool two_phase = blocks_[0]->objective->needs_batch_total();
  const ForwardRecord<float>* record = config_.recompute_logprobs ? nullptr : &sampler_.forward_record();
  reduction_.guard([&] {
    parallel_for(reduction_.end_block() - first_block, [&](int64_t i) {
      LossBlock& block = *blocks_[first_block + i];
      const auto block_start = Clock::now();
      const int first = int(first_block + i) * config_.block_size;
      block.loss = block.objective->build(block.tape, &block.gradient, model_,
                                          {batch_, counts, first, std::min(config_.block_size, batch_size - first), record});
      block.forward_seconds = seconds_since(block_start);
      if (!two_phase) block.backward_seconds = run_backward(block);
    });
  });
  if (two_phase) {
    const double total = reduction_.batch_total(blocks_);
    reduction_.guard([&] {
      parallel_for(reduction_.end_block() - first_block, [&](int64_t i) {
        LossBlock& block = *blocks_[first_block + i];
        block.loss = block.objective->finish(block.tape, total, counts);
        block.backward_seconds = run_backward(block);
      });
    });
  }
  // 3. One gradient: every block's, in block order, into block 0's buffer; then the checks.
  const double loss = reduction_.reduce(blocks_);
  FlatVector<float>& gradient = blocks_[0]->gradient;
  check_finite(loss, gradient);
  record_loss_times(seconds_since(start), result);

  start = Clock::now();  // 4. Adam
  optimizer_step(gradient);
  ++iteration_;
  result.times.optimizer = seconds_since(start);
  result.loss = loss;
  result.trajectories = counts.trajectories;
  result.transitions = counts.transitions;
  result.rows = batch_.n_rows();
  result.reused_rows = record ? record->n_recorded_rows() : 0;
  return result;
}

IterationResult Trainer::soft_dqn_step(const BatchCounts& counts, IterationResult result) {
  const auto start = Clock::now();
  result.loss = dqn_->step(batch_, iteration_, adam_, blocks_[0]->gradient);
  ++iteration_;
  result.times.backward = seconds_since(start);
  result.trajectories = counts.trajectories;
  result.transitions = counts.transitions;
  result.rows = batch_.n_rows();
  return result;
}

void Trainer::check_finite(double loss, FlatVector<float>& gradient) const {
  if (!std::isfinite(loss))
    throw TrainingDiverged("training diverged at iteration " + std::to_string(iteration_ + 1) + ": the " +
                           config_.objective.loss + " loss is " + std::to_string(loss));
  if (all_finite(gradient, reduction_.support())) return;
  std::string parameter = "?";
  for (int id = 0; id < model_.store().size() && parameter == "?"; ++id)
    if (!model_.store().gradient(gradient, id).allFinite()) parameter = model_.store().entry(id).name;
  throw TrainingDiverged("training diverged at iteration " + std::to_string(iteration_ + 1) + ": the gradient of " +
                         parameter + " is not finite");
}

// The loss region's wall time but the exchanges, split between forward and backward in proportion to
// this process's thread time.
void Trainer::record_loss_times(double loss_region_seconds, IterationResult& result) const {
  double forward_seconds = 0, backward_seconds = 0;
  for (int b = reduction_.first_block(); b < reduction_.end_block(); ++b) {
    forward_seconds += blocks_[b]->forward_seconds;
    backward_seconds += blocks_[b]->backward_seconds;
  }
  const double loss_region = loss_region_seconds - reduction_.exchange_seconds();
  result.times.loss_forward = loss_region * forward_seconds / std::max(forward_seconds + backward_seconds, 1e-30);
  result.times.backward = loss_region - result.times.loss_forward;
  result.times.exchange = reduction_.exchange_seconds();
}

void Trainer::optimizer_step(FlatVector<float>& gradient) {
  if (config_.max_gradient_norm > 0) clip_gradient_norm(gradient, config_.max_gradient_norm, reduction_.support());
  if (!reduction_.lazy()) return adam_.step(model_.store(), gradient);
  adam_.step(model_.store(), gradient, reduction_.support());
  reduction_.clear_gradients(blocks_);  // back to zero for the next iteration
}

}  // namespace gfn

namespace gfn {

namespace {

void save_adam(Checkpoint& checkpoint, const std::string& prefix, const Adam<float>& adam) {
  std::vector<double> learning_rates;
  for (const AdamGroup& group : adam.groups()) learning_rates.push_back(group.learning_rate);
  checkpoint.floats[prefix + "first_moment"] = adam.first_moment();
  checkpoint.floats[prefix + "second_moment"] = adam.second_moment();
  checkpoint.integers[prefix + "steps"] = {adam.steps()};
  checkpoint.doubles[prefix + "learning_rates"] = learning_rates;
}

void restore_values(FlatVector<float>& target, const FlatVector<float>& source, const std::string& what) {
  if (source.size() != target.size()) throw std::runtime_error("checkpoint " + what + " do not match the configuration");
  target = source;
}

void restore_adam(const Checkpoint& checkpoint, const std::string& prefix, Adam<float>& adam) {
  restore_values(adam.first_moment(), checkpoint.float_array(prefix + "first_moment"), "optimiser moments");
  restore_values(adam.second_moment(), checkpoint.float_array(prefix + "second_moment"), "optimiser moments");
  const auto& steps = checkpoint.integer_array(prefix + "steps");
  const std::vector<double>& learning_rates = checkpoint.double_array(prefix + "learning_rates");
  if (steps.size() != 1 || learning_rates.size() != adam.groups().size())
    throw std::runtime_error("checkpoint optimiser state does not match the configuration");
  adam.set_steps(steps[0]);
  for (size_t g = 0; g < learning_rates.size(); ++g) adam.mutable_groups()[g].learning_rate = learning_rates[g];
}

}  // namespace

void Trainer::save(Checkpoint& checkpoint) const {
  checkpoint.iteration = iteration_;
  checkpoint.floats["parameters"] = model_.store().values();
  save_adam(checkpoint, "adam.", adam_);
  if (dqn_) dqn_->save(checkpoint);
  if (config_.replay_ratio > 0) replay_buffer_.save(checkpoint, "replay.");
  if (!model_.has_backward_network()) return;
  checkpoint.floats["backward.parameters"] = model_.backward_store().values();
  checkpoint.floats["backward.target"] = model_.target_backward_store().values();
  save_adam(checkpoint, "backward.adam.", backward_adam_);
  for (size_t i = 0; i < recent_batches_.size(); ++i) {
    const TrajectoryBatch& batch = recent_batches_[i];
    const std::string prefix = "recent." + std::to_string(i) + ".";
    checkpoint.integers[prefix + "states"].assign(batch.states.begin(), batch.states.end());
    checkpoint.integers[prefix + "actions"].assign(batch.actions.begin(), batch.actions.end());
    checkpoint.integers[prefix + "offsets"].assign(batch.offsets.begin(), batch.offsets.end());
    checkpoint.doubles[prefix + "log_rewards"] = batch.log_rewards;
  }
}

void Trainer::restore(const Checkpoint& checkpoint) {
  restore_values(model_.store().values(), checkpoint.float_array("parameters"), "parameters");
  restore_adam(checkpoint, "adam.", adam_);
  iteration_ = checkpoint.iteration;
  if (dqn_) dqn_->restore(checkpoint);
  if (config_.replay_ratio > 0) replay_buffer_.restore(checkpoint, "replay.");
  if (!model_.has_backward_network()) return;
  restore_values(model_.backward_store().values(), checkpoint.float_array("backward.parameters"), "P_B parameters");
  restore_values(model_.target_backward_store().values(), checkpoint.float_array("backward.target"),
                 "P_B parameters");
  restore_adam(checkpoint, "backward.adam.", backward_adam_);
  recent_batches_.clear();
  for (int i = 0; checkpoint.integers.count("recent." + std::to_string(i) + ".states"); ++i) {
    const std::string prefix = "recent." + std::to_string(i) + ".";
    TrajectoryBatch batch;
    batch.state_width = model_.env().state_width();
    const auto& states = checkpoint.integer_array(prefix + "states");
    batch.states.assign(states.begin(), states.end());
    const auto& actions = checkpoint.integer_array(prefix + "actions");
    batch.actions.assign(actions.begin(), actions.end());
    const auto& offsets = checkpoint.integer_array(prefix + "offsets");
    batch.offsets.assign(offsets.begin(), offsets.end());
    batch.log_rewards = checkpoint.double_array(prefix + "log_rewards");
    if (batch.offsets.empty() || batch.states.size() != size_t(batch.n_rows()) * batch.state_width ||
        batch.actions.size() != size_t(batch.n_rows()) || batch.log_rewards.size() + 1 != batch.offsets.size())
      throw std::runtime_error("checkpoint batch history is corrupted");
    recent_batches_.push_back(std::move(batch));
  }
}

}  // namespace gfn
