// gemm: small and matrix-vector products go through Eigen's own expressions (coefficient-based or
// GEMV: no large buffers); the rest through Eigen's blocked kernel with workspace packing buffers.
#include "autodiff/gemm.hpp"

#include <algorithm>
#include <cassert>

namespace gfn {

namespace {

// Eigen's level3_blocking with its packing buffers in `workspace` (Eigen's own gemm_blocking_space
// allocates them). A row-major product runs as the transposed column-major one, so Eigen's M is our
// cols and its N our rows. The block sizes are ours, min(dimension, cap), not Eigen's cache heuristic:
// the heuristic is not monotone (on a 32 KB L1 it blocks a depth of 300 as 2 x 152 but runs a depth of
// 250 whole), so a smaller product could need a larger workspace than a larger one, and a warmed-up
// step could allocate. With capped sizes the workspace a product needs grows with each dimension.
// kc x mc of A (256 x 512 floats: 512 KB) stays in L2, kc x nc of B (4 MB) in L3.
template <typename Scalar>
class WorkspaceBlocking : public Eigen::internal::level3_blocking<Scalar, Scalar> {
 public:
  static constexpr Eigen::Index kDepthBlock = 256, kColsBlock = 512, kRowsBlock = 4096;

  WorkspaceBlocking(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth, FlatVector<Scalar>& workspace) {
    this->m_mc = std::min(cols, kColsBlock);
    this->m_nc = std::min(rows, kRowsBlock);
    this->m_kc = std::min(depth, kDepthBlock);
    const int64_t b_offset = staggered_offset<Scalar>(int64_t(this->m_mc) * this->m_kc);
    const int64_t end = b_offset + int64_t(this->m_kc) * this->m_nc;
    if (int64_t(workspace.size()) < end) workspace.resize(end);
    this->m_blockA = workspace.data();
    this->m_blockB = workspace.data() + b_offset;
  }
};

template <typename Scalar, int LhsOrder, int RhsOrder>
void blocked_product(ConstMatrixMap<Scalar> a, ConstMatrixMap<Scalar> b, MatrixMap<Scalar> c,
                     Eigen::Index depth, FlatVector<Scalar>& workspace) {
  WorkspaceBlocking<Scalar> blocking(c.rows(), c.cols(), depth, workspace);
  // Strides are those of the row-major storage whichever way an operand is read.
  Eigen::internal::general_matrix_matrix_product<Eigen::Index, Scalar, LhsOrder, false, Scalar, RhsOrder,
                                                 false, Eigen::RowMajor, 1>::run(c.rows(), c.cols(), depth,
                                                                                 a.data(), a.cols(), b.data(),
                                                                                 b.cols(), c.data(), 1,
                                                                                 c.cols(), Scalar(1),
                                                                                 blocking);
}

}  // namespace

template <typename Scalar>
void gemm(ConstMatrixMap<Scalar> a, bool transpose_a, ConstMatrixMap<Scalar> b, bool transpose_b,
          MatrixMap<Scalar> c, bool accumulate, FlatVector<Scalar>& workspace) {
  const Eigen::Index rows = c.rows(), cols = c.cols(), depth = transpose_a ? a.rows() : a.cols();
  assert((transpose_a ? a.cols() : a.rows()) == rows && (transpose_b ? b.rows() : b.cols()) == cols);
  assert((transpose_b ? b.cols() : b.rows()) == depth);
  // Eigen's own dispatch rule: tiny products coefficient by coefficient, vectors by GEMV.
  if (rows + cols + depth < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD || rows == 1 || cols == 1 || depth == 0) {
    auto product = [&](const auto& lhs, const auto& rhs) {
      if (accumulate) {
        c.noalias() += lhs * rhs;
      } else {
        c.noalias() = lhs * rhs;
      }
    };
    if (transpose_a && transpose_b) product(a.transpose(), b.transpose());
    if (transpose_a && !transpose_b) product(a.transpose(), b);
    if (!transpose_a && transpose_b) product(a, b.transpose());
    if (!transpose_a && !transpose_b) product(a, b);
    return;
  }
  if (!accumulate) c.setZero();  // the kernel always accumulates
  constexpr int row = Eigen::RowMajor, col = Eigen::ColMajor;
  if (transpose_a && transpose_b) blocked_product<Scalar, col, col>(a, b, c, depth, workspace);
  if (transpose_a && !transpose_b) blocked_product<Scalar, col, row>(a, b, c, depth, workspace);
  if (!transpose_a && transpose_b) blocked_product<Scalar, row, col>(a, b, c, depth, workspace);
  if (!transpose_a && !transpose_b) blocked_product<Scalar, row, row>(a, b, c, depth, workspace);
}

template void gemm(ConstMatrixMap<float>, bool, ConstMatrixMap<float>, bool, MatrixMap<float>, bool,
                   FlatVector<float>&);
template void gemm(ConstMatrixMap<double>, bool, ConstMatrixMap<double>, bool, MatrixMap<double>, bool,
                   FlatVector<double>&);

}  // namespace gfn
