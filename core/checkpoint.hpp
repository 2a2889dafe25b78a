// Checkpoint: a versioned binary snapshot of a training run.
//
// Layout (little-endian): magic "GFNCKPT1", u32 version, then length-prefixed sections: the run's
// configuration as text (opaque here: the command line writes key=value lines), the iteration, named
// float arrays (parameters, optimiser moments, target networks) and named int64 arrays (optimiser
// steps, evaluation state), then an FNV-1a 64-bit checksum of everything before it. The random
// state is implied: streams are keyed by (seed, iteration), and the seed is in the configuration.
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

  std::string config;  // the run's settings, as text
  int64_t iteration = 0;
  std::map<std::string, FlatVector<float>> floats;
  std::map<std::string, std::vector<int64_t>> integers;

  // The named array, or a one-line error naming the file's missing section.
  const FlatVector<float>& float_array(const std::string& name) const;
  const std::vector<int64_t>& integer_array(const std::string& name) const;

  void save(const std::string& path) const;
  static Checkpoint load(const std::string& path);

 private:
  std::string path_;  // where it was loaded from, for error messages
};

}  // namespace gfn
