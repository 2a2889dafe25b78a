// `gfn baseline mcmc|random`: runs a baseline sampler (core/run/baseline_run.hpp) on the environment that the
// same flags as `gfn train` choose, for a budget of reward calls, and reports the training metrics under
// their keys (text, --json, or metrics.csv with --out), so baselines and GFlowNets compare per reward call.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "cli/commands.hpp"
#include "cli/settings_flags.hpp"
#include "core/run/baseline_run.hpp"
#include "util/files.hpp"
#include "util/json.hpp"
#include "util/parallel.hpp"

namespace gfn::cli {

namespace {

struct BaselineOptions {
  RunSettings settings;  // the environment, seed, window and threads rows
  std::string kind;
  BaselineConfig config;
  std::string out;
  bool json = false;
};

// The settings rows a baseline reads: the environment, the seed, the empirical window, the threads.
bool baseline_setting(const Setting& setting) {
  return setting.group == "Environment" || setting.key == "seed" || setting.key == "window" ||
         setting.key == "threads";
}

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), pattern, value);
  return text;
}

void run_baseline_command(const CLI::App& command, const BaselineOptions& options) {
  const RunSettings& settings = options.settings;
  reject_inapplicable(settings, given_settings(command));
  validate(settings);
  BaselineConfig config = options.config;
  config.kind = baseline_kind_from_name(options.kind);
  config.seed = settings.seed;
  config.window = settings.window;
  if (!options.out.empty() &&
      (std::filesystem::exists(options.out + "/config.json") || std::filesystem::exists(options.out + "/checkpoint.bin")))
    throw std::invalid_argument(options.out + " holds a training run: use another --out");
  set_threads(settings.threads);
  const std::unique_ptr<Environment> env = make_environment(settings.env_config());
  const MetricTraits traits = baseline_metric_traits(*env);
  const std::vector<MetricsRow> rows = run_baseline(*env, config);

  if (!options.out.empty()) {
    std::filesystem::create_directories(options.out);
    std::string csv = metrics_csv_header(traits);
    for (const MetricsRow& row : rows) csv += metrics_csv_line(row, traits);
    write_file_atomically(options.out + "/metrics.csv", csv);
  }
  const MetricsRow& last = rows.back();
  if (options.json) {
    JsonObject json;
    json.add("baseline", baseline_kind_name(config.kind)).add("environment", env->name());
    json.add("seed", (unsigned long)config.seed).add("budget", (long long)config.budget);
    if (config.kind == BaselineKind::Mcmc) json.add("chains", config.chains);
    json.add("n_modes", (long long)env->n_modes());
    const std::string text = json.str(), metrics = metrics_json_fields(last, traits);
    std::printf("%s, %s\n", text.substr(0, text.size() - 1).c_str(), metrics.substr(1).c_str());
    return;
  }
  std::printf("%s on %s, seed %llu: %lld reward calls in %s\n", baseline_kind_name(config.kind).c_str(),
              env->name().c_str(), (unsigned long long)config.seed, (long long)last.reward_calls,
              format("%.2f s", last.wall_s).c_str());
  for (const Metric& metric : metrics_table()) {
    if (!metric.defined(traits) || std::isnan(metric.value(last)) || metric.key == "trajectories" ||
        metric.key == "transitions" || metric.key == "reward_calls")
      continue;
    std::printf("  %s %s%s\n", metric.key.c_str(), metric.text(last).c_str(),
                metric.key == "modes_found" ? (" of " + std::to_string(env->n_modes())).c_str() : "");
  }
  if (!options.out.empty()) std::printf("  wrote %s/metrics.csv\n", options.out.c_str());
}

}  // namespace

void add_baseline_command(CLI::App& app) {
  auto options = std::make_shared<BaselineOptions>();
  CLI::App* command = app.add_subcommand(
      "baseline",
      "Score terminal objects without training, for comparison with GFlowNets at equal reward calls (one reward "
      "call = one object scored).\n  mcmc: Metropolis-Hastings chains targeting R/Z with local proposals (HyperGrid: "
      "+-1 on one coordinate; BitSeq: re-draw one word), each chain started by a uniform random walk.\n  random: "
      "uniform random guessing over terminal objects.\nReports the training metrics (reward_calls, modes_found, "
      "the empirical L1 over the last --window samples) every --eval-every reward calls. The environment flags "
      "are those of gfn train.");
  command->add_option("sampler", options->kind, "mcmc or random")->required()->check(CLI::IsMember({"mcmc", "random"}));
  add_setting_flags(command, options->settings, baseline_setting);
  add_number_option(command, "--budget", options->config.budget, "Reward calls to spend", 1, INFINITY);
  add_number_option(command, "--eval-every", options->config.eval_every, "Reward calls between metrics rows", 1,
                    INFINITY);
  add_number_option(command, "--chains", options->config.chains,
                    "mcmc: chains run side by side; random: objects per draw", 1, INFINITY);
  command->add_option("--out", options->out, "Write metrics.csv (one row per evaluation) here");
  command->add_flag("--json", options->json, "Print one JSON summary (the last row) on stdout");
  command->callback([command, options] { run_baseline_command(*command, *options); });
}

}  // namespace gfn::cli
