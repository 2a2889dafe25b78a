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

// Runs part(first, count, workspace) on the columns [first, first + count) of a product with `cols`
// output columns, split over split_parts() threads as described above (one call on this thread when
// that is 1). The calling thread packs into `workspace`, the others into their own thread-local one.
template <typename Scalar, typename Part>
void split_by_columns(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth, FlatVector<Scalar>& workspace,
                      const Part& part) {
  const int parts = split_parts(rows, cols, depth);
  if (parts == 1) {
    part(0, cols, workspace);
    return;
  }
#ifdef _OPENMP  // else split_parts() is 1
  const Eigen::Index unit = cols > kColsBlock ? kColsBlock : kPanel;
  const Eigen::Index width = (cols / parts + unit - 1) / unit * unit;
#pragma omp parallel num_threads(parts)
  {
    static thread_local FlatVector<Scalar> own_workspace;
    const int index = omp_get_thread_num();
    const Eigen::Index first = std::min(cols, index * width);
    const Eigen::Index count = index + 1 == parts ? cols - first : std::min(width, cols - first);
    if (count > 0) part(first, count, index == 0 ? workspace : own_workspace);
  }
#endif
}

template <typename Scalar, int LhsOrder, int RhsOrder>
void product(ConstMatrixMap<Scalar> a, ConstMatrixMap<Scalar> b, MatrixMap<Scalar> c, Eigen::Index depth,
             FlatVector<Scalar>& workspace) {
  split_by_columns(c.rows(), c.cols(), depth, workspace,
                   [&](Eigen::Index first, Eigen::Index count, FlatVector<Scalar>& part_workspace) {
                     blocked_product<Scalar, LhsOrder, RhsOrder>(a, b, c, depth, first, count, part_workspace);
                   });
}

// Eigen's pieces of the product above for c = a b, both row-major: it runs as the column-major
// product c^T = b^T a^T, so Eigen's left operand (packed by PackLeft, in panels of the kernel's
// register height) is b, and its right operand a.
template <typename Scalar>
struct Kernel {
  using Index = Eigen::Index;
  using Traits = Eigen::internal::gebp_traits<Scalar, Scalar>;
  using Mapper = Eigen::internal::const_blas_data_mapper<Scalar, Index, Eigen::ColMajor>;
  using ResultMapper = Eigen::internal::blas_data_mapper<Scalar, Index, Eigen::ColMajor, Eigen::Unaligned, 1>;
  using PackLeft = Eigen::internal::gemm_pack_lhs<Scalar, Index, Mapper, Traits::mr, Traits::LhsProgress,
                                                  typename Traits::LhsPacket4Packing, Eigen::ColMajor>;
  using PackRight = Eigen::internal::gemm_pack_rhs<Scalar, Index, Mapper, Traits::nr, Eigen::ColMajor>;
  using Panels = Eigen::internal::gebp_kernel<Scalar, Scalar, Index, ResultMapper, Traits::mr, Traits::nr, false, false>;
};

// c[:, first .. first + count) += a b[:, first .. first + count) from the packed b: the loop of Eigen's
// general_matrix_matrix_product::run (sequential case) with the same block sizes as blocked_product,
// its packing of b replaced by a lookup. `first` is 0 or a multiple of kColsBlock.
template <typename Scalar>
void packed_product(ConstMatrixMap<Scalar> a, const PackedOperand<Scalar>& b, MatrixMap<Scalar> c,
                    Eigen::Index first, Eigen::Index count, FlatVector<Scalar>& workspace) {
  using K = Kernel<Scalar>;
  const Eigen::Index rows = c.rows(), depth = b.rows();
  const Eigen::Index mc = std::min(count, kColsBlock), kc = std::min(depth, kDepthBlock),
                     nc = std::min(rows, kRowsBlock);
  if (int64_t(workspace.size()) < int64_t(kc) * nc) workspace.resize(int64_t(kc) * nc);
  const typename K::Mapper right(a.data(), a.cols());  // element (k, j) = a(j, k)
  const typename K::ResultMapper result(c.data() + first, c.cols(), 1);
  typename K::PackRight pack_right;
  typename K::Panels panels;
  const bool pack_right_once = mc != count && kc == depth && nc == rows;
  for (Eigen::Index i2 = 0; i2 < count; i2 += mc) {
    const Eigen::Index block_cols = std::min(i2 + mc, count) - i2;
    for (Eigen::Index k2 = 0; k2 < depth; k2 += kc) {
      const Eigen::Index block_depth = std::min(k2 + kc, depth) - k2;
      const Scalar* packed_b = b.block(first + i2, k2, block_cols);
      for (Eigen::Index j2 = 0; j2 < rows; j2 += nc) {
        const Eigen::Index block_rows = std::min(j2 + nc, rows) - j2;
        if (!pack_right_once || i2 == 0)
          pack_right(workspace.data(), right.getSubMapper(k2, j2), block_depth, block_rows);
        panels(result.getSubMapper(i2, j2), packed_b, workspace.data(), block_cols, block_depth, block_rows,
               Scalar(1));
      }
    }
  }
}

}  // namespace

template <typename Scalar>
void PackedOperand<Scalar>::pack(ConstMatrixMap<Scalar> b) {
  using K = Kernel<Scalar>;
  source_ = b.data();
  rows_ = b.rows();
  cols_ = b.cols();
  packed_.resize(size_t(rows_) * cols_);
  const typename K::Mapper left(b.data(), b.cols());  // element (i, k) = b(k, i)
  typename K::PackLeft pack_left;
  for (int64_t i2 = 0; i2 < cols_; i2 += kColsBlock) {
    const int64_t block_cols = std::min<int64_t>(kColsBlock, cols_ - i2);
    for (int64_t k2 = 0; k2 < rows_; k2 += kDepthBlock) {
      const int64_t block_depth = std::min<int64_t>(kDepthBlock, rows_ - k2);
      pack_left(packed_.data() + i2 * rows_ + k2 * block_cols, left.getSubMapper(i2, k2), block_depth, block_cols);
    }
  }
}

// Products gemm() would not run through the blocked kernel, or would split inside a column block,
// go through gemm() itself with b's values; the rest split as product() splits them, at column blocks.
template <typename Scalar>
void gemm(ConstMatrixMap<Scalar> a, const PackedOperand<Scalar>& b, MatrixMap<Scalar> c,
          FlatVector<Scalar>& workspace) {
  const Eigen::Index rows = c.rows(), cols = c.cols(), depth = b.rows();
  assert(a.rows() == rows && a.cols() == depth && b.cols() == cols);
  if (small_product(rows, cols, depth) || (split_parts(rows, cols, depth) > 1 && cols <= kColsBlock)) {
    gemm(a, false, ConstMatrixMap<Scalar>(b.source(), depth, cols), false, c, true, workspace);
    return;
  }
  split_by_columns(rows, cols, depth, workspace,
                   [&](Eigen::Index first, Eigen::Index count, FlatVector<Scalar>& part_workspace) {
                     packed_product(a, b, c, first, count, part_workspace);
                   });
}

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
template class PackedOperand<float>;
template class PackedOperand<double>;
template void gemm(ConstMatrixMap<float>, const PackedOperand<float>&, MatrixMap<float>, FlatVector<float>&);
template void gemm(ConstMatrixMap<double>, const PackedOperand<double>&, MatrixMap<double>, FlatVector<double>&);

}  // namespace gfn
