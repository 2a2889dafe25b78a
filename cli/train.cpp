// `gfn train`: parses the flags of the settings table, runs a training session (core/run/session.hpp),
// optionally resuming from a checkpoint, and prints a summary (JSON with --json). With --out the run
// is written as it goes; SIGINT or SIGTERM stops it after the current iteration with a checkpoint and
// exit code 130. Built with GFN_MPI and started by mpirun, its processes train one run together
// (core/distributed/communicator.hpp): rank 0 writes, shows progress and prints.
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "cli/run_report.hpp"
#include "cli/settings_flags.hpp"
#include "core/distributed/communicator.hpp"
#ifdef GFN_MPI
#include "core/distributed/mpi_communicator.hpp"
#endif

namespace gfn::cli {

namespace {

struct TrainOptions {
  RunSettings settings;
  std::string out, resume;
  bool json = false, quiet = false, force = false;
};

std::atomic<bool> stop_requested{false};

// The first SIGINT/SIGTERM asks the session to stop after its iteration; a second one kills at once.
extern "C" void request_stop(int signal_number) {
  stop_requested.store(true);
  std::signal(signal_number, SIG_DFL);
}

// The fingerprints every process of a data-parallel run must share: its settings, where it starts
// from, and the program itself.
Fingerprints run_fingerprints(const Session& session) {
  const std::string settings = to_text(session.settings());
  const FlatVector<float>& parameters = session.trainer().model().store().values();
  const int64_t iteration = session.trainer().iteration();
  std::ifstream binary("/proc/self/exe", std::ios::binary);
  const std::string program((std::istreambuf_iterator<char>(binary)), std::istreambuf_iterator<char>());
  return {{"configuration", fnv1a(settings.data(), settings.size())},
          {"starting point (checkpoint iteration)", uint64_t(iteration)},
          {"starting point (checkpoint parameters)",
           fnv1a(reinterpret_cast<const char*>(parameters.data()), sizeof(float) * parameters.size())},
          {"gfn binary", fnv1a(program.data(), program.size())}};
}

// The settings of the run: the flags given (a new run), or the checkpoint's settings with the flags
// that may change on resuming (then `checkpoint` holds the loaded checkpoint).
RunSettings settings_to_run(const CLI::App& command, const TrainOptions& options, Checkpoint& checkpoint) {
  const std::set<std::string> given = given_settings(command);
  if (options.resume.empty()) {
    reject_inapplicable(options.settings, given);
    return options.settings;
  }
  checkpoint = Checkpoint::load(options.resume);
  RunSettings settings = resume_settings(from_text(checkpoint.config), options.settings, given);
  if (settings.iters < checkpoint.iteration)
    throw std::invalid_argument("--iters " + std::to_string(settings.iters) +
                                " is below the checkpoint's iteration " + std::to_string(checkpoint.iteration));
  return settings;
}

// The progress line's status after an iteration: the loss and exact L1 (or modes found) of the last
// metrics row, empty before the first.
std::string progress_status(const Session& running) {
  const auto& history = running.history();
  if (history.empty()) return "";
  char text[96];
  const MetricsRow& last = history.back();
  if (std::isfinite(last.l1_exact))
    std::snprintf(text, sizeof(text), "train_loss %.4g  l1_exact %.4g", last.train_loss, last.l1_exact);
  else
    std::snprintf(text, sizeof(text), "train_loss %.4g  modes_found %lld", last.train_loss,
                  (long long)last.modes_found);
  return text;
}

// The session's hooks: the stop request on every process; the progress line on rank 0 (`lead`).
SessionHooks train_hooks(Progress& progress, bool lead) {
  SessionHooks hooks;
  hooks.stop = &stop_requested;
  if (lead) {
    hooks.after_iteration = [&progress](const Session& running) {
      progress.update(running.trainer().iteration(), progress_status(running));
    };
    hooks.status = [&progress](const std::string& what) { progress.note("evaluating: " + what); };
  }
  return hooks;
}

// Rank 0's summary of a finished run: JSON with --json, otherwise the text summary and the files written.
void print_train_summary(const Session& session, const TrainOptions& options) {
  if (options.json) {
    std::printf("%s\n", summary_json(session).c_str());
    return;
  }
  std::printf("%s", summary_text(session).c_str());
  if (!options.out.empty())
    std::printf("  wrote %s/{config.json, metrics.csv, checkpoint.bin, curve.svg%s}\n", options.out.c_str(),
                std::filesystem::exists(options.out + "/heatmap.svg") ? ", heatmap.svg" : "");
}

// One process of the run (rank 0 of 1 without MPI): every process trains; rank 0 alone writes --out,
// shows progress and prints the summary.
void train(const CLI::App& command, const TrainOptions& options, Communicator& processes) {
  const bool lead = processes.rank() == 0, distributed = processes.size() > 1;
  const bool resuming = !options.resume.empty();
  std::unique_ptr<Session> started;
  std::exception_ptr failure;  // with other processes: kept until they all know
  try {
    Checkpoint checkpoint;
    started = std::make_unique<Session>(settings_to_run(command, options, checkpoint));
    if (resuming) started->restore(checkpoint);
    if (lead && !options.out.empty()) {
      claim_output_directory(options.out, started->settings(), resuming, options.force);
      started->write_to(options.out);
    }
  } catch (...) {
    if (!distributed) throw;
    failure = std::current_exception();
  }
  if (distributed) {
    require_same_everywhere(processes, started ? run_fingerprints(*started) : Fingerprints{}, failure);
    started->set_communicator(processes);
  }
  Session& session = *started;

  Progress progress(session.trainer().iteration(), session.settings().iters, options.quiet || !lead);
  session.set_hooks(train_hooks(progress, lead));
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  const bool finished = session.train();
  if (distributed) processes.set_finished_together();  // every process left train() after the same iteration
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  progress.finish();
  if (!options.out.empty() && lead) write_plots(session);
  if (!finished) {
    const std::string where = std::to_string(session.trainer().iteration());
    if (options.out.empty())
      throw Interrupted("interrupted at iteration " + where + "; nothing saved (no --out)");
    throw Interrupted("interrupted at iteration " + where + "; checkpoint saved, continue with: gfn train --resume " +
                      options.out + "/checkpoint.bin --out " + options.out);
  }
  if (lead) print_train_summary(session, options);
}

void run_train(const CLI::App& command, const TrainOptions& options) {
#ifdef GFN_MPI
  if (!launched_by_mpi()) return train(command, options, single_process());
  MpiCommunicator world;
  try {
    train(command, options, world);
  } catch (const std::exception& error) {
    // A process failing alone while others may wait for it in a collective ends the whole job.
    if (world.size() > 1 && !world.finished_together()) {
      std::fprintf(stderr, "gfn: error: rank %d: %s\n", world.rank(), error.what());
      world.abort(1);
    }
    // A failure every process knows of: rank 0 prints it and exits with its code, the others exit
    // quietly with 0 (mpirun ends the job at the first non-zero exit, maybe before rank 0 printed).
    if (world.rank() == 0) throw;
  }
#else
  if (launched_processes() > 1)
    throw std::invalid_argument("this gfn was built without MPI: one process per run (build the release-mpi preset "
                                "to train across processes)");
  train(command, options, single_process());
#endif
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto options = std::make_shared<TrainOptions>();
  CLI::App* command = app.add_subcommand(
      "train",
      "Train a GFlowNet sampler.\nWith no flags: HyperGrid 8x8 (standard reward: R0 0.001, R1 0.5, R2 2; 4 modes in "
      "the far corners), trajectory balance, MLP 2x256, 1000 iterations of 16 trajectories, 4 of which are drawn "
      "uniformly among the cells (HyperGrid's --uniform-ratio 0.25: on-policy TB often misses the corners far from "
      "the origin; with it this run reaches exact L1 < 0.05 at each of seeds 0-9). Ctrl-C stops after the current "
      "iteration with a checkpoint (with --out) and exit code 130.");
  add_setting_flags(command, options->settings);
  command->add_option("--out", options->out,
                      "Write config.json, metrics.csv, checkpoint.bin (as the run goes), curve.svg and heatmap.svg here");
  command->add_option("--resume", options->resume, "Continue a run from its checkpoint up to --iters");
  command->add_flag("--force", options->force, "Overwrite a run already in --out");
  command->add_flag("--json", options->json, "Print one JSON summary on stdout");
  command->add_flag("--quiet", options->quiet, "No progress output");
  command->callback([command, options] { run_train(*command, *options); });
}

}  // namespace gfn::cli
