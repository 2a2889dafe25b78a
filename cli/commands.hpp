// The subcommands of `gfn`: each file in cli/ registers one of them on the top-level CLI::App.
#pragma once

#include <CLI/CLI.hpp>
#include <stdexcept>

namespace gfn::cli {

void add_demo_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_sample_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_experiment_command(CLI::App& app);
void add_baseline_command(CLI::App& app);

// The processes an MPI launcher (mpirun, mpiexec) started with this one, from its environment
// (OMPI_COMM_WORLD_SIZE, PMI_SIZE); 0 when no launcher did. Only `gfn train` runs across processes.
int launched_processes();

// A run stopped by SIGINT or SIGTERM after saving what it could; `gfn` exits with 130.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace gfn::cli
