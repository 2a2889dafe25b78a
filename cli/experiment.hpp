// What the kinds of `gfn experiment` share: the options, the rule that continues or reads back a run
// found in its directory, and number formatting for summaries. The paper protocols are in
// cli/experiment.cpp, the exploration comparison in cli/exploration_experiment.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/run/session.hpp"

namespace gfn::cli {

struct ExperimentOptions {
  std::string protocol;
  std::vector<std::string> algos = {"tb", "db"};
  std::vector<std::string> backward = {"uniform", "tlm"};
  std::vector<uint64_t> seeds = {0};
  std::vector<std::string> rewards = {"standard", "hard"};
  int64_t iterations = 0;  // 0: the protocol's
  int64_t eval_every = 0;  // 0: the protocol's (exploration: reward calls, else iterations)
  int threads = 0;         // cores to use (0: all)
  std::string out = "experiment";
  // exploration
  std::vector<std::string> envs = {"hypergrid-hard", "hypergrid-8x8", "bitseq"};
  std::vector<std::string> methods = {"tb", "tb-replay", "tb-ls", "db", "mcmc", "random"};
  int64_t budget = 1000000;  // reward calls per run
};

// A run whose directory already holds a checkpoint of the same configuration continues from it: a
// finished run is read back instead of trained again, an interrupted one is resumed, and runs from
// several invocations (e.g. more seeds) can be summarised together. Returns whether the run was
// already finished; a run of another configuration is never overwritten.
bool continue_run(const std::string& out, Session& run);

std::string number(double value);  // %.4g

void run_exploration_experiment(const ExperimentOptions& experiment);

}  // namespace gfn::cli
