// Entry point of the `gfn` command; everything it does is in cli/command_line.hpp (including the
// passive OpenMP wait policy, docs/performance.md, sections 3 and 9).
#include "cli/command_line.hpp"

int main(int argc, char** argv) { return gfn::cli::run_command_line(argc, argv); }
