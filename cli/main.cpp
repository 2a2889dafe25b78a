// Entry point of the `gfn` command; everything it does is in cli/command_line.hpp. Idle OpenMP
// threads sleep rather than spin unless OMP_WAIT_POLICY says otherwise (util/parallel.hpp, README
// "Threads").
#include "cli/command_line.hpp"
#include "util/parallel.hpp"

int main(int argc, char** argv) {
  gfn::prefer_passive_openmp_waits(argv);
  return gfn::cli::run_command_line(argc, argv);
}
