// A gfn of one's own, as examples/motif_gfn.cpp is, for the tests of tests/cli/test_cli_custom_env.cpp:
// "motif" (examples/motif_sequences.hpp: enumerable, k-hot encoding only, a description) and
// "motif-bare" (the same without enumeration or description), then the library's command line.
#include <memory>

#include "cli/command_line.hpp"
#include "envs/factory.hpp"
#include "examples/motif_sequences.hpp"

namespace {

class BareMotif : public MotifSequences {
 public:
  std::string name() const override { return "motif-bare"; }
  std::string description() const override { return {}; }
  int64_t n_states() const override { return -1; }
};

}  // namespace

int main(int argc, char** argv) {
  gfn::register_environment("motif", [](const gfn::EnvConfig&) { return std::make_unique<MotifSequences>(); });
  gfn::register_environment("motif-bare", [](const gfn::EnvConfig&) { return std::make_unique<BareMotif>(); });
  return gfn::cli::run_command_line(argc, argv);
}
