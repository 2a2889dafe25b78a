// Trainer implementation: sample, per-block loss and backward in parallel, ordered reduction, Adam.
#include "core/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "core/parallel.hpp"

namespace gfn {

namespace {

ModelConfig with_estimators(ModelConfig config, LossKind kind) {
  require_estimators(kind, config);
  return config;
}

}  // namespace

Trainer::Trainer(const Environment& env, const ModelConfig& model_config, const TrainConfig& config)
    : config_(config),
      model_(env, with_estimators(model_config, config.objective.kind), config.seed),
      adam_(model_.store(), {AdamGroup{config.learning_rate, config.weight_decay}, AdamGroup{config.log_z_learning_rate, 0}}),
      sampler_(model_, config.block_size) {
  if (config.batch < 1) throw std::invalid_argument("--batch must be at least 1");
  if (config.objective.kind == LossKind::ModifiedDetailedBalance && env.exit_action() < 0)
    throw std::invalid_argument("--loss modified-db needs an environment where every state can exit");
  const int n_blocks = (config.batch + config.block_size - 1) / config.block_size;
  for (int b = 0; b < n_blocks; ++b) {
    blocks_.push_back(std::make_unique<Block>());
    blocks_.back()->gradient = model_.store().make_gradient();
  }
}

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }
}  // namespace

double Trainer::run_backward(Block& block) {
  const auto start = Clock::now();
  std::fill(block.gradient.begin(), block.gradient.end(), 0.0f);
  block.tape.backward(block.loss);
  return seconds_since(start);
}

IterationResult Trainer::step() {
  IterationResult result;
  auto start = Clock::now();
  const int batch_size = config_.batch;
  sampler_.sample(batch_size, config_.seed, uint64_t(iteration_), config_.sampling, batch_);
  const BatchCounts counts = count_batch(batch_, model_.env().exit_action());
  const int n_blocks = int(blocks_.size());
  result.times.rollout = seconds_since(start);

  // Each block builds its loss and, unless ZVar still needs the batch mean, runs backward at once
  // while its tape is hot in cache.
  start = Clock::now();
  const bool two_phase = config_.objective.kind == LossKind::LogPartitionVariance;
#pragma omp parallel for schedule(dynamic, 1) if (n_blocks > 1)
  for (int b = 0; b < n_blocks; ++b) {
    Block& block = *blocks_[b];
    const auto block_start = Clock::now();
    const int first = b * config_.block_size;
    block.loss = block.objective.build(block.tape, &block.gradient, model_, config_.objective, batch_, counts, first,
                                       std::min(config_.block_size, batch_size - first));
    block.forward_seconds = seconds_since(block_start);
    if (!two_phase) block.backward_seconds = run_backward(block);
  }
  if (two_phase) {
    double total = 0;
    for (const auto& block : blocks_) total += double(block->tape.value(block->objective.zeta()).sum());
    const float mean_zeta = float(total / batch_size);
#pragma omp parallel for schedule(dynamic, 1) if (n_blocks > 1)
    for (int b = 0; b < n_blocks; ++b) {
      Block& block = *blocks_[b];
      block.loss = block.objective.finish_log_partition_variance(block.tape, mean_zeta, counts);
      block.backward_seconds = run_backward(block);
    }
  }
  // Ordered reduction into block 0: block 0 + block 1 + ... for every entry, whatever the thread count.
  double loss = 0;
  for (const auto& block : blocks_) loss += double(block->tape.scalar(block->loss));
  FlatVector<float>& gradient = blocks_[0]->gradient;
  const int64_t size = int64_t(gradient.size());
  constexpr int64_t chunk = 1 << 14;
#pragma omp parallel for schedule(static) if (n_blocks > 1)
  for (int64_t first = 0; first < size; first += chunk) {
    const int64_t length = std::min(chunk, size - first);
    Eigen::Map<Eigen::ArrayXf> total(gradient.data() + first, length);
    for (int b = 1; b < n_blocks; ++b) total += Eigen::Map<const Eigen::ArrayXf>(blocks_[b]->gradient.data() + first, length);
  }
  if (!std::isfinite(loss))
    throw TrainingDiverged("training diverged at iteration " + std::to_string(iteration_ + 1) + ": the " +
                           loss_name(config_.objective.kind) + " loss is " + std::to_string(loss));
  if (!Eigen::Map<const Eigen::ArrayXf>(gradient.data(), size).allFinite()) {
    std::string parameter = "?";
    for (int id = 0; id < model_.store().size() && parameter == "?"; ++id) {
      const auto& entry = model_.store().entry(id);
      if (!model_.store().gradient(gradient, id).allFinite()) parameter = entry.name;
    }
    throw TrainingDiverged("training diverged at iteration " + std::to_string(iteration_ + 1) +
                           ": the gradient of " + parameter + " is not finite");
  }
  // The loss region's wall time, split between forward and backward in proportion to thread time.
  double forward_seconds = 0, backward_seconds = 0;
  for (const auto& block : blocks_) {
    forward_seconds += block->forward_seconds;
    backward_seconds += block->backward_seconds;
  }
  const double loss_region = seconds_since(start);
  result.times.loss_forward = loss_region * forward_seconds / std::max(forward_seconds + backward_seconds, 1e-30);
  result.times.backward = loss_region - result.times.loss_forward;

  start = Clock::now();
  if (config_.max_gradient_norm > 0) clip_gradient_norm(gradient, config_.max_gradient_norm);
  adam_.step(model_.store(), gradient);
  ++iteration_;
  result.times.optimizer = seconds_since(start);
  result.loss = loss;
  result.trajectories = counts.trajectories;
  result.transitions = counts.transitions;
  result.rows = batch_.n_rows();
  return result;
}

}  // namespace gfn
