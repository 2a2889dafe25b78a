// Helpers shared by the benchmark programs: medians, the forward passes a training step does, and the
// raw GEMM throughput that "fraction of raw GEMM" figures divide by (buffers staggered like the tape's
// arena, docs/performance.md).
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

#include "autodiff/matrix.hpp"
#include "core/training/trainer.hpp"

namespace gfn::bench {

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Forward-pass equivalents of one training step over its evaluated states: F in the rollout, 2F in
// backward, and F in the loss for every row it did not take from the rollout (core/training/forward_record.hpp).
inline double forward_passes(const IterationResult& result) {
  return 3.0 * result.rows + (result.rows - result.reused_rows);
}

// Raw single-thread GEMM throughput of (rows x 256) * (256 x 256) in GFLOP/s (median of 5 x 0.1 s).
inline double raw_gemm_gflops(int rows) {
  using Clock = std::chrono::steady_clock;
  const int64_t a = staggered_offset<float>(0), b = staggered_offset<float>(a + rows * 256),
                c = staggered_offset<float>(b + 256 * 256);
  FlatVector<float> arena(c + rows * 256);
  MatrixMap<float> x(arena.data() + a, rows, 256), w(arena.data() + b, 256, 256), y(arena.data() + c, rows, 256);
  x.setConstant(0.5f);
  w.setConstant(0.25f);
  std::vector<double> rates;
  for (int repeat = 0; repeat < 5; ++repeat) {
    int iterations = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    while (elapsed < 0.1) {
      y.noalias() = x * w;
      ++iterations;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    }
    rates.push_back(2.0 * rows * 256 * 256 * iterations / elapsed / 1e9);
  }
  return median(rates);
}

}  // namespace gfn::bench
