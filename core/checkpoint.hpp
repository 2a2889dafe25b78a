// Checkpoint: a versioned binary snapshot of a training run.
//
// Layout (little-endian): magic "GFNCKPT1", u32 version, then length-prefixed sections: the run's
// configuration as text (opaque here: the command line writes key=value lines), the iteration, all
// parameters, the Adam state (steps, learning rate per group, both moments) and named int64 arrays
// for the evaluation state (visited-state window, modes found), then an FNV-1a 64-bit checksum of
// everything before it. The random state is implied: streams are keyed by (seed, iteration), and the
// seed is in the configuration.
//
// save() writes a temporary file next to the target and renames it, so a crash never leaves a
// half-written checkpoint. load() rejects truncated, corrupted or wrong-version files with a
// one-line std::runtime_error.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "autodiff/matrix.hpp"

namespace gfn {

struct Checkpoint {
  static constexpr uint32_t kVersion = 1;

  std::string config;                 // the run's settings, as text
  int64_t iteration = 0;
  FlatVector<float> parameters;       // ParameterStore::values()
  int64_t adam_steps = 0;
  std::vector<double> learning_rates;  // per optimiser group
  FlatVector<float> first_moment, second_moment;
  std::map<std::string, std::vector<int64_t>> arrays;  // evaluation state

  void save(const std::string& path) const;
  static Checkpoint load(const std::string& path);
};

}  // namespace gfn
