// `gfn experiment exploration`: GFlowNet training with and without exploration tools against the two
// baselines, all measured per reward call (one terminal object scored), the axis of Bengio et al. 2021's
// comparison with MCMC. Environments (--envs) and methods (--methods), each over --seeds:
//   hypergrid-hard  HyperGrid 20^4, hard reward (256 modes)      local search backtracks 10 moves
//   hypergrid-8x8   HyperGrid 8x8, standard reward, R0 1e-3 (4)  local search backtracks 4 moves
//   bitseq          BitSeq n=120, k=8 (60 modes)                 local search backtracks 7 words
//   tb, db          `gfn train --loss tb|db` with every other setting at its default
//   tb-replay       tb with --replay-ratio 0.5 (reward-prioritized buffer, the defaults otherwise)
//   tb-ls           tb with local search (--ls-backtrack as above, one round, greedy acceptance)
//   mcmc, random    `gfn baseline mcmc|random` (16 chains)
// Each run spends --budget reward calls (training: the iterations that take, from the calls per
// iteration) with a metrics row every --eval-every calls, in its own directory. Then summary.md and
// summary.csv (modes found and empirical L1 at budget/10, 3 budget/10 and budget; the calls after which
// every mode was found) and one SVG per environment: modes found and empirical L1 against reward calls,
// averaged over seeds. Training runs found finished in their directory are read back; baselines rerun.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <sstream>

#include "cli/experiment.hpp"
#include "cli/svg.hpp"
#include "core/run/baseline_run.hpp"
#include "envs/factory.hpp"
#include "util/files.hpp"
#include "util/parallel.hpp"

namespace gfn::cli {

namespace {

struct ExplorationEnv {
  std::string key;
  void (*configure)(RunSettings&);
  int ls_backtrack;
};

const std::vector<ExplorationEnv>& exploration_envs() {
  static const std::vector<ExplorationEnv> envs = {
      {"hypergrid-hard",
       [](RunSettings& s) {
         s.env = "hypergrid";
         s.ndim = 4;
         s.height = 20;
         s.reward = "hard";
       },
       10},
      {"hypergrid-8x8",
       [](RunSettings& s) {
         s.env = "hypergrid";
         s.ndim = 2;
         s.height = 8;
         s.reward = "standard";
         s.r0 = 1e-3;
       },
       4},
      {"bitseq",
       [](RunSettings& s) {
         s.env = "bitseq";
         s.n = 120;
         s.k = 8;
       },
       7},
  };
  return envs;
}

const ExplorationEnv& exploration_env(const std::string& key) {
  for (const ExplorationEnv& env : exploration_envs())
    if (env.key == key) return env;
  throw std::invalid_argument("unknown --envs entry '" + key + "' (hypergrid-hard, hypergrid-8x8, bitseq)");
}

bool is_baseline(const std::string& method) { return method == "mcmc" || method == "random"; }

void check_method(const std::string& method) {
  for (const char* known : {"tb", "tb-replay", "tb-ls", "db", "mcmc", "random"})
    if (method == known) return;
  throw std::invalid_argument("unknown --methods entry '" + method + "' (tb, tb-replay, tb-ls, db, mcmc, random)");
}

// The training settings of a method: `gfn train`'s defaults, the environment, the method's flags, and
// the iterations that spend the budget.
RunSettings training_settings(const ExplorationEnv& env, const std::string& method, uint64_t seed, int64_t budget,
                              int64_t eval_every) {
  RunSettings settings;
  env.configure(settings);
  settings.seed = seed;
  settings.loss = method == "db" ? "db" : "tb";
  if (method == "tb-replay") settings.replay_ratio = 0.5;
  if (method == "tb-ls") settings.ls_backtrack = env.ls_backtrack;
  // Reward calls per iteration once the replay buffer holds objects (the trainer's rule): the fresh
  // trajectories, one local-search proposal per fresh trajectory and round, and the uniform draws (the
  // environment's default share).
  RunSettings resolved = settings;
  resolve_defaults(resolved, *make_environment(settings.env_config()));
  const int replayed = settings.replay_ratio > 0
                           ? std::min(settings.batch - 1, int(std::lround(settings.replay_ratio * settings.batch)))
                           : 0;
  const int uniform = std::min(settings.batch - 1 - replayed, int(std::lround(resolved.uniform_ratio * settings.batch)));
  const int64_t fresh = settings.batch - replayed - uniform;
  const int64_t calls_per_iteration = fresh * (settings.ls_backtrack > 0 ? 1 + settings.ls_rounds : 1) + uniform;
  // budget / calls rounded up, without the overflow of budget + calls - 1 near the largest budget
  settings.iters = std::max<int64_t>(1, budget / calls_per_iteration + (budget % calls_per_iteration != 0));
  settings.eval_every = int(std::clamp<int64_t>(eval_every / calls_per_iteration, 1, std::numeric_limits<int>::max()));
  settings.exact_every = int(std::min<int64_t>(settings.iters, 1 << 30));  // exact metrics at the end only
  settings.corr_every = settings.exact_every;
  return settings;
}

struct Curve {
  std::string env, method;
  uint64_t seed = 0;
  std::vector<MetricsRow> rows;
  int64_t n_modes = 0;
  bool enumerable = false;
};

// The first row at or after `calls` reward calls (null when the run stopped before).
const MetricsRow* row_at(const Curve& curve, int64_t calls) {
  for (const MetricsRow& row : curve.rows)
    if (row.reward_calls >= calls) return &row;
  return nullptr;
}

// Reward calls after which every mode had been found (-1: not within the run).
int64_t calls_to_all_modes(const Curve& curve) {
  for (const MetricsRow& row : curve.rows)
    if (curve.n_modes > 0 && row.modes_found == curve.n_modes) return row.reward_calls;
  return -1;
}

std::string calls_text(int64_t calls) {
  if (calls < 0) return "-";
  if (calls >= 10000) return number(double(calls) / 1000) + "k";
  return std::to_string(calls);
}

// "mean (seed values)" of a metric at a number of calls over the curves of one method.
std::string across_seeds(const std::vector<const Curve*>& curves, int64_t calls, const std::string& key) {
  const Metric& metric = find_metric(key);
  std::string values;
  double total = 0;
  int counted = 0;
  for (const Curve* curve : curves) {
    const MetricsRow* row = row_at(*curve, calls);
    values += (values.empty() ? "" : "/") + (row ? number(metric.value(*row)) : std::string("-"));
    if (row) {
      total += metric.value(*row);
      ++counted;
    }
  }
  if (counted == 0) return "-";
  return curves.size() == 1 ? values : number(total / counted) + " (" + values + ")";
}

// Curves by environment, then method: the seeds of each method.
using CurveGroups = std::map<std::string, std::map<std::string, std::vector<const Curve*>>>;

// The metrics of summary.csv, one column each.
const std::vector<std::string>& summary_csv_columns() {
  static const std::vector<std::string> columns = {"reward_calls", "iteration", "modes_found", "l1_empirical",
                                                   "l1_exact", "wall_s"};
  return columns;
}

// summary.md's row of one method: modes found at each point, the calls to all modes, empirical L1 at the
// budget, exact L1 at the end (training runs), mean wall time.
void write_summary_row(std::ostream& markdown, const std::string& env, const std::string& method,
                       const std::vector<const Curve*>& seeds, const std::vector<int64_t>& points) {
  std::string all_modes;
  for (const Curve* curve : seeds) all_modes += (all_modes.empty() ? "" : "/") + calls_text(calls_to_all_modes(*curve));
  const bool enumerable = seeds.front()->enumerable;
  std::string exact = "-";
  if (!is_baseline(method) && enumerable) {
    std::string values;
    for (const Curve* curve : seeds) values += (values.empty() ? "" : "/") + number(curve->rows.back().l1_exact);
    exact = values;
  }
  double wall = 0;
  for (const Curve* curve : seeds) wall += curve->rows.back().wall_s;
  markdown << "| " << env << " (" << seeds.front()->n_modes << " modes) | " << method << " | "
           << across_seeds(seeds, points[0], "modes_found") << " | " << across_seeds(seeds, points[1], "modes_found")
           << " | " << across_seeds(seeds, points[2], "modes_found") << " | " << all_modes << " | "
           << (enumerable ? across_seeds(seeds, points[2], "l1_empirical") : std::string("-")) << " | " << exact
           << " | " << number(wall / seeds.size()) << " |\n";
}

// summary.csv's rows of one method: each seed's metrics row at each point it reached.
void write_summary_csv_rows(std::ostream& csv, const std::string& env, const std::string& method,
                            const std::vector<const Curve*>& seeds, const std::vector<int64_t>& points) {
  for (const Curve* curve : seeds)
    for (int64_t point : points) {
      const MetricsRow* row = row_at(*curve, point);
      if (!row) continue;
      csv << env << "," << method << "," << curve->seed << "," << curve->n_modes << "," << point;
      for (const std::string& column : summary_csv_columns()) csv << "," << find_metric(column).text(*row);
      csv << "\n";
    }
}

// summary.md and summary.csv: each environment's methods in the --methods order, at budget/10,
// 3 budget/10 and the budget.
void write_summary_tables(const ExperimentOptions& experiment, const CurveGroups& groups) {
  const std::vector<int64_t> points = {experiment.budget / 10, 3 * experiment.budget / 10, experiment.budget};
  auto method_rank = [&experiment](const std::string& method) {
    return std::find(experiment.methods.begin(), experiment.methods.end(), method) - experiment.methods.begin();
  };
  std::ostringstream markdown, csv;
  markdown << "Values at the first metrics row at or after the stated reward calls: mean over seeds (each seed).\n\n"
           << "| environment | method | modes at " << calls_text(points[0]) << " | modes at " << calls_text(points[1])
           << " | modes at " << calls_text(points[2]) << " | all modes by (calls) | empirical L1 at "
           << calls_text(points[2]) << " | exact L1 at the end | wall s |\n|---|---|---|---|---|---|---|---|---|\n";
  csv << "environment,method,seed,n_modes,at_calls";
  for (const std::string& column : summary_csv_columns()) csv << "," << find_metric(column).key;
  csv << "\n";
  for (const auto& [env, methods] : groups) {
    std::vector<std::string> order;
    for (const auto& entry : methods) order.push_back(entry.first);
    std::sort(order.begin(), order.end(),
              [&](const std::string& a, const std::string& b) { return method_rank(a) < method_rank(b); });
    for (const std::string& method : order) {
      write_summary_row(markdown, env, method, methods.at(method), points);
      write_summary_csv_rows(csv, env, method, methods.at(method), points);
    }
  }
  write_file_atomically(experiment.out + "/summary.md", markdown.str());
  write_file_atomically(experiment.out + "/summary.csv", csv.str());
}

// One line per method (the --methods order) of a metric against reward calls, averaged over seeds row
// by row (the seeds of a method take their rows at the same reward calls).
std::vector<Series> seed_mean_series(const ExperimentOptions& experiment,
                                     const std::map<std::string, std::vector<const Curve*>>& methods,
                                     const std::string& key) {
  const Metric& metric = find_metric(key);
  std::vector<Series> series;
  for (const std::string& method : experiment.methods) {
    if (!methods.count(method)) continue;
    const std::vector<const Curve*>& seeds = methods.at(method);
    size_t rows = seeds.front()->rows.size();
    for (const Curve* curve : seeds) rows = std::min(rows, curve->rows.size());
    Series line{method, {}, {}};
    for (size_t i = 0; i < rows; ++i) {
      double x = 0, y = 0;
      for (const Curve* curve : seeds) {
        x += double(curve->rows[i].reward_calls);
        y += metric.value(curve->rows[i]);
      }
      line.x.push_back(x / seeds.size());
      line.y.push_back(y / seeds.size());
    }
    series.push_back(line);
  }
  return series;
}

// One chart per environment: modes found and (enumerable environments) empirical L1 against reward calls.
void write_exploration_charts(const ExperimentOptions& experiment, const CurveGroups& groups) {
  for (const auto& [env, methods] : groups) {
    const int64_t n_modes = methods.begin()->second.front()->n_modes;
    std::vector<Panel> panels = {Panel{"modes found (of " + std::to_string(n_modes) + ")",
                                       seed_mean_series(experiment, methods, "modes_found"), false, true}};
    if (methods.begin()->second.front()->enumerable)
      panels.push_back(Panel{"empirical L1 (last samples vs R/Z, 0 to 2)",
                             seed_mean_series(experiment, methods, "l1_empirical"), false, true});
    write_file_atomically(experiment.out + "/" + env + ".svg",
                          svg_chart(env + ": exploration per reward call (mean over seeds)", "reward calls", panels));
  }
}

// summary.md, summary.csv and one SVG per environment from the completed runs' curves.
void write_exploration_summary(const ExperimentOptions& experiment, const std::vector<Curve>& curves) {
  CurveGroups groups;
  for (const Curve& curve : curves) groups[curve.env][curve.method].push_back(&curve);
  write_summary_tables(experiment, groups);
  write_exploration_charts(experiment, groups);
}

// One run of the experiment: a training run, or a baseline (which reads the environment, seed and window).
struct PlannedRun {
  std::string name, env, method;
  uint64_t seed;
  RunSettings settings;
  std::string out;
};

// Every environment, method and seed of the experiment, with its settings validated and its directory.
std::vector<PlannedRun> plan_exploration_runs(const ExperimentOptions& experiment, int64_t eval_every) {
  std::vector<PlannedRun> plan;
  for (const std::string& env_key : experiment.envs) {
    const ExplorationEnv& env = exploration_env(env_key);
    for (const std::string& method : experiment.methods)
      for (uint64_t seed : experiment.seeds) {
        RunSettings settings = training_settings(env, method, seed, experiment.budget, eval_every);
        validate(settings);
        const std::string name = env_key + "-" + method + "-seed" + std::to_string(seed);
        plan.push_back({name, env_key, method, seed, settings, experiment.out + "/" + name});
      }
  }
  return plan;
}

// Runs a baseline over the budget into `curve`, writing its metrics.csv in the run's directory.
void run_baseline_curve(const PlannedRun& planned, const ExperimentOptions& experiment, int64_t eval_every,
                        Curve& curve) {
  const std::unique_ptr<Environment> env = make_environment(planned.settings.env_config());
  BaselineConfig config;
  config.kind = baseline_kind_from_name(planned.method);
  config.budget = experiment.budget;
  config.eval_every = eval_every;
  config.seed = planned.seed;
  config.window = planned.settings.window;
  curve.rows = run_baseline(*env, config);
  const MetricTraits traits = baseline_metric_traits(*env);
  std::string csv = metrics_csv_header(traits);
  for (const MetricsRow& row : curve.rows) csv += metrics_csv_line(row, traits);
  std::filesystem::create_directories(planned.out);
  write_file_atomically(planned.out + "/metrics.csv", csv);
  curve.n_modes = env->n_modes();
  curve.enumerable = traits.enumerable;
}

// Trains a run into `curve`, or reads it back when its directory holds it finished; true when read back.
bool run_training_curve(const PlannedRun& planned, Curve& curve) {
  Session run(planned.settings);
  const bool reused = continue_run(planned.out, run);
  if (!reused) {
    run.write_to(planned.out);
    run.train();
  }
  curve.rows = run.history();
  curve.n_modes = run.env().n_modes();
  curve.enumerable = run.enumeration() != nullptr;
  return reused;
}

// The line of a run once done (or read back): its last reward calls, modes found, empirical L1, wall time.
void print_run_line(const PlannedRun& planned, const Curve& curve, bool reused) {
  const MetricsRow& last = curve.rows.back();
  std::printf("  %s %-36s calls %lld  modes %lld/%lld", reused ? "read" : "done", planned.name.c_str(),
              (long long)last.reward_calls, (long long)last.modes_found, (long long)curve.n_modes);
  if (curve.enumerable) std::printf("  empirical L1 %.4g", last.l1_empirical);
  std::printf("  %.1f s\n", last.wall_s);
  std::fflush(stdout);
}

}  // namespace

void run_exploration_experiment(const ExperimentOptions& experiment) {
  if (experiment.budget < 1) throw std::invalid_argument("--budget must be at least 1 reward call");
  const int64_t eval_every = experiment.eval_every > 0 ? experiment.eval_every : std::max<int64_t>(1, experiment.budget / 100);
  for (const std::string& method : experiment.methods) check_method(method);
  std::vector<PlannedRun> plan = plan_exploration_runs(experiment, eval_every);
  std::printf("exploration: %zu runs of %lld reward calls into %s/\n", plan.size(), (long long)experiment.budget,
              experiment.out.c_str());
  std::fflush(stdout);
  std::vector<Curve> curves(plan.size());
  std::vector<std::string> errors(plan.size());
  set_threads(experiment.threads);
  // As the paper protocols: one core per run, runs in parallel; fewer runs than cores: every core per run.
  const int cores = max_threads();
  const bool runs_in_parallel = int(plan.size()) >= cores;
  for (PlannedRun& planned : plan) planned.settings.threads = runs_in_parallel ? 1 : cores;
#pragma omp parallel for schedule(dynamic, 1) if (runs_in_parallel)
  for (int i = 0; i < int(plan.size()); ++i) {
    try {
      const PlannedRun& planned = plan[i];
      Curve& curve = curves[i];
      curve.env = planned.env;
      curve.method = planned.method;
      curve.seed = planned.seed;
      bool reused = false;
      if (is_baseline(planned.method)) run_baseline_curve(planned, experiment, eval_every, curve);
      else reused = run_training_curve(planned, curve);
#pragma omp critical
      print_run_line(planned, curve, reused);
    } catch (const std::exception& error) {
      errors[i] = plan[i].name + ": " + error.what();
    }
  }
  std::vector<Curve> completed;
  for (size_t i = 0; i < plan.size(); ++i)
    if (errors[i].empty()) completed.push_back(std::move(curves[i]));
  if (!completed.empty()) {
    write_exploration_summary(experiment, completed);
    std::printf("wrote %s/summary.md, summary.csv and one SVG per environment\n", experiment.out.c_str());
  }
  for (const std::string& error : errors)
    if (!error.empty()) throw std::runtime_error(error);
}

}  // namespace gfn::cli
