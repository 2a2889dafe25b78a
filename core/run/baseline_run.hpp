// Baseline runs: a baseline sampler (core/training/baseline_samplers.hpp: Metropolis-Hastings chains or uniform
// random guessing) driven for a budget of reward calls and measured with the training metrics
// (core/evaluation/metrics.hpp), so GFlowNets and baselines are compared in one table and on one axis.
// Not a trainer: there is no model, so exact P_T, losses, log Z and rank correlations stay NaN.
//
// What the rows hold:
//   reward_calls          objects scored so far (the comparison axis)
//   iteration             sampler steps (MCMC: one proposal per chain; random: one draw of up to
//                         `chains` objects, cut at evaluation points so rows fall on exact call counts)
//   modes_found           distinct modes among every object scored (environments with modes)
//   l1_empirical(_mean)   the last `window` samples against R/Z (enumerable environments): MCMC's samples
//                         are the chains' states after each step (a rejection repeats a state), random
//                         guessing's are its draws
//   wall_s                sampling time (evaluation excluded)
// A row is taken when reward_calls first reaches each multiple of eval_every (MCMC can pass it by fewer
// than `chains` calls) and at the end, once reward_calls >= budget.
//
//   BaselineConfig config;  config.kind = BaselineKind::Random;  config.budget = 10000;
//   std::vector<MetricsRow> rows = run_baseline(env, config);
//
// Thread contract: run_baseline may use every thread (MCMC steps its chains in parallel); its rows are
// identical on any thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/evaluation/metrics.hpp"
#include "envs/environment.hpp"

namespace gfn {

enum class BaselineKind { Mcmc, Random };

// Names as on the command line: mcmc, random.
BaselineKind baseline_kind_from_name(const std::string& name);
std::string baseline_kind_name(BaselineKind kind);

struct BaselineConfig {
  BaselineKind kind = BaselineKind::Mcmc;
  int64_t budget = 100000;     // reward calls
  int64_t eval_every = 10000;  // reward calls between rows
  int chains = 16;             // MCMC chains; objects per random draw
  uint64_t seed = 0;
  int64_t window = 200000;     // samples in the empirical L1
};

// The metrics a baseline run reports on `env` (enumerable: the empirical L1; modes: modes found).
MetricTraits baseline_metric_traits(const Environment& env);

// Runs the baseline; `on_row` (may be empty) sees each row as it is taken. Throws std::invalid_argument
// on a budget, eval_every, chains or window below 1.
std::vector<MetricsRow> run_baseline(const Environment& env, const BaselineConfig& config,
                                     const std::function<void(const MetricsRow&)>& on_row = {});

}  // namespace gfn
