// gemm: small and matrix-vector products go through Eigen's own expressions (coefficient-based or
// GEMV: no large buffers); the rest through Eigen's blocked kernel with workspace packing buffers.
#include "autodiff/gemm.hpp"

#include <algorithm>
#include <cassert>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace gfn {

namespace {

// Eigen's level3_blocking with its packing buffers in `workspace` (Eigen's own gemm_blocking_space
// allocates them). A row-major product runs as the transposed column-major one, so Eigen's M is our
// cols and its N our rows. The block sizes are ours, min(dimension, cap), not Eigen's cache heuristic:
// the heuristic is not monotone (on a 32 KB L1 it blocks a depth of 300 as 2 x 152 but runs a depth of
// 250 whole), so a smaller product could need a larger workspace than a larger one, and a warmed-up
// step could allocate. With capped sizes the workspace a product needs grows with each dimension.
// kc x mc of A (256 x 480 floats: 480 KB) stays in L2, kc x nc of B (4 MB) in L3.
constexpr Eigen::Index kDepthBlock = 256, kColsBlock = 480, kRowsBlock = 4096;

template <typename Scalar>
class WorkspaceBlocking : public Eigen::internal::level3_blocking<Scalar, Scalar> {
 public:
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

// c[:, first .. first + count) += a op(b)[:, first .. first + count): columns of c and of op(b) only
// (Eigen's rows), the leading dimensions those of the full row-major storage.
template <typename Scalar, int LhsOrder, int RhsOrder>
void blocked_product(ConstMatrixMap<Scalar> a, ConstMatrixMap<Scalar> b, MatrixMap<Scalar> c, Eigen::Index depth,
                     Eigen::Index first, Eigen::Index count, FlatVector<Scalar>& workspace) {
  WorkspaceBlocking<Scalar> blocking(c.rows(), count, depth, workspace);
  const Scalar* b_columns = b.data() + first * (RhsOrder == Eigen::ColMajor ? b.cols() : 1);
  Eigen::internal::general_matrix_matrix_product<Eigen::Index, Scalar, LhsOrder, false, Scalar, RhsOrder,
                                                 false, Eigen::RowMajor, 1>::run(c.rows(), count, depth,
                                                                                 a.data(), a.cols(), b_columns,
                                                                                 b.cols(), c.data() + first, 1,
                                                                                 c.cols(), Scalar(1),
                                                                                 blocking);
}

// Splitting a product by output columns across threads leaves every entry computed exactly as
// unsplit if each part starts where Eigen's kernel starts a panel anyway: at a multiple of the
// widest register panel (48 = 3 AVX-512 float packets, a multiple of AVX2's 24) within a column
// block, and at a multiple of the column block when there are several. Only products of at least
// kSplitFlops are split: below that, waking the second thread costs more than it saves.
constexpr Eigen::Index kPanel = 48;
constexpr double kSplitFlops = 4e6;

bool small_product(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) {
  return rows + cols + depth < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD || rows == 1 || cols == 1 || depth == 0;
}

int split_parts(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) {
#ifdef _OPENMP
  if (small_product(rows, cols, depth) || omp_in_parallel() || 2.0 * rows * cols * depth < kSplitFlops) return 1;
  const Eigen::Index unit = cols > kColsBlock ? kColsBlock : kPanel;
  return int(std::min<Eigen::Index>(omp_get_max_threads(), (cols + unit - 1) / unit));
#else
  (void)rows, (void)cols, (void)depth;
  return 1;
#endif
}

// The blocked product, split by columns over `parts` threads (one serial call when parts is 1). The
// calling thread packs into `workspace`, the others into their own thread-local one.
template <typename Scalar, int LhsOrder, int RhsOrder>
void product(ConstMatrixMap<Scalar> a, ConstMatrixMap<Scalar> b, MatrixMap<Scalar> c, Eigen::Index depth,
             FlatVector<Scalar>& workspace) {
  const Eigen::Index cols = c.cols();
  const int parts = split_parts(c.rows(), cols, depth);
  if (parts == 1) {
    blocked_product<Scalar, LhsOrder, RhsOrder>(a, b, c, depth, 0, cols, workspace);
    return;
  }
#ifdef _OPENMP  // else split_parts() is 1
  const Eigen::Index unit = cols > kColsBlock ? kColsBlock : kPanel;
  const Eigen::Index width = (cols / parts + unit - 1) / unit * unit;
#pragma omp parallel num_threads(parts)
  {
    static thread_local FlatVector<Scalar> own_workspace;
    const int part = omp_get_thread_num();
    const Eigen::Index first = std::min(cols, part * width);
    const Eigen::Index count = part + 1 == parts ? cols - first : std::min(width, cols - first);
    if (count > 0)
      blocked_product<Scalar, LhsOrder, RhsOrder>(a, b, c, depth, first, count, part == 0 ? workspace : own_workspace);
  }
#endif
}

}  // namespace

template <typename Scalar>
void gemm(ConstMatrixMap<Scalar> a, bool transpose_a, ConstMatrixMap<Scalar> b, bool transpose_b,
          MatrixMap<Scalar> c, bool accumulate, FlatVector<Scalar>& workspace) {
  const Eigen::Index rows = c.rows(), cols = c.cols(), depth = transpose_a ? a.rows() : a.cols();
  assert((transpose_a ? a.cols() : a.rows()) == rows && (transpose_b ? b.rows() : b.cols()) == cols);
  assert((transpose_b ? b.cols() : b.rows()) == depth);
  // Eigen's own dispatch rule: tiny products coefficient by coefficient, vectors by GEMV.
  if (small_product(rows, cols, depth)) {
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
  if (transpose_a && transpose_b) product<Scalar, col, col>(a, b, c, depth, workspace);
  if (transpose_a && !transpose_b) product<Scalar, col, row>(a, b, c, depth, workspace);
  if (!transpose_a && transpose_b) product<Scalar, row, col>(a, b, c, depth, workspace);
  if (!transpose_a && !transpose_b) product<Scalar, row, row>(a, b, c, depth, workspace);
}

int gemm_threads(int64_t rows, int64_t cols, int64_t depth) { return split_parts(rows, cols, depth); }

template void gemm(ConstMatrixMap<float>, bool, ConstMatrixMap<float>, bool, MatrixMap<float>, bool,
                   FlatVector<float>&);
template void gemm(ConstMatrixMap<double>, bool, ConstMatrixMap<double>, bool, MatrixMap<double>, bool,
                   FlatVector<double>&);

}  // namespace gfn
