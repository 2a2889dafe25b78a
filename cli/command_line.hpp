// run_command_line: the whole `gfn` command (train, sample, eval, info, experiment, demo) as one
// function, so that a program of your own can be a `gfn` that also knows your environment:
//
//   int main(int argc, char** argv) {
//     gfn::register_environment("motif", [](const gfn::EnvConfig&) { return std::make_unique<Motif>(); });
//     return gfn::cli::run_command_line(argc, argv);   // then: ./my_gfn train --env motif ...
//   }
//
// Returns the process exit code. Not thread-safe (it installs signal handlers for interrupted runs).
//
// Idle OpenMP threads sleep rather than spin (a shared machine runs two threads no slower than one):
// unless OMP_WAIT_POLICY is set, run_command_line sets it to passive and re-executes the program with
// the same arguments, once, before it parses anything (util/parallel.hpp,
// prefer_passive_openmp_waits). So call it first thing in main, after registrations only: what main
// did before it runs again in the re-executed process. Set OMP_WAIT_POLICY yourself to keep another
// policy and skip the re-execution.
#pragma once

namespace gfn::cli {

int run_command_line(int argc, char** argv);

}  // namespace gfn::cli
