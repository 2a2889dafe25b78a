// Session: one training run of any Environment with everything around the trainer: evaluation
// (exact metrics by dynamic programming when the environment is enumerable, the empirical window,
// modes found, the test-set rank correlation when the environment has one), the metrics history,
// checkpoints, and an output directory written as the run goes.
//
// With an output directory a session writes config.json at once, appends a row to metrics.csv at
// every evaluation, and writes checkpoint.bin (atomically) at every evaluation, or every
// checkpoint_every iterations, and when stopped. A session stopped through SessionHooks::stop
// finishes its iteration and checkpoints; restored from any of its checkpoints it reaches the same
// numbers as a run that was never stopped (evaluation draws only from streams training never uses).
//
//   RunSettings settings;
//   settings.iters = 500;
//   Session session(settings);                       // or Session(std::make_unique<MyEnv>(), settings)
//   session.write_to("runs/a");                      // optional
//   session.train();
//   double l1 = session.history().back().l1_exact;   // NaN unless enumerable
//
// Data-parallel (set_communicator): every process runs the same session; the trainer shares the blocks
// (core/training/trainer.hpp), and only rank 0 evaluates, keeps the history and writes the output directory (the
// others never call write_to). A stop request or a failure on any process stops all of them after the
// same iteration.
//
// Thread contract: thread-compatible; one thread drives a session (training itself uses OpenMP).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/distributed/communicator.hpp"
#include "core/evaluation/evaluation.hpp"
#include "core/evaluation/metrics.hpp"
#include "core/network/checkpoint.hpp"
#include "core/run/settings.hpp"
#include "core/training/trainer.hpp"

namespace gfn {

class Session;

struct SessionHooks {
  const std::atomic<bool>* stop = nullptr;              // when set: stop after the current iteration
  std::function<void(const Session&)> after_iteration;  // e.g. a progress bar
  std::function<void(const std::string&)> status;       // what a long evaluation is doing
};

class Session {
 public:
  // The environment built from the settings' environment fields.
  explicit Session(const RunSettings& settings);
  // Any environment; the settings' environment fields then only label the run.
  Session(std::unique_ptr<Environment> env, const RunSettings& settings);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Continues from a checkpoint of this configuration (throws std::runtime_error when it does not fit).
  void restore(const Checkpoint& checkpoint);
  Checkpoint checkpoint() const;

  // Writes config.json and metrics.csv (the history so far) into `directory` now, and the rest as the
  // run goes (see above). The directory is created if needed.
  void write_to(const std::string& directory);
  void set_hooks(SessionHooks hooks) { hooks_ = std::move(hooks); }
  // The processes of a data-parallel run (default: this one alone); see above.
  void set_communicator(Communicator& communicator);

  // Trains up to settings().iters; returns false when stopped early by hooks.stop.
  bool train();
  MetricsRow evaluate();  // a row of metrics now, appended to the history

  const RunSettings& settings() const { return settings_; }  // with the automatic defaults resolved
  const Environment& env() const { return *env_; }
  const Enumeration* enumeration() const { return enumeration_.get(); }  // null when not enumerable
  Trainer& trainer() { return *trainer_; }
  const Trainer& trainer() const { return *trainer_; }
  const std::vector<MetricsRow>& history() const { return history_; }
  MetricTraits metric_traits() const;
  const std::string& directory() const { return directory_; }

  // config.json: the settings that apply, the reward's constants, the program version and revision.
  std::string config_json() const;
  // Terminal states of n fresh trajectories of the current P_F (streams training never uses).
  std::vector<std::vector<int32_t>> sample_terminal_states(int n, uint64_t seed) const;

 private:
  void save_checkpoint() const;
  void restore_state(const Checkpoint& checkpoint);

  RunSettings settings_;
  std::unique_ptr<Environment> env_;
  std::unique_ptr<Enumeration> enumeration_;
  std::unique_ptr<Trainer> trainer_;
  std::unique_ptr<TerminalWindow> window_;  // enumerable environments only
  ModeTracker modes_;
  bool test_set_ = false;
  std::vector<MetricsRow> history_;
  int64_t trajectories_ = 0, transitions_ = 0, reward_calls_ = 0;
  double wall_s_ = 0;
  double loss_sum_ = 0;  // training loss summed over the iterations since the last row
  int64_t loss_count_ = 0;
  std::string directory_;
  SessionHooks hooks_;
  Communicator* communicator_ = &single_process();
};

// Refuses (std::invalid_argument) an output directory that holds a run, unless `force` (then that
// run's files are removed) or the run there is `settings`' own and `resuming`. The message says
// which flag to use.
void claim_output_directory(const std::string& directory, const RunSettings& settings, bool resuming, bool force);

}  // namespace gfn
