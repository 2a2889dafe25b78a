// Trainer implementation: sample, per-block loss and backward in parallel, ordered reduction, Adam.
#include "core/trainer.hpp"

#include <algorithm>
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
      sampler_(model_, config.block_size),
      gradient_(model_.store().make_gradient()) {
  if (config.batch < 1) throw std::invalid_argument("--batch must be at least 1");
  if (config.objective.kind == LossKind::ModifiedDetailedBalance && env.exit_action() < 0)
    throw std::invalid_argument("--loss modified-db needs an environment where every state can exit");
  const int n_blocks = (config.batch + config.block_size - 1) / config.block_size;
  for (int b = 0; b < n_blocks; ++b) {
    blocks_.push_back(std::make_unique<Block>());
    blocks_.back()->gradient = model_.store().make_gradient();
  }
}

IterationResult Trainer::step() {
  const int batch_size = config_.batch;
  sampler_.sample(batch_size, config_.seed, uint64_t(iteration_), config_.sampling, batch_);
  const BatchCounts counts = count_batch(batch_, model_.env().exit_action());
  const int n_blocks = int(blocks_.size());
  const bool needs_mean_zeta = config_.objective.kind == LossKind::LogPartitionVariance;

#pragma omp parallel for schedule(dynamic, 1)
  for (int b = 0; b < n_blocks; ++b) {
    Block& block = *blocks_[b];
    const int first = b * config_.block_size;
    std::fill(block.gradient.begin(), block.gradient.end(), 0.0f);
    block.loss = block.objective.build(block.tape, &block.gradient, model_, config_.objective, batch_, counts, first,
                                       std::min(config_.block_size, batch_size - first));
    if (!needs_mean_zeta) block.tape.backward(block.loss);
  }
  if (needs_mean_zeta) {
    double total = 0;
    for (const auto& block : blocks_) total += double(block->tape.value(block->objective.zeta()).sum());
    const float mean_zeta = float(total / batch_size);
#pragma omp parallel for schedule(dynamic, 1)
    for (int b = 0; b < n_blocks; ++b) {
      Block& block = *blocks_[b];
      block.loss = block.objective.finish_log_partition_variance(block.tape, mean_zeta, counts);
      block.tape.backward(block.loss);
    }
  }

  // Ordered reduction: block 0 + block 1 + ... for every entry, whatever the thread count.
  double loss = 0;
  for (const auto& block : blocks_) loss += double(block->tape.scalar(block->loss));
  const int64_t size = int64_t(gradient_.size());
  bool finite = true;
#pragma omp parallel for schedule(static) reduction(&& : finite)
  for (int64_t i = 0; i < size; ++i) {
    float total = blocks_[0]->gradient[i];
    for (int b = 1; b < n_blocks; ++b) total += blocks_[b]->gradient[i];
    gradient_[i] = total;
    finite = finite && std::isfinite(total);
  }
  if (!std::isfinite(loss))
    throw TrainingDiverged("training diverged at iteration " + std::to_string(iteration_ + 1) + ": the " +
                           loss_name(config_.objective.kind) + " loss is " + std::to_string(loss));
  if (!finite) {
    std::string parameter = "?";
    for (int id = 0; id < model_.store().size() && parameter == "?"; ++id) {
      const auto& entry = model_.store().entry(id);
      for (int64_t i = entry.offset; i < entry.offset + int64_t(entry.rows) * entry.cols; ++i)
        if (!std::isfinite(gradient_[i])) {
          parameter = entry.name;
          break;
        }
    }
    throw TrainingDiverged("training diverged at iteration " + std::to_string(iteration_ + 1) +
                           ": the gradient of " + parameter + " is not finite");
  }
  if (config_.max_gradient_norm > 0) clip_gradient_norm(gradient_, config_.max_gradient_norm);
  adam_.step(model_.store(), gradient_);
  ++iteration_;
  return IterationResult{loss, counts.trajectories, counts.transitions};
}

}  // namespace gfn
