// `gfn train`: trains a GFlowNet with the flags of RunOptions, optionally resuming from a checkpoint,
// and writes the run's files with --out. One summary at the end (JSON with --json).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "cli/commands.hpp"
#include "cli/run.hpp"

namespace gfn::cli {

namespace {

// Every setting saved in a checkpoint except iters defines the run: a flag given together with
// --resume must agree with it. The flag of setting "a_b" is --a-b (settings without a flag, such as
// BitSeq's beta, cannot be given).
void check_resume_flags(const CLI::App& command, const RunOptions& given, const RunOptions& saved) {
  const auto given_settings = RunOptions::settings(given.to_text());
  for (const auto& [key, saved_value] : RunOptions::settings(saved.to_text())) {
    if (key == "iters") continue;
    std::string flag = "--" + key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    const CLI::Option* option = command.get_option_no_throw(flag);
    const std::string& given_value = given_settings.at(key);
    if (option != nullptr && option->count() > 0 && given_value != saved_value)
      throw std::invalid_argument(flag + " " + given_value + " does not match the checkpoint (" + saved_value + ")");
  }
}

// Fails early, before any training, when --out cannot be written.
void check_output_directory(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  const std::string probe = dir + "/.gfn-write-test";
  std::FILE* file = std::fopen(probe.c_str(), "w");
  if (error || !file) throw std::invalid_argument("--out: cannot write to directory '" + dir + "'");
  std::fclose(file);
  std::remove(probe.c_str());
}

void print_summary(Run& run) {
  const RunOptions& options = run.options();
  const auto& history = run.history();
  const EvaluationRow last = history.empty() ? EvaluationRow{} : history.back();
  std::printf("trained %s with %s (P_B %s) to iteration %lld: %lld trajectories, %lld transitions, %.2f s, "
              "%.0f transitions/s\n",
              run.env().name().c_str(), options.loss.c_str(), options.pb.c_str(),
              (long long)run.trainer().iteration(), (long long)last.trajectories, (long long)last.transitions,
              last.wall_s, last.wall_s > 0 ? last.transitions / last.wall_s : 0.0);
  std::printf("  loss %.6g", last.loss);
  if (run.trainer().model().has_log_z())
    std::printf("   log Z %.6f", double(run.trainer().model().log_z_value()));
  if (run.enumeration()) std::printf(" (true %.6f)", run.enumeration()->log_z());
  std::printf("\n");
  if (run.enumeration())
    std::printf("  exact L1 %.6g   JSD %.6g   KL %.6g   empirical L1 %.6g (sum over states; mean %.3g)\n",
                last.l1_exact, last.jsd_exact, last.kl_exact, last.l1_empirical, last.l1_empirical_mean);
  std::printf("  modes found %lld of %lld\n", (long long)last.modes_found, (long long)run.env().n_modes());
}

void run_train(CLI::App* command, RunOptions given) {
  RunOptions options = given;
  Checkpoint checkpoint;
  if (!given.resume.empty()) {
    checkpoint = Checkpoint::load(given.resume);
    options = RunOptions::from_text(checkpoint.config);
    check_resume_flags(*command, given, options);
    if (command->count("--iters") > 0) options.iterations = given.iterations;
    if (options.iterations < checkpoint.iteration)
      throw std::invalid_argument("--iters " + std::to_string(options.iterations) +
                                  " is below the checkpoint's iteration " + std::to_string(checkpoint.iteration));
    options.threads = given.threads;
    options.out = given.out;
    options.json = given.json;
    options.quiet = given.quiet;
  }
  options.validate();
  if (!options.out.empty()) check_output_directory(options.out);
  Run run(options);
  if (!given.resume.empty()) run.restore(checkpoint);
  run.train();
  if (!options.out.empty()) run.write_outputs(options.out);
  if (options.json) {
    std::printf("%s\n", run.summary_json().c_str());
    return;
  }
  print_summary(run);
  if (!options.out.empty())
    std::printf("  wrote %s/{config.json, metrics.csv, checkpoint.bin, curve.svg%s}\n", options.out.c_str(),
                std::filesystem::exists(options.out + "/heatmap.svg") ? ", heatmap.svg" : "");
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand("train", "Train a GFlowNet sampler");
  add_run_flags(command, *options);
  command->add_option("--out", options->out,
                      "Write config.json, metrics.csv, checkpoint.bin, curve.svg (and heatmap.svg) here");
  command->add_option("--resume", options->resume, "Continue a run from its checkpoint up to --iters");
  command->add_flag("--json", options->json, "Print one JSON summary on stdout");
  command->add_flag("--quiet", options->quiet, "No progress output");
  command->callback([command, options] { run_train(command, *options); });
}

}  // namespace gfn::cli
