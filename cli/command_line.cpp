// The `gfn` command line as a library function (cli/command_line.hpp): parses the arguments, dispatches
// to a subcommand, and turns every failure into one line on stderr and one of the exit codes below.
//
//   0    success
//   2    usage error: an unknown flag, a malformed or out-of-range value, settings that do not fit
//        together (CLI11's parse errors and std::invalid_argument); the line names the command's --help
//   1    runtime failure: an unreadable or corrupted checkpoint, a diverged run, an I/O error, a run
//        that does not fit in memory (every other exception)
//   130  interrupted by SIGINT or SIGTERM, after saving what the run had
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>

#include "cli/command_line.hpp"
#include "cli/commands.hpp"
#include "util/parallel.hpp"

namespace gfn::cli {

namespace {

constexpr int kUsageError = 2, kRuntimeFailure = 1, kInterrupted = 130;

const char* kExitCodesHelp =
    "Exit codes: 0 success; 2 usage error (unknown flag, bad or out-of-range value; the message names the "
    "command's --help); 1 runtime failure (unreadable checkpoint, diverged run, I/O error, not enough memory); "
    "130 interrupted by Ctrl-C or SIGTERM after saving.";

// "gfn train" when the error happened in `gfn train ...`, else "gfn".
std::string command_name(const CLI::App& app) {
  const std::vector<CLI::App*> parsed = app.get_subcommands();
  return parsed.empty() ? "gfn" : "gfn " + parsed.front()->get_name();
}

int usage_error(const CLI::App& app, const std::string& what) {
  std::fprintf(stderr, "gfn: error: %s (see %s --help)\n", what.c_str(), command_name(app).c_str());
  return kUsageError;
}

int runtime_failure(const std::string& what) {
  std::fprintf(stderr, "gfn: error: %s\n", what.c_str());
  return kRuntimeFailure;
}

}  // namespace

int launched_processes() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* value = std::getenv(variable)) return std::atoi(value);
  return 0;
}

int run_command_line(int argc, char** argv) {
  prefer_passive_openmp_waits(argv);  // may re-execute the program, once (cli/command_line.hpp)
  CLI::App app{"gflownet.cpp: Generative Flow Networks on the CPU", "gfn"};
  app.set_version_flag("--version", std::string("gfn ") + GFN_VERSION);
  app.footer(kExitCodesHelp);
  app.require_subcommand(1);
  add_demo_command(app);
  add_info_command(app);
  add_train_command(app);
  add_sample_command(app);
  add_eval_command(app);
  add_experiment_command(app);
  add_baseline_command(app);
  try {
    if (argc > 1 && argv[1][0] != '-') {  // CLI11 would only say that a subcommand is required
      std::string names;
      bool known = false;
      for (const CLI::App* command : app.get_subcommands({})) {
        names += (names.empty() ? "" : ", ") + command->get_name();
        known = known || command->get_name() == argv[1];
      }
      if (!known) return usage_error(app, "unknown command '" + std::string(argv[1]) + "' (" + names + ")");
      if (std::string(argv[1]) != "train" && launched_processes() > 1)
        return usage_error(app, "only gfn train runs across processes (" + std::to_string(launched_processes()) +
                                    " started by an MPI launcher)");
    }
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {
    return usage_error(app, error.what());
  } catch (const Interrupted& interrupted) {
    std::fprintf(stderr, "gfn: %s\n", interrupted.what());
    return kInterrupted;
  } catch (const std::invalid_argument& error) {
    return usage_error(app, error.what());
  } catch (const std::bad_alloc&) {
    return runtime_failure("out of memory");
  } catch (const std::exception& error) {
    return runtime_failure(error.what());
  }
  return 0;
}

}  // namespace gfn::cli
