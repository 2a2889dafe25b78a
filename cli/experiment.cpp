// `gfn experiment`: the paper protocols of the TLM and soft-RL papers (docs/cli.md, "Paper protocols") as a grid of runs
// (objective x backward policy x seed, and reward preset on HyperGrid), run in parallel over cores,
// each writing its own directory; then a summary table (markdown and CSV) and SVG curves.
//
//   hypergrid-tlm: HyperGrid 20^4 standard and hard, 16 trajectories per iteration, 62500 iterations,
//                  MLP 2x256, lr 1e-3, log Z lr 0.1, metrics every 100 iterations (mean empirical L1
//                  over the last 200000 visited states).
//   bitseq-tlm:    BitSeq n=120 k=8, 16 sequences per iteration, 50000 iterations, lr 1e-3, weight decay
//                  1e-5, epsilon 0.001, SubTB lambda 0.9, metrics every 2000 iterations.
// --iters and --eval-every shorten a protocol (e.g. a smoke run in CI). A run already finished in its
// directory (same configuration) is read back, not trained again.
#include <cmath>
#include <limits>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <utility>

#include "cli/commands.hpp"
#include "cli/experiment.hpp"
#include "cli/output.hpp"
#include "cli/run_report.hpp"
#include "cli/settings_flags.hpp"
#include "cli/svg.hpp"
#include "core/run/session.hpp"
#include "util/files.hpp"
#include "util/parallel.hpp"

namespace gfn::cli {

bool continue_run(const std::string& out, Session& run) {
  const std::string path = out + "/checkpoint.bin";
  if (!std::filesystem::exists(path)) return false;
  const Checkpoint checkpoint = Checkpoint::load(path);
  if (identity_text(from_text(checkpoint.config)) != identity_text(run.settings()))
    throw std::runtime_error(path + " holds a run of another configuration: use another --out or delete it");
  run.restore(checkpoint);
  return run.trainer().iteration() == run.settings().iters && !run.history().empty();
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.4g", value);
  return text;
}

namespace {

// A finished run as the summary needs it; its training time is history.back().wall_s.
struct Finished {
  std::string env, algo, pb;
  uint64_t seed = 0;
  std::vector<MetricsRow> history;
  int64_t n_modes = 0;
};

RunSettings protocol_run(const ExperimentOptions& experiment, const std::string& reward, const std::string& algo,
                         const std::string& backward, uint64_t seed) {
  RunSettings options;
  options.loss = algo;
  options.pb = backward;
  options.seed = seed;
  options.batch = 16;
  options.lr = 1e-3;
  options.lr_logz = 0.1;
  options.threads = 1;
  if (experiment.protocol == "hypergrid-tlm") {
    options.env = "hypergrid";
    options.ndim = 4;
    options.height = 20;
    options.reward = reward;
    options.epsilon = 0;  // on-policy, as in the papers
    options.uniform_ratio = 0;
    options.iters = 62500;
    options.eval_every = 100;
    options.exact_every = 1000;  // the exact L1 (dynamic programming over 160000 states) every 10th evaluation
    options.window = 200000;
  } else if (experiment.protocol == "bitseq-tlm") {
    options.env = "bitseq";
    options.iters = 50000;
    options.eval_every = 2000;
    options.corr_every = 2000;
    options.weight_decay = 1e-5;
    options.epsilon = 0.001;
    options.subtb_lambda = 0.9;
  } else {
    throw std::invalid_argument("unknown protocol '" + experiment.protocol + "' (hypergrid-tlm, bitseq-tlm)");
  }
  if (experiment.iterations > 0) options.iters = experiment.iterations;
  if (experiment.eval_every > 0) options.eval_every = options.corr_every = int(experiment.eval_every);
  return options;
}

void write_summary(const ExperimentOptions& experiment, const std::vector<Finished>& runs) {
  std::ostringstream markdown, csv;
  const bool bitseq = experiment.protocol == "bitseq-tlm";
  markdown << "| environment | loss | pb | seed | iteration | trajectories | "
           << (bitseq ? "modes_found | spearman | spearman_pb" : "l1_empirical_mean | l1_exact")
           << " | wall_s |\n|---|---|---|---|---|---|---|---|" << (bitseq ? "---|" : "") << "---|\n";
  // The summary's metric columns, named as in metrics.csv.
  const std::vector<std::string> columns = {"iteration", "trajectories", "l1_empirical_mean", "l1_exact",
                                            "modes_found", "spearman", "spearman_pb", "wall_s"};
  csv << "environment,loss,pb,seed,n_modes";
  for (const std::string& column : columns) csv << "," << find_metric(column).key;
  csv << "\n";
  for (const Finished& run : runs) {
    const MetricsRow& last = run.history.back();
    markdown << "| " << run.env << " | " << run.algo << " | " << run.pb << " | " << run.seed << " | "
             << last.iteration << " | " << last.trajectories << " | "
             << (bitseq ? std::to_string(last.modes_found) + "/" + std::to_string(run.n_modes) + " | " +
                              number(last.spearman) + " | " +
                              (std::isfinite(last.spearman_pb) ? number(last.spearman_pb) : std::string("-"))
                        : number(last.l1_empirical_mean) + " | " + number(last.l1_exact))
             << " | " << number(last.wall_s) << " |\n";
    csv << run.env << "," << run.algo << "," << run.pb << "," << run.seed << "," << run.n_modes;
    for (const std::string& column : columns) csv << "," << find_metric(column).text(last);
    csv << "\n";
  }
  write_file_atomically(experiment.out + "/summary.md", markdown.str());
  write_file_atomically(experiment.out + "/summary.csv", csv.str());

  // Charts per environment, one line per (objective, P_B) averaged over seeds: mean empirical L1
  // against trajectories (HyperGrid); modes found and test-set Spearman against iterations (BitSeq).
  std::map<std::string, std::map<std::string, std::vector<const Finished*>>> groups;
  for (const Finished& run : runs) groups[run.env][run.algo + ", P_B " + run.pb].push_back(&run);
  for (const auto& [env, lines] : groups) {
    auto chart = [&, &env = env, &lines = lines](const std::string& file, const std::string& title,
                                                  const std::string& key) {
      const Metric& metric = find_metric(key);
      std::vector<Series> series;
      for (const auto& [label, members] : lines) {
        Series line{label, {}, {}};
        for (size_t i = 0; i < members.front()->history.size(); ++i) {
          double total = 0;
          for (const Finished* member : members)
            total += metric.value(member->history[std::min(i, member->history.size() - 1)]);
          const MetricsRow& row = members.front()->history[i];
          line.x.push_back(bitseq ? double(row.iteration) : double(row.trajectories));
          line.y.push_back(total / members.size());
        }
        series.push_back(line);
      }
      write_file_atomically(experiment.out + "/" + file,
                            svg_chart(env + ": " + title, bitseq ? "iteration" : "trajectories",
                                      {Panel{key, series, /*log_y=*/!bitseq}}));
    };
    if (bitseq) {
      chart(env + ".svg", "modes found (of 60)", "modes_found");
      chart(env + "-spearman.svg", "test-set Spearman (uniform fill orders)", "spearman");
    } else {
      chart(env + ".svg", "empirical L1, mean over states", "l1_empirical_mean");
    }
  }
}

void run_experiment(const ExperimentOptions& experiment) {
  if (experiment.protocol == "exploration") return run_exploration_experiment(experiment);
  struct Planned {
    std::string name, env;  // env: the summary's environment label (hypergrid-<reward> or bitseq)
    RunSettings options;
    std::string out;
  };
  std::vector<Planned> plan;
  const std::vector<std::string> rewards =
      experiment.protocol == "hypergrid-tlm" ? experiment.rewards : std::vector<std::string>{""};
  for (const std::string& reward : rewards)
    for (const std::string& algo : experiment.algos)
      for (const std::string& backward : experiment.backward)
        for (uint64_t seed : experiment.seeds) {
          RunSettings options = protocol_run(experiment, reward, algo, backward, seed);
          validate(options);
          const std::string env = experiment.protocol == "hypergrid-tlm" ? "hypergrid-" + reward : "bitseq";
          const std::string name = env + "-" + algo + "-" + backward + "-seed" + std::to_string(seed);
          plan.push_back({name, env, options, experiment.out + "/" + name});
        }
  std::printf("%s: %zu runs into %s/\n", experiment.protocol.c_str(), plan.size(), experiment.out.c_str());
  std::fflush(stdout);
  std::vector<Finished> finished(plan.size());
  std::vector<std::string> errors(plan.size());
  set_threads(experiment.threads);
  // One core per run, runs in parallel; with fewer runs than cores, one run at a time on every core.
  const int cores = max_threads();
  const bool runs_in_parallel = int(plan.size()) >= cores;
  for (Planned& planned : plan) planned.options.threads = runs_in_parallel ? 1 : cores;
#pragma omp parallel for schedule(dynamic, 1) if (runs_in_parallel)
  for (int i = 0; i < int(plan.size()); ++i) {
    try {
      Session run(plan[i].options);
      const bool reused = continue_run(plan[i].out, run);
      if (!reused) {
        run.write_to(plan[i].out);
        run.train();
        write_plots(run);
      }
      const MetricsRow& last = run.history().back();
      finished[i] = Finished{plan[i].env, plan[i].options.loss, plan[i].options.pb, plan[i].options.seed,
                             run.history(), run.env().n_modes()};
#pragma omp critical
      {
        std::printf("  %s %-40s %s %.4g  modes %lld/%lld  %.1f s\n", reused ? "read" : "done", plan[i].name.c_str(),
                    std::isfinite(last.spearman) ? "spearman" : "L1(mean)",
                    std::isfinite(last.spearman) ? last.spearman : last.l1_empirical_mean, (long long)last.modes_found,
                    (long long)run.env().n_modes(), last.wall_s);
        std::fflush(stdout);  // progress lines reach a log file as they happen
      }
    } catch (const std::exception& error) {
      errors[i] = plan[i].name + ": " + error.what();
    }
  }
  // A failed run does not lose the others: summarise what finished, then report the first failure.
  std::vector<Finished> completed;
  for (size_t i = 0; i < plan.size(); ++i)
    if (errors[i].empty()) completed.push_back(std::move(finished[i]));
  if (!completed.empty()) {
    write_summary(experiment, completed);
    std::printf("wrote %s/summary.md, summary.csv and the SVG charts\n", experiment.out.c_str());
  }
  for (const std::string& error : errors)
    if (!error.empty()) throw std::runtime_error(error);
}

}  // namespace

void add_experiment_command(CLI::App& app) {
  auto options = std::make_shared<ExperimentOptions>();
  CLI::App* command = app.add_subcommand(
      "experiment", "Run a paper protocol (hypergrid-tlm, bitseq-tlm) or the exploration comparison (exploration)");
  command->add_option("protocol", options->protocol, "hypergrid-tlm, bitseq-tlm or exploration")->required();
  command->add_option("--algos", options->algos, "Objectives (tb, db, subtb, soft-dqn, munchausen-dqn, ...)")
      ->delimiter(',')
      ->capture_default_str();
  command->add_option("--pb", options->backward, "Backward policies (uniform, maxent, learned, tlm, pessimistic)")
      ->delimiter(',')
      ->capture_default_str();
  add_number_list_option(command, "--seeds", options->seeds, "Seeds", 0, INFINITY);
  command->add_option("--rewards", options->rewards, "HyperGrid reward presets")->delimiter(',')->capture_default_str();
  add_number_option(command, "--iters", options->iterations, "Iterations per run (0: the protocol's)", 0, INFINITY);
  add_number_option(command, "--eval-every", options->eval_every,
                    "Iterations between metrics (0: the protocol's); exploration: reward calls (0: budget / 100)", 0,
                    std::numeric_limits<int>::max());
  command->add_option("--envs", options->envs, "exploration: hypergrid-hard (20^4, 256 modes), hypergrid-8x8 "
                      "(R0 1e-3, 4 modes), bitseq (n=120, k=8, 60 modes)")
      ->delimiter(',')
      ->capture_default_str();
  command->add_option("--methods", options->methods,
                      "exploration: tb, tb-replay, tb-ls, db (trained), mcmc, random (baselines)")
      ->delimiter(',')
      ->capture_default_str();
  add_number_option(command, "--budget", options->budget, "exploration: reward calls per run", 1, INFINITY);
  add_number_option(command, "--threads", options->threads,
                    "Cores (0: all): parallel runs of one core each, or every core per run when runs < cores", 0,
                    4096);
  command->add_option("--out", options->out, "Output directory")->capture_default_str();
  command->callback([options] { run_experiment(*options); });
}

}  // namespace gfn::cli
