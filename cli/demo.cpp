// `gfn demo`: the original 16x16 Grid demo (docs/environments.md): trajectory balance with an MLP of one
// hidden layer of 32, Adam lr 5e-3, 256 trajectories per step, 1000 steps. Prints an ASCII heat map
// of 10^4 samples beside the reward map, the exact L1 and log Z against the truth, and writes the
// run's files (curve.svg, heatmap.svg, ...) to --out.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "cli/run_report.hpp"
#include "cli/settings_flags.hpp"

namespace gfn::cli {

namespace {

constexpr int kSide = 16;

// One character per cell, darker for larger values (relative to the map's maximum).
std::vector<std::string> ascii_map(const std::vector<double>& values) {
  static const std::string ramp = " .:-=+*#%@";
  const double maximum = std::max(*std::max_element(values.begin(), values.end()), 1e-300);
  std::vector<std::string> lines(kSide);
  for (int r = 0; r < kSide; ++r)
    for (int c = 0; c < kSide; ++c) {
      const int level = int(values[r * kSide + c] / maximum * (ramp.size() - 1) + 0.5);
      lines[r] += std::string(2, ramp[level]);
    }
  return lines;
}

struct DemoOptions {
  RunSettings settings;
  std::string out = "gfn-demo";
  bool quiet = false, force = false;
};

void run_demo(const DemoOptions& demo) {
  RunSettings options = demo.settings;
  options.env = "grid";
  options.loss = "tb";
  options.policy = "mlp";
  options.hidden = 32;
  options.layers = 1;
  options.lr = 5e-3;
  options.batch = 256;
  options.iters = 1000;
  options.epsilon = 0;  // on-policy, as in the original demo
  options.uniform_ratio = 0;
  std::printf("Grid demo: 16x16 grid, R0 = 0.01, R1 = 0.5, R2 = 2; trajectory balance, MLP 256-32-3, Adam lr 5e-3,\n"
              "256 trajectories per step, 1000 steps\n");
  Session run(options);
  if (!demo.out.empty()) {
    // A previous demo there is replaced (as a resumed run would be); a run of anything else is refused.
    claim_output_directory(demo.out, run.settings(), /*resuming=*/true, demo.force);
    run.write_to(demo.out);
  }
  Progress progress(0, options.iters, demo.quiet);
  SessionHooks hooks;
  hooks.after_iteration = [&progress](const Session& session) { progress.update(session.trainer().iteration(), ""); };
  run.set_hooks(hooks);
  run.train();
  progress.finish();
  if (!demo.out.empty()) write_plots(run);

  std::vector<double> sampled(kSide * kSide, 0.0);
  for (const auto& state : run.sample_terminal_states(10000, 0)) sampled[run.env().state_index(state.data())] += 1;
  const auto left = ascii_map(sampled);
  const auto right = ascii_map(run.enumeration()->true_distribution());
  std::printf("\n  %-34s    %s\n", "10^4 samples from the trained P_F", "reward R(x)");
  for (int r = 0; r < kSide; ++r) std::printf("  %s    %s\n", left[r].c_str(), right[r].c_str());

  const MetricsRow& last = run.history().back();
  std::printf("\nexact L1 between the sampler and R/Z: %.2e (1000 steps, %.1f s)\n", last.l1_exact, last.wall_s);
  std::printf("log Z learned %.4f, true %.4f\n", double(run.trainer().model().log_z_value()),
              run.enumeration()->log_z());
  if (!demo.out.empty())
    std::printf("plots: %s/heatmap.svg (samples beside the target) and %s/curve.svg (loss and L1)\n",
                demo.out.c_str(), demo.out.c_str());
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto options = std::make_shared<DemoOptions>();
  CLI::App* demo = app.add_subcommand("demo", "Train the 16x16 Grid demo and show where it samples");
  demo->add_option("--out", options->out, "Directory for the plots, metrics and checkpoint")->capture_default_str();
  add_setting_flags(demo, options->settings,
                    [](const Setting& setting) { return setting.key == "seed" || setting.key == "threads"; });
  demo->add_flag("--quiet", options->quiet, "No progress output");
  demo->add_flag("--force", options->force, "Overwrite a run of another configuration in --out");
  demo->callback([options] { run_demo(*options); });
}

}  // namespace gfn::cli
