// run_command_line: the whole `gfn` command (train, sample, eval, info, experiment, demo) as one
// function, so that a program of your own can be a `gfn` that also knows your environment:
//
//   int main(int argc, char** argv) {
//     gfn::register_environment("motif", [](const gfn::EnvConfig&) { return std::make_unique<Motif>(); });
//     return gfn::cli::run_command_line(argc, argv);   // then: ./my_gfn train --env motif ...
//   }
//
// Returns the process exit code. Not thread-safe (it installs signal handlers for interrupted runs).
#pragma once

namespace gfn::cli {

int run_command_line(int argc, char** argv);

}  // namespace gfn::cli
