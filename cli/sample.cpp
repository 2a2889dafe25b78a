// `gfn sample` and `gfn eval`: use a trained checkpoint. sample prints N sampled objects with their
// log rewards; eval prints the exact metrics of the policy (enumerable environments), the test-set
// rank correlation (BitSeq) and the modes found among N samples. Both refuse, before drawing anything,
// N samples that would not fit in memory (--max-memory, as for gfn train).
#include <cmath>
#include <cstdio>
#include <set>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "cli/run_report.hpp"
#include "cli/settings_flags.hpp"
#include "core/run/memory_estimate.hpp"
#include "util/json.hpp"

namespace gfn::cli {

namespace {

struct UseOptions {
  std::string checkpoint;
  int n = 10;
  uint64_t seed = 0;
  bool json = false;
  RunSettings local;  // --max-memory
};

// The checkpoint's session, refused (MemoryExceeded) when it and the N trajectories drawn at once
// would exceed --max-memory.
std::unique_ptr<Session> load_for_sampling(const UseOptions& options) {
  auto run = load_session(options.checkpoint, options.local.max_memory);
  MemoryEstimate estimate = estimate_memory(run->settings(), run->env());
  estimate.parts.push_back(sampling_memory(run->env(), options.n, "--n " + std::to_string(options.n)));
  check_memory(estimate, options.local.max_memory);
  return run;
}

void run_sample(const UseOptions& options) {
  const auto run = load_for_sampling(options);
  const Environment& env = run->env();
  const auto states = run->sample_terminal_states(options.n, options.seed);
  if (options.json) std::printf("{\"samples\": [");
  for (size_t i = 0; i < states.size(); ++i) {
    const std::string text = env.state_string(states[i].data());
    const double log_reward = env.log_reward(states[i].data());
    if (options.json)
      std::printf("%s%s", i ? ", " : "", JsonObject().add("state", text).add("log_reward", log_reward).str().c_str());
    else
      std::printf("%s  log R = %.6g\n", text.c_str(), log_reward);
  }
  if (options.json) std::printf("]}\n");
}

void run_eval(const UseOptions& options) {
  const auto run = load_for_sampling(options);
  const Environment& env = run->env();
  JsonObject json;
  json.add("environment", env.name()).add("iteration", (long long)run->trainer().iteration());
  const bool bitseq = run->metric_traits().test_set;
  Progress progress(0, 0, /*quiet=*/false);
  SessionHooks hooks;
  hooks.status = [&progress](const std::string& what) { progress.note("evaluating: " + what); };
  run->set_hooks(hooks);
  const MetricsRow row = run->enumeration() || bitseq ? run->evaluate() : MetricsRow{};
  progress.finish();
  if (bitseq) json.add("spearman", row.spearman);
  if (std::isfinite(row.spearman_pb)) json.add("spearman_pb", row.spearman_pb);
  if (run->enumeration()) {
    json.add("l1_exact", row.l1_exact).add("jsd_exact", row.jsd_exact).add("kl_exact", row.kl_exact);
    json.add("true_log_z", run->enumeration()->log_z());
    if (run->trainer().model().has_log_z()) json.add("log_z", double(run->trainer().model().log_z_value()));
  }
  std::set<int64_t> modes;
  for (const auto& state : run->sample_terminal_states(options.n, options.seed)) {
    const int64_t mode = env.mode_of(state.data());
    if (mode >= 0) modes.insert(mode);
  }
  json.add("samples", options.n).add("modes_in_samples", (long long)modes.size());
  json.add("n_modes", (long long)env.n_modes());
  if (options.json) {
    std::printf("%s\n", json.str().c_str());
    return;
  }
  std::printf("%s at iteration %lld\n", env.name().c_str(), (long long)run->trainer().iteration());
  if (bitseq) std::printf("  test-set Spearman %.4f (uniform fill orders)\n", row.spearman);
  if (std::isfinite(row.spearman_pb)) std::printf("  test-set Spearman %.4f (fill orders from P_B)\n", row.spearman_pb);
  if (run->enumeration()) {
    std::printf("  exact L1 %.6g   JSD %.6g   KL %.6g\n", row.l1_exact, row.jsd_exact, row.kl_exact);
    if (run->trainer().model().has_log_z())
      std::printf("  log Z %.6f (true %.6f)\n", double(run->trainer().model().log_z_value()),
                  run->enumeration()->log_z());
  }
  if (env.provides(Capability::Modes))
    std::printf("  modes among %d samples: %zu of %lld\n", options.n, modes.size(), (long long)env.n_modes());
}

CLI::App* add_use_command(CLI::App& app, const std::string& name, const std::string& description,
                          UseOptions& options, int default_n) {
  options.n = default_n;
  CLI::App* command = app.add_subcommand(name, description);
  // Not checked here: the checkpoint reader refuses a missing or unusable file (a runtime failure).
  command->add_option("--checkpoint", options.checkpoint, "checkpoint.bin written by gfn train --out")->required();
  add_number_option(command, "--n", options.n, "Number of samples", 1, 1e8);
  add_number_option(command, "--seed", options.seed, "Sampling seed", 0, INFINITY);
  command->add_flag("--json", options.json, "Print JSON on stdout");
  add_setting_flags(command, options.local, [](const Setting& setting) { return setting.key == "max_memory"; });
  return command;
}

}  // namespace

void add_sample_command(CLI::App& app) {
  auto options = std::make_shared<UseOptions>();
  add_use_command(app, "sample", "Print objects sampled from a trained checkpoint", *options, 10)
      ->callback([options] { run_sample(*options); });
}

void add_eval_command(CLI::App& app) {
  auto options = std::make_shared<UseOptions>();
  add_use_command(app, "eval", "Evaluate a trained checkpoint (exact metrics where enumerable)", *options, 10000)
      ->callback([options] { run_eval(*options); });
}

}  // namespace gfn::cli
