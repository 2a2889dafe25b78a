// The shortest complete use of the library: train a GFlowNet on an 8 x 8 HyperGrid with trajectory
// balance, then measure how far its sampling distribution is from R/Z, exactly, by enumerating the grid.
#include <cstdio>

#include "core/evaluation/evaluation.hpp"
#include "core/training/trainer.hpp"
#include "envs/hypergrid.hpp"

int main() {
  const gfn::HyperGrid env(2, 8, "medium");  // D = 2 dimensions, H = 8 cells per side, a reward preset
  gfn::ModelConfig model;                    // an MLP with two hidden layers of 256, uniform P_B
  gfn::TrainConfig config;                   // trajectory balance, batch 16, Adam
  gfn::Trainer trainer(env, model, config);
  for (int iteration = 0; iteration < 1000; ++iteration) trainer.step();

  // P_T, the distribution of the states where sampled trajectories end, by dynamic programming over
  // every state, against the target R(x)/Z.
  const gfn::Enumeration all(env);
  const std::vector<double> sampled = gfn::terminating_distribution(trainer.model(), all);
  const gfn::ExactMetrics metrics = gfn::compare_distributions(sampled, all.true_distribution());
  std::printf("%s: exact L1 %.4f, log Z %.4f (true %.4f)\n", env.name().c_str(), metrics.l1,
              double(trainer.model().log_z_value()), all.log_z());
  return metrics.l1 < 0.05 ? 0 : 1;  // measured: 0.0007 at seed 0
}
