// RunOptions: every setting of a training run, as the `gfn train` flags set them. They convert to
// the library's EnvConfig / ModelConfig / TrainConfig, to key=value text (stored in checkpoints, read
// back on --resume) and to JSON (config.json). validate() rejects bad values with one line naming
// the flag.
#pragma once

#include <CLI/CLI.hpp>
#include <limits>
#include <map>
#include <string>

#include "core/trainer.hpp"
#include "envs/factory.hpp"

namespace gfn::cli {

struct RunOptions {
  EnvConfig env;
  std::string loss = "tb";
  double subtb_lambda = 0.9;
  // log R is clipped below at this; NaN (unset) means -12 for TB and SubTB on HyperGrid and no floor
  // otherwise (on BitSeq log R = -2 d would be flattened beyond distance 6).
  double log_reward_floor = std::numeric_limits<double>::quiet_NaN();
  // soft-dqn / munchausen-dqn; lambda NaN (unset) means 1 for soft DQN and 1/(1 - alpha) for Munchausen.
  double lambda = std::numeric_limits<double>::quiet_NaN();
  double munchausen_alpha = 0.15;
  double target_tau = 0.25;
  int replay_capacity = 100000;
  int replay_batch = 256;
  std::string policy = "mlp";     // mlp | tabular
  int hidden = 256;
  int layers = 2;
  bool tied = false;
  std::string pb = "uniform";     // uniform | maxent | learned
  int batch = 16;
  int64_t iterations = 1000;
  double lr = 1e-3;
  double lr_log_z = 0.1;
  double weight_decay = 0;
  double temperature = 1;
  double epsilon = std::numeric_limits<double>::quiet_NaN();  // NaN (unset): 0.001 on BitSeq, else 0
  double sf_bias = 0;
  uint64_t seed = 0;
  int eval_every = 100;
  int exact_every = 0;            // iterations between exact (DP) evaluations; 0: at every evaluation
  int corr_every = 2000;          // BitSeq: iterations between rank correlations on the test set
  int64_t window = 200000;        // visited terminal states kept for the empirical L1
  // Not part of the run's identity (not stored): how and where to run it.
  int threads = 0;                // 0: all cores
  std::string out;
  std::string resume;
  bool json = false;
  bool quiet = false;

  ModelConfig model_config() const;
  TrainConfig train_config() const;
  void validate() const;           // throws std::invalid_argument naming the flag
  std::string to_text() const;     // key=value lines
  static RunOptions from_text(const std::string& text);
  // The key=value lines of to_text() as a map; throws std::runtime_error on a line without '='.
  static std::map<std::string, std::string> settings(const std::string& text);
  std::string to_json() const;
};

// Registers the flags of a training run on `command`; the env flags are also used by `gfn info`.
void add_run_flags(CLI::App* command, RunOptions& options);

}  // namespace gfn::cli
