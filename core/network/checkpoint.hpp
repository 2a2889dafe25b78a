// Checkpoint: a versioned binary snapshot of a training run.
//
// Layout, every number little-endian whatever the host: magic "GFNCKPT1", u32 version, then
// length-prefixed sections: the run's configuration as text (opaque here: key=value lines of
// core/settings), the iteration, named float32 arrays (parameters, optimiser moments, target
// networks), named int64 arrays (optimiser steps, evaluation state) and named float64 arrays
// (learning rates, rewards, metrics history), then an FNV-1a 64-bit checksum of everything before
// it. The random state is implied: streams are keyed by (seed, iteration), and the seed is in the
// configuration.
//
// save() writes a temporary file next to the target, flushes it to disk and renames it, so a crash
// or a power cut never leaves a half-written checkpoint. load() reads only regular files below
// kMaxFileBytes, checks every declared length against the bytes left before allocating, and rejects
// truncated, corrupted or wrong-version files with a one-line std::runtime_error.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "autodiff/matrix.hpp"

namespace gfn {

// FNV-1a 64 of bytes: the checkpoint's checksum, and the fingerprints a data-parallel run compares.
uint64_t fnv1a(const char* data, size_t size);

struct Checkpoint {
  static constexpr uint32_t kVersion = 2;
  static constexpr uint64_t kMaxFileBytes = uint64_t(1) << 36;  // 64 GiB

  std::string config;  // the run's settings, as text
  int64_t iteration = 0;
  std::map<std::string, FlatVector<float>> floats;
  std::map<std::string, std::vector<int64_t>> integers;
  std::map<std::string, std::vector<double>> doubles;

  // The named array, or a one-line error naming the file's missing section.
  const FlatVector<float>& float_array(const std::string& name) const;
  const std::vector<int64_t>& integer_array(const std::string& name) const;
  const std::vector<double>& double_array(const std::string& name) const;

  void save(const std::string& path) const;
  static Checkpoint load(const std::string& path);

 private:
  std::string path_;  // where it was loaded from, for error messages
};

}  // namespace gfn
