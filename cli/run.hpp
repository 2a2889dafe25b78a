// Run: one training run of the command line: environment, trainer, evaluation history, and what
// `gfn train` writes (config.json, metrics.csv, checkpoint.bin, curve.svg, heatmap.svg).
//
// Evaluation never draws from the training random streams, so a run resumed from a checkpoint is
// bit-identical to an uninterrupted one. Exact metrics need an enumerable environment.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/output.hpp"
#include "cli/run_options.hpp"
#include "core/checkpoint.hpp"
#include "core/evaluation.hpp"
#include "envs/bitseq.hpp"

namespace gfn::cli {

struct EvaluationRow {
  int64_t iteration = 0, trajectories = 0, transitions = 0;
  double wall_s = 0, loss = 0, log_z = NAN;
  double l1_exact = NAN, jsd_exact = NAN, kl_exact = NAN;
  double l1_empirical = NAN, l1_empirical_mean = NAN;  // sum over states, and that sum / n_states
  int64_t modes_found = 0;
  double spearman = NAN;      // BitSeq: rank correlation of log P_T and log R on the test set (uniform fill orders)
  double spearman_pb = NAN;   // BitSeq with a learned P_B: the same with fill orders sampled from that P_B
  double pb_deviation = NAN;  // learned P_B: mean |log P_B - log uniform| over the last batch
};

class Run {
 public:
  explicit Run(const RunOptions& options);
  // Restores parameters, optimiser, iteration and evaluation state from a checkpoint of this run's
  // configuration.
  void restore(const Checkpoint& checkpoint);
  Checkpoint checkpoint() const;

  // Trains up to options().iterations, evaluating every eval_every iterations and at the end.
  void train();
  EvaluationRow evaluate();

  // Writes config.json, metrics.csv, checkpoint.bin, curve.svg and (2-D grids) heatmap.svg into dir.
  void write_outputs(const std::string& dir) const;
  std::string summary_json() const;

  const RunOptions& options() const { return options_; }
  const Environment& env() const { return *env_; }
  const Enumeration* enumeration() const { return enumeration_.get(); }
  const BitSeq* bitseq() const { return bitseq_; }  // null unless the non-autoregressive BitSeq
  Trainer& trainer() { return *trainer_; }
  const std::vector<EvaluationRow>& history() const { return history_; }

  // Terminal states of n fresh trajectories from the current P_F (a stream never used in training).
  std::vector<int64_t> sample_terminal_indices(int n) const;
  std::vector<std::vector<int32_t>> sample_terminal_states(int n, uint64_t seed) const;

 private:
  std::string status_line() const;

  RunOptions options_;
  std::unique_ptr<Environment> env_;
  std::unique_ptr<Enumeration> enumeration_;  // null when not enumerable
  std::unique_ptr<Trainer> trainer_;
  std::unique_ptr<TerminalWindow> window_;
  const BitSeq* bitseq_ = nullptr;  // the environment, when it is the non-autoregressive BitSeq
  StateMatrix test_set_;            // BitSeq test strings, L words each
  ModeTracker modes_;
  std::vector<EvaluationRow> history_;
  int64_t trajectories_ = 0, transitions_ = 0;
  double wall_s_ = 0, last_loss_ = NAN;
};

// A run rebuilt from its checkpoint file (for `gfn sample` and `gfn eval`).
std::unique_ptr<Run> load_run(const std::string& checkpoint_path);

}  // namespace gfn::cli
