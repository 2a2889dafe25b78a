// The `gfn` command line as a library function (cli/command_line.hpp): parses the arguments and
// dispatches to a subcommand.
// Errors from bad input are reported as one line on stderr with a non-zero exit; an interrupted run
// exits with 130 after saving.
#include <cstdio>
#include <exception>

#include "cli/command_line.hpp"
#include "cli/commands.hpp"

int gfn::cli::run_command_line(int argc, char** argv) {
  CLI::App app{"gflownet.cpp: Generative Flow Networks on the CPU", "gfn"};
  app.set_version_flag("--version", std::string("gfn ") + GFN_VERSION);
  app.require_subcommand(1);
  gfn::cli::add_demo_command(app);
  gfn::cli::add_info_command(app);
  gfn::cli::add_train_command(app);
  gfn::cli::add_sample_command(app);
  gfn::cli::add_eval_command(app);
  gfn::cli::add_experiment_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {  // one line naming the flag
    std::fprintf(stderr, "gfn: error: %s (see gfn --help)\n", error.what());
    return error.get_exit_code();
  } catch (const gfn::cli::Interrupted& interrupted) {
    std::fprintf(stderr, "gfn: %s\n", interrupted.what());
    return 130;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "gfn: error: %s\n", error.what());
    return 1;
  }
  return 0;
}
