// gemm(): every transpose combination, assign and accumulate, on shapes that take each of its paths
// (coefficient-based, GEMV, empty depth, Eigen's blocked kernel with workspace buffers, including
// sizes that split into several blocks), against plain Eigen products; the workspace is reused; and a
// product split by columns over 2 threads is bit-identical to the same product on 1; a product with
// its right operand packed once (PackedOperand) is bit-identical to gemm() on every path and thread count.
#include <doctest/doctest.h>

#include <cstring>

#include "autodiff/gemm.hpp"
#include "util/random.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace gfn {
namespace {

template <typename Scalar>
Matrix<Scalar> random_matrix(int rows, int cols, uint64_t key) {
  Rng rng = Rng::stream(5, key);
  Matrix<Scalar> m(rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m(r, c) = Scalar(2 * rng.uniform() - 1);
  return m;
}

template <typename Scalar>
void check_all_variants(int rows, int cols, int depth, double tolerance) {
  FlatVector<Scalar> workspace;
  for (bool transpose_a : {false, true})
    for (bool transpose_b : {false, true})
      for (bool accumulate : {false, true}) {
        CAPTURE(transpose_a);
        CAPTURE(transpose_b);
        CAPTURE(accumulate);
        // Stored as the transposes when read transposed.
        Matrix<Scalar> a = random_matrix<Scalar>(transpose_a ? depth : rows, transpose_a ? rows : depth, 1);
        Matrix<Scalar> b = random_matrix<Scalar>(transpose_b ? cols : depth, transpose_b ? depth : cols, 2);
        const Matrix<Scalar> start = random_matrix<Scalar>(rows, cols, 3);
        const Matrix<Scalar> op_a = transpose_a ? Matrix<Scalar>(a.transpose()) : a;
        const Matrix<Scalar> op_b = transpose_b ? Matrix<Scalar>(b.transpose()) : b;
        const Matrix<Scalar> expected = (accumulate ? start : Matrix<Scalar>::Zero(rows, cols)) + op_a * op_b;
        Matrix<Scalar> c = start;
        gemm<Scalar>(ConstMatrixMap<Scalar>(a.data(), a.rows(), a.cols()), transpose_a,
                     ConstMatrixMap<Scalar>(b.data(), b.rows(), b.cols()), transpose_b,
                     MatrixMap<Scalar>(c.data(), rows, cols), accumulate, workspace);
        CHECK((c - expected).template lpNorm<Eigen::Infinity>() <= tolerance * (1 + depth));
      }
}

TEST_CASE("autodiff: gemm matches Eigen products on every path") {
  struct Shape {
    int rows, cols, depth;
  };
  for (Shape s : {Shape{3, 4, 5}, Shape{1, 40, 30}, Shape{30, 1, 40}, Shape{6, 9, 0}, Shape{0, 7, 3},
                  Shape{40, 50, 60}, Shape{300, 290, 310}}) {
    CAPTURE(s.rows);
    CAPTURE(s.cols);
    CAPTURE(s.depth);
    check_all_variants<double>(s.rows, s.cols, s.depth, 1e-15);
  }
  check_all_variants<float>(64, 48, 96, 1e-6);
}

TEST_CASE("autodiff: gemm reuses its workspace") {
  const Matrix<float> a = random_matrix<float>(256, 256, 1), b = random_matrix<float>(256, 256, 2);
  Matrix<float> c(256, 256);
  FlatVector<float> workspace;
  auto run = [&] {
    gemm<float>(ConstMatrixMap<float>(a.data(), 256, 256), false, ConstMatrixMap<float>(b.data(), 256, 256),
                true, MatrixMap<float>(c.data(), 256, 256), false, workspace);
  };
  run();
  const size_t size = workspace.size();
  const float* data = workspace.data();
  CHECK(size > 0);
  run();
  CHECK(workspace.size() == size);
  CHECK(workspace.data() == data);
}

template <typename Scalar>
Matrix<Scalar> product_on_threads(int threads, int rows, int cols, int depth, bool transpose_a, bool transpose_b) {
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
  const Matrix<Scalar> a = random_matrix<Scalar>(transpose_a ? depth : rows, transpose_a ? rows : depth, 1);
  const Matrix<Scalar> b = random_matrix<Scalar>(transpose_b ? cols : depth, transpose_b ? depth : cols, 2);
  Matrix<Scalar> c = random_matrix<Scalar>(rows, cols, 3);
  FlatVector<Scalar> workspace;
  CHECK(gemm_threads(rows, cols, depth) == threads);
  gemm<Scalar>(ConstMatrixMap<Scalar>(a.data(), a.rows(), a.cols()), transpose_a,
               ConstMatrixMap<Scalar>(b.data(), b.rows(), b.cols()), transpose_b, MatrixMap<Scalar>(c.data(), rows, cols),
               true, workspace);
  return c;
}

TEST_CASE("autodiff: gemm split by columns over 2 threads is bit-identical to 1 thread") {
#ifndef _OPENMP
  MESSAGE("skipped: built without OpenMP, gemm never splits");
  return;
#else
  const int previous = omp_get_max_threads();
  struct Shape {
    int rows, cols, depth;
  };
  // Columns within one column block (256, 300: parts at multiples of 48), and several blocks (1000, 3840).
  for (Shape s : {Shape{64, 256, 256}, Shape{300, 300, 300}, Shape{256, 1000, 300}, Shape{40, 3840, 256},
                  Shape{500, 256, 40}}) {
    CAPTURE(s.rows);
    CAPTURE(s.cols);
    CAPTURE(s.depth);
    for (bool transpose_a : {false, true})
      for (bool transpose_b : {false, true}) {
        CAPTURE(transpose_a);
        CAPTURE(transpose_b);
        const Matrix<float> one = product_on_threads<float>(1, s.rows, s.cols, s.depth, transpose_a, transpose_b);
        const Matrix<float> two = product_on_threads<float>(2, s.rows, s.cols, s.depth, transpose_a, transpose_b);
        CHECK(std::memcmp(one.data(), two.data(), sizeof(float) * one.size()) == 0);
        const Matrix<double> one_d = product_on_threads<double>(1, s.rows, s.cols, s.depth, transpose_a, transpose_b);
        const Matrix<double> two_d = product_on_threads<double>(2, s.rows, s.cols, s.depth, transpose_a, transpose_b);
        CHECK(std::memcmp(one_d.data(), two_d.data(), sizeof(double) * one_d.size()) == 0);
      }
  }
  // Below the split size, and inside a parallel region, a product stays on its thread.
  omp_set_num_threads(2);
  CHECK(gemm_threads(16, 64, 64) == 1);
  int inside = 0;
#pragma omp parallel num_threads(2)
#pragma omp single
  inside = gemm_threads(300, 300, 300);
  CHECK(inside == 1);
  omp_set_num_threads(previous);
#endif
}

// c += a b through PackedOperand against gemm(), bit for bit, on `threads` threads; the packed copy is
// reused over several row counts, as a rollout reuses it over its steps.
template <typename Scalar>
void check_packed(int cols, int depth, int threads) {
#ifdef _OPENMP
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
  const Matrix<Scalar> b = random_matrix<Scalar>(depth, cols, 2);
  PackedOperand<Scalar> packed;
  packed.pack(ConstMatrixMap<Scalar>(b.data(), depth, cols));
  FlatVector<Scalar> workspace;
  for (int rows : {1, 2, 3, 7, 16, 25, 300}) {
    CAPTURE(rows);
    const Matrix<Scalar> a = random_matrix<Scalar>(rows, depth, 1);
    Matrix<Scalar> expected = random_matrix<Scalar>(rows, cols, 3);
    Matrix<Scalar> c = expected;
    gemm<Scalar>(ConstMatrixMap<Scalar>(a.data(), rows, depth), false, ConstMatrixMap<Scalar>(b.data(), depth, cols),
                 false, MatrixMap<Scalar>(expected.data(), rows, cols), true, workspace);
    gemm<Scalar>(ConstMatrixMap<Scalar>(a.data(), rows, depth), packed, MatrixMap<Scalar>(c.data(), rows, cols),
                 workspace);
    CHECK(std::memcmp(c.data(), expected.data(), sizeof(Scalar) * c.size()) == 0);
  }
}

TEST_CASE("autodiff: a product with a packed right operand is bit-identical to gemm") {
#ifdef _OPENMP
  const int previous = omp_get_max_threads();
#endif
  struct Shape {
    int cols, depth;
  };
  // One column block (5, 9, 256, 300), several (481, 1000, 3840); depth in one block or several (300, 600).
  for (Shape s : {Shape{5, 256}, Shape{9, 40}, Shape{256, 256}, Shape{300, 300}, Shape{481, 256},
                  Shape{1000, 600}, Shape{3840, 256}})
    for (int threads : {1, 2}) {
      CAPTURE(s.cols);
      CAPTURE(s.depth);
      CAPTURE(threads);
      check_packed<float>(s.cols, s.depth, threads);
      check_packed<double>(s.cols, s.depth, threads);
    }
#ifdef _OPENMP
  omp_set_num_threads(previous);
#endif
}

}  // namespace
}  // namespace gfn
