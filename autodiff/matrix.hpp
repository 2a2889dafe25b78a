// Matrix types shared by the autodiff and the networks.
//
// Storage order, once for the whole library: matrices are ROW-MAJOR, and a batch is B rows (one row
// per state, transition or trajectory). A linear layer's weight is In x Out, so a layer is x * W + b.
// Dimension letters used in shape comments everywhere: B batch rows, S state width, A forward actions,
// H hidden width, I input width, K active inputs of a sparse encoding, T steps, N transitions.
#pragma once

#include <Eigen/Core>
#include <vector>

namespace gfn {

template <typename Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <typename Scalar>
using MatrixMap = Eigen::Map<Matrix<Scalar>>;

template <typename Scalar>
using ConstMatrixMap = Eigen::Map<const Matrix<Scalar>>;

// Flat storage aligned for SIMD (parameters, gradients, optimiser moments, tape arenas).
template <typename Scalar>
using FlatVector = std::vector<Scalar, Eigen::aligned_allocator<Scalar>>;

// Arena layout rule: every buffer starts on a 64-byte boundary and one extra cache line after the
// previous one, so buffers of equal power-of-two sizes do not alias in the cache (docs/performance.md:
// aliasing costs up to 4x in GEMM).
template <typename Scalar>
inline int64_t staggered_offset(int64_t end_of_previous) {
  constexpr int64_t line = 64 / sizeof(Scalar);
  return (end_of_previous + line - 1) / line * line + line;
}

}  // namespace gfn
