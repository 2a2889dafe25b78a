// gemm: the dense matrix products of the tape (and of benchmarks that compare against it):
// c = op(a) op(b) or c += op(a) op(b) on row-major maps, through Eigen's kernels. op(x) is x or its
// transpose, read in place (a transposed row-major matrix is a column-major one), never copied.
//
// Unlike an Eigen product expression it does not allocate: Eigen's blocked kernel packs its operands
// into buffers that it heap-allocates once they exceed 128 KB (any 256 x 256 float product) and frees
// after every call, which on glibc can mean mmap/munmap and page faults per product. Here they come
// from a caller-owned workspace that grows once and is then reused, its two halves staggered
// (docs/performance.md). Relies on Eigen 3.4 internals (level3_blocking, general_matrix_matrix_product).
//
// Called outside an OpenMP parallel region, a product of at least 4 MFLOP is split by output columns
// over the OpenMP threads (a single block of a batch is not parallel otherwise), at boundaries where
// the kernel starts a new register panel anyway: every entry is computed exactly as on one thread.
// Thread contract: one workspace per thread (each tape owns one); the helper threads of a split
// product pack into their own thread-local workspaces.
#pragma once

#include "autodiff/matrix.hpp"

namespace gfn {

// a: M x K (K x M if transpose_a), b: K x N (N x K if transpose_b), c: M x N.
template <typename Scalar>
void gemm(ConstMatrixMap<Scalar> a, bool transpose_a, ConstMatrixMap<Scalar> b, bool transpose_b,
          MatrixMap<Scalar> c, bool accumulate, FlatVector<Scalar>& workspace);

// The right operand b (K x N, row-major) of products c += a b that repeat with the same b, packed once
// in the layout Eigen's kernel reads (blocks of 480 columns by 256 rows of b, as gemm() packs them on
// every call). A rollout multiplies the same weights by a few rows per step for tens of steps, and
// packing a 256 x 256 weight matrix costs about a fifth of multiplying it by 16 rows
// (docs/performance.md, section 8). The packed copy is valid while b's values do not change.
template <typename Scalar>
class PackedOperand {
 public:
  void pack(ConstMatrixMap<Scalar> b);  // keeps b's address: it must outlive this packed copy
  const Scalar* source() const { return source_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  const Scalar* block(int64_t first_col, int64_t first_row, int64_t block_cols) const {  // packed block
    return packed_.data() + first_col * rows_ + first_row * block_cols;
  }

 private:
  const Scalar* source_ = nullptr;
  int64_t rows_ = 0, cols_ = 0;
  FlatVector<Scalar> packed_;  // rows_ x cols_ values, block after block, grown only
};

// c += a b with b packed: bit for bit gemm(a, false, b, false, c, true, workspace), on the same threads.
template <typename Scalar>
void gemm(ConstMatrixMap<Scalar> a, const PackedOperand<Scalar>& b, MatrixMap<Scalar> c,
          FlatVector<Scalar>& workspace);

// The threads gemm() uses for an M x K x N product called here (1 inside a parallel region, without
// OpenMP, or for products that take the small-product paths or are below the split size).
int gemm_threads(int64_t rows, int64_t cols, int64_t depth);

}  // namespace gfn
