// same_run A.bin B.bin: exit 0 when two checkpoints hold the same run bit for bit (parameters,
// optimiser state, P_B networks, replay buffer, evaluation state, metrics history), wall-clock times
// aside; otherwise prints the first difference and exits 1. For the MPI tests (tests/mpi/mpi_runs.sh).
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/network/checkpoint.hpp"

namespace {

// Names the first array of `a` whose bytes differ from (or are missing in) `b`; empty when none.
template <typename Array>
std::string first_difference(const std::map<std::string, Array>& a, const std::map<std::string, Array>& b) {
  for (const auto& [name, values] : a) {
    if (name == "history.wall_s") continue;  // wall-clock times
    const size_t skipped = name == "session.sums" ? 1 : 0;  // {wall_s, loss_sum}
    const auto other = b.find(name);
    if (other == b.end()) return name + " (missing in the second)";
    if (other->second.size() != values.size() || values.size() < skipped) return name + " (length)";
    if (std::memcmp(values.data() + skipped, other->second.data() + skipped,
                    sizeof(values[0]) * (values.size() - skipped)) != 0)
      return name;
  }
  return a.size() == b.size() ? "" : "the set of arrays";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: same_run A.bin B.bin\n");
    return 2;
  }
  try {
    const gfn::Checkpoint a = gfn::Checkpoint::load(argv[1]), b = gfn::Checkpoint::load(argv[2]);
    std::string difference = a.config != b.config ? "config" : a.iteration != b.iteration ? "iteration" : "";
    if (difference.empty()) difference = first_difference(a.floats, b.floats);
    if (difference.empty()) difference = first_difference(a.integers, b.integers);
    if (difference.empty()) difference = first_difference(a.doubles, b.doubles);
    // The loss history must be there to be compared.
    if (difference.empty() && a.doubles.at("history.train_loss").empty()) difference = "history.train_loss (empty)";
    if (difference.empty()) return 0;
    std::fprintf(stderr, "same_run: %s and %s differ in %s\n", argv[1], argv[2], difference.c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "same_run: %s\n", error.what());
  }
  return 1;
}
