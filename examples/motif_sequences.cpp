// Train a GFlowNet on your own environment (motif_sequences.hpp): check the implementation with
// check_environment(), train with trajectory balance, then compare the sampler with R/Z exactly.
#include <cstdio>

#include "core/evaluation/evaluation.hpp"
#include "core/training/trainer.hpp"
#include "envs/check_environment.hpp"
#include "motif_sequences.hpp"

int main() {
  const MotifSequences env;
  const gfn::EnvironmentCheck check = gfn::check_environment(env);
  std::printf("%s", check.report().c_str());
  if (!check.passed()) return 1;

  gfn::ModelConfig model;
  model.hidden = {64, 64};
  gfn::TrainConfig config;  // trajectory balance
  gfn::Trainer trainer(env, model, config);
  for (int iteration = 0; iteration < 3000; ++iteration) trainer.step();

  const gfn::Enumeration all(env);
  const gfn::ExactMetrics metrics =
      gfn::compare_distributions(gfn::terminating_distribution(trainer.model(), all), all.true_distribution());
  std::printf("exact L1 %.4f after 3000 iterations, log Z %.4f (true %.4f)\n", metrics.l1,
              double(trainer.model().log_z_value()), all.log_z());
  return metrics.l1 < 0.1 ? 0 : 1;  // measured: 0.043 at seed 0
}
