// Memory estimate of a training run, computed from its settings and its environment before anything
// large is allocated, so that a run that cannot fit is refused in one line instead of being killed by
// the system minutes later. Not a measurement: an estimate from the sizes of the run's buffers (counted
// below), checked against the measured peak resident memory of real runs in
// tests/core/run/test_memory_estimate.cpp.
//
// Parts (each with the flags that drive it):
//   program                the binary, its libraries and the embedded data (a constant)
//   parameters and Adam    P parameters, 2 Adam moments, target copies   (--hidden, --layers)
//   block gradients        one P-sized gradient per block of trajectories  (--batch, --hidden)
//   block tapes            values and gradients of every node for a block's rows (--batch, --hidden)
//   rollout                the batch's states and actions, staged and final (--batch)
//   enumeration            all states, exact P_T by dynamic programming, the visit window (environment size)
//   rank correlation       BitSeq's test-set log P_T estimates: fill orders and evaluation tapes (--n, --k)
//   replay                 terminal objects or transitions kept for replay (--replay-capacity)
//   sampled trajectories   `gfn sample` and `gfn eval` only: the trajectories drawn at once (--n)
//
//   MemoryEstimate estimate = estimate_memory(settings, env);   // settings with defaults resolved
//   check_memory(estimate, settings.max_memory);                // throws MemoryExceeded
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "core/run/settings.hpp"

namespace gfn {

struct MemoryPart {
  std::string name;   // e.g. "block tapes"
  std::string flags;  // what drives it, with the run's values: "--batch 64, --hidden 256"
  double bytes = 0;
};

struct MemoryEstimate {
  std::vector<MemoryPart> parts;
  double total_bytes() const;
  const MemoryPart& largest() const;
};

// The run's memory by part. `settings` must have its automatic defaults resolved (resolve_defaults).
MemoryEstimate estimate_memory(const RunSettings& settings, const Environment& env);

// The trajectories of `n` samples drawn at once from a run's model (Sampler::sample, then the terminal
// states kept): added to the run's estimate by `gfn sample` and `gfn eval`, `flags` naming what sets n.
MemoryPart sampling_memory(const Environment& env, double n, const std::string& flags);

// MemAvailable of /proc/meminfo in bytes, or infinity where it cannot be read.
double available_memory_bytes();

// A run that does not fit: thrown by check_memory, a runtime failure (exit code 1 in `gfn`).
class MemoryExceeded : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws MemoryExceeded when the estimate exceeds `max_memory_gib` GiB, or, when that is NaN ("auto"),
// the available memory. The message gives the estimate, its largest part and the flags that drive it.
void check_memory(const MemoryEstimate& estimate, double max_memory_gib);

// "12.3 GiB", "456 MiB", "7.89 KiB".
std::string format_bytes(double bytes);

}  // namespace gfn
