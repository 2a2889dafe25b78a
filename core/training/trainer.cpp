// Trainer implementation: sample, per-block loss and backward in parallel (this process's blocks),
// exchange with the other processes, ordered reduction, Adam.
#include "core/training/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
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
      local_search_(model_, config_.block_size) {
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
  const bool dqn = objective.learner != Learner::Blocks;
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
  lazy_ = config.lazy_table_updates && model_config.tabular && !dqn;
  if (!lazy_) support_.push_back({0, model_.store().flat_size()});
  for (int b = 0; b < n_blocks; ++b) {
    blocks_.push_back(std::make_unique<Block>());
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

double Trainer::run_backward(Block& block) const {
  const auto start = Clock::now();
  if (!lazy_) std::fill(block.gradient.begin(), block.gradient.end(), 0.0f);
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

namespace {
// The blocks [first, end) of n_blocks that process `rank` of `size` builds: contiguous, in rank order.
int first_block_of(int n_blocks, int rank, int size) { return int(int64_t(n_blocks) * rank / size); }
}  // namespace

SamplingOptions Trainer::sampling_options(int64_t iteration) const {
  const double factor = learning_rate_factor(config_.exploration_schedule, iteration);
  if (factor == 1) return config_.sampling;
  SamplingOptions options = config_.sampling;
  options.epsilon *= factor;
  options.temperature = 1 + (options.temperature - 1) * factor;
  return options;
}

int Trainer::compose_batch() {
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
  if (communicator_->size() > 1) {
    const int composed = n_fresh_ * (config_.local_search.backtrack > 0 ? 2 : 1) + n_uniform + n_replay;
    const int n_blocks = (composed + config_.block_size - 1) / config_.block_size;
    const int rank = communicator_->rank(), size = communicator_->size();
    share = {communicator_, first_block_of(n_blocks, rank, size), first_block_of(n_blocks, rank + 1, size)};
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

void Trainer::exchange_blocks(int n_blocks, std::exception_ptr failure) {
  block_losses_.assign(size_t(n_blocks), 0.0f);
  block_gradients_.assign(size_t(n_blocks), nullptr);
  for (int b = 0; b < n_blocks; ++b) block_gradients_[size_t(b)] = blocks_[b]->gradient.data();
  if (!failure)
    for (int b = first_block_; b < end_block_; ++b) block_losses_[size_t(b)] = blocks_[b]->tape.scalar(blocks_[b]->loss);
  const int rank = communicator_->rank(), size = communicator_->size();
  if (size == 1) return;
  // This process's part: per block, its loss, then its gradient: whole, or (lazy updates) the ranges
  // its backward wrote and their values, the rest of the block's gradient being zero.
  const int64_t flat_size = model_.store().flat_size();
  packet_.clear();
  if (!failure)
    for (int b = first_block_; b < end_block_; ++b) {
      packet_.put(block_losses_[size_t(b)]);
      const float* values = blocks_[b]->gradient.data();
      if (!lazy_) {
        packet_.put(values, size_t(flat_size));
        continue;
      }
      const std::vector<FlatRange>& ranges = block_support_[size_t(b - first_block_)];
      packet_.put(int64_t(ranges.size()));
      packet_.put(ranges.data(), ranges.size());
      for (const FlatRange& range : ranges) packet_.put(values + range.begin, size_t(range.end - range.begin));
    }
  std::vector<Packet::Reader> parts = exchange(*communicator_, packet_, failure);
  for (int r = 0; r < size; ++r) {
    if (r == rank) continue;
    Packet::Reader& part = parts[size_t(r)];
    for (int b = first_block_of(n_blocks, r, size); b < first_block_of(n_blocks, r + 1, size); ++b) {
      block_losses_[size_t(b)] = part.take<float>();
      if (!lazy_) {
        block_gradients_[size_t(b)] = part.take<float>(size_t(flat_size));
        continue;
      }
      const size_t n_ranges = size_t(part.take<int64_t>());
      const FlatRange* ranges = part.take<FlatRange>(n_ranges);
      for (size_t i = 0; i < n_ranges; ++i) {
        const int64_t length = ranges[i].end - ranges[i].begin;
        std::memcpy(blocks_[b]->gradient.data() + ranges[i].begin, part.take<float>(size_t(length)), sizeof(float) * size_t(length));
        support_.push_back(ranges[i]);
      }
    }
  }
}

IterationResult Trainer::step() {
  IterationResult result;
  const double rate_factor = learning_rate_factor(config_.schedule, iteration_);
  adam_.mutable_groups()[0].learning_rate = config_.learning_rate * rate_factor;
  adam_.mutable_groups()[1].learning_rate = config_.log_z_learning_rate * rate_factor;
  // Across processes, a failure before the last exchange (on one process alone: memory, a bug) is
  // kept and sent with the exchange, so that every process stops at the same point; in one process,
  // and for the replicated soft-DQN learners, it is thrown at once.
  const bool distributed = communicator_->size() > 1;
  std::exception_ptr failure;
  auto guarded = [&](auto&& work) {
    if (failure) return;
    try {
      work();
    } catch (...) {
      if (!distributed || dqn_) throw;
      failure = std::current_exception();
    }
  };
  auto start = Clock::now();
  BatchCounts counts{};
  guarded([&] {
    try {
      result.reward_calls = compose_batch();
    } catch (const NonFinitePolicy& error) {
      throw TrainingDiverged("training diverged at iteration " + std::to_string(iteration_ + 1) + ": rollout: " +
                             error.what());
    }
    counts = count_batch(batch_, model_.env().exit_action());
    result.times.rollout = seconds_since(start);
    if (model_.has_backward_network()) result.backward_loss = train_backward_policy();
  });
  if (dqn_) {
    start = Clock::now();
    result.loss = dqn_->step(batch_, iteration_, adam_, blocks_[0]->gradient);
    ++iteration_;
    result.times.backward = seconds_since(start);
    result.trajectories = counts.trajectories;
    result.transitions = counts.transitions;
    result.rows = batch_.n_rows();
    return result;
  }

  // Each block builds its loss and runs backward at once while its tape is hot in cache, unless the
  // objective needs a batch-wide total first (two phases, see core/training/objective.hpp). This process
  // builds blocks [first_block_, end_block_): all of them when it is alone.
  start = Clock::now();
  double exchange_seconds = 0;
  const int batch_size = failure ? 0 : batch_.n_trajectories();
  const int n_blocks = (batch_size + config_.block_size - 1) / config_.block_size;
  first_block_ = first_block_of(n_blocks, communicator_->rank(), communicator_->size());
  end_block_ = first_block_of(n_blocks, communicator_->rank() + 1, communicator_->size());
  const bool two_phase = blocks_[0]->objective->needs_batch_total();
  const ForwardRecord<float>* record = config_.recompute_logprobs ? nullptr : &sampler_.forward_record();
  guarded([&] {
    parallel_for(end_block_ - first_block_, [&](int64_t i) {
      Block& block = *blocks_[first_block_ + i];
      const auto block_start = Clock::now();
      const int first = int(first_block_ + i) * config_.block_size;
      block.loss = block.objective->build(block.tape, &block.gradient, model_, batch_, counts, first,
                                          std::min(config_.block_size, batch_size - first), record);
      block.forward_seconds = seconds_since(block_start);
      if (!two_phase) block.backward_seconds = run_backward(block);
    });
  });
  if (two_phase) {
    double total = 0;  // in block order, whatever the thread count and the number of processes
    if (distributed) {
      const auto exchange_start = Clock::now();
      packet_.clear();
      if (!failure)
        for (int b = first_block_; b < end_block_; ++b) packet_.put(blocks_[b]->objective->block_total(blocks_[b]->tape));
      std::vector<Packet::Reader> parts = exchange(*communicator_, packet_, failure);
      const int size = communicator_->size();
      for (int r = 0; r < size; ++r)
        for (int b = first_block_of(n_blocks, r, size); b < first_block_of(n_blocks, r + 1, size); ++b)
          total += parts[size_t(r)].take<double>();
      exchange_seconds += seconds_since(exchange_start);
    } else {
      for (int b = 0; b < n_blocks; ++b) total += blocks_[b]->objective->block_total(blocks_[b]->tape);
    }
    guarded([&] {
      parallel_for(end_block_ - first_block_, [&](int64_t i) {
        Block& block = *blocks_[first_block_ + i];
        block.loss = block.objective->finish(block.tape, total, counts);
        block.backward_seconds = run_backward(block);
      });
    });
  }
  if (lazy_) {  // where the blocks' backward wrote: the rows of the tables they read, the rest whole
    support_.clear();
    block_support_.resize(size_t(std::max(end_block_ - first_block_, 0)));
    for (int b = first_block_; b < end_block_ && !failure; ++b) {
      std::vector<FlatRange>& ranges = block_support_[size_t(b - first_block_)];
      ranges.clear();
      blocks_[b]->tape.gradient_support(blocks_[b]->gradient, ranges);
      support_.insert(support_.end(), ranges.begin(), ranges.end());
    }
  }
  const auto exchange_start = Clock::now();
  exchange_blocks(n_blocks, failure);  // other processes' blocks; their support too
  if (distributed) exchange_seconds += seconds_since(exchange_start);
  if (lazy_) merge_ranges(support_);
  // Ordered reduction into block 0: block 0 + block 1 + ... for every entry, whatever the thread count.
  double loss = 0;
  for (int b = 0; b < n_blocks; ++b) loss += double(block_losses_[size_t(b)]);
  FlatVector<float>& gradient = blocks_[0]->gradient;
  constexpr int64_t chunk = 1 << 14;
  for (const FlatRange& range : support_) {
#pragma omp parallel for schedule(static) if (n_blocks > 1 && range.end - range.begin > chunk)
    for (int64_t first = range.begin; first < range.end; first += chunk) {
      const int64_t length = std::min(chunk, range.end - first);
      Eigen::Map<Eigen::ArrayXf> total(gradient.data() + first, length);
      if (block_gradients_[0] != gradient.data()) total = Eigen::Map<const Eigen::ArrayXf>(block_gradients_[0] + first, length);
      for (int b = 1; b < n_blocks; ++b) total += Eigen::Map<const Eigen::ArrayXf>(block_gradients_[size_t(b)] + first, length);
    }
  }
  if (!std::isfinite(loss))
    throw TrainingDiverged("training diverged at iteration " + std::to_string(iteration_ + 1) + ": the " +
                           config_.objective.loss + " loss is " + std::to_string(loss));
  if (!all_finite(gradient, support_)) {
    std::string parameter = "?";
    for (int id = 0; id < model_.store().size() && parameter == "?"; ++id) {
      const auto& entry = model_.store().entry(id);
      if (!model_.store().gradient(gradient, id).allFinite()) parameter = entry.name;
    }
    throw TrainingDiverged("training diverged at iteration " + std::to_string(iteration_ + 1) +
                           ": the gradient of " + parameter + " is not finite");
  }
  // The loss region's wall time but the exchanges, split between forward and backward in proportion
  // to this process's thread time.
  double forward_seconds = 0, backward_seconds = 0;
  for (int b = first_block_; b < end_block_; ++b) {
    forward_seconds += blocks_[b]->forward_seconds;
    backward_seconds += blocks_[b]->backward_seconds;
  }
  const double loss_region = seconds_since(start) - exchange_seconds;
  result.times.loss_forward = loss_region * forward_seconds / std::max(forward_seconds + backward_seconds, 1e-30);
  result.times.backward = loss_region - result.times.loss_forward;
  result.times.exchange = exchange_seconds;

  start = Clock::now();
  if (config_.max_gradient_norm > 0) clip_gradient_norm(gradient, config_.max_gradient_norm, support_);
  if (lazy_) {
    adam_.step(model_.store(), gradient, support_);
    for (int b = 0; b < n_blocks; ++b)  // back to zero for the next iteration
      for (const FlatRange& range : support_)
        std::fill(blocks_[b]->gradient.begin() + range.begin, blocks_[b]->gradient.begin() + range.end, 0.0f);
  } else {
    adam_.step(model_.store(), gradient);
  }
  ++iteration_;
  result.times.optimizer = seconds_since(start);
  result.loss = loss;
  result.trajectories = counts.trajectories;
  result.transitions = counts.transitions;
  result.rows = batch_.n_rows();
  result.reused_rows = record ? record->n_recorded_rows() : 0;
  return result;
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
