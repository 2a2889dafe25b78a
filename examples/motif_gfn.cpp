// The whole gfn command (train, sample, eval, info, experiment: metrics, plots, checkpoints) for your
// own environment: register it under a name, then hand the command line to gfn. For example
//   ./motif_gfn train --env motif --iters 500 --out run && ./motif_gfn eval --checkpoint run/checkpoint.bin
#include <memory>

#include "cli/command_line.hpp"
#include "envs/factory.hpp"
#include "motif_sequences.hpp"

int main(int argc, char** argv) {
  gfn::register_environment("motif", [](const gfn::EnvConfig&) { return std::make_unique<MotifSequences>(); });
  return gfn::cli::run_command_line(argc, argv);
}
