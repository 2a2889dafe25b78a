// Finite-difference gradient checks (double) for every tape op, on 1 x 1, odd, empty (0-row) and
// GEMM-sized shapes, and on -inf masks. Each op's output is reduced with weighted_sum() so every
// entry matters; inputs are parameters so the checker can perturb them. Points near kinks (relu,
// leaky_relu, huber) are moved away. Hand-computed values live in test_tape_values.cpp.
#include <doctest/doctest.h>

#include <limits>
#include <vector>

#include "support/gradient_check.hpp"

namespace gfn {
namespace {

using testing::add_random_parameter;
using testing::check_gradient;
using testing::LossBuilder;
using testing::weighted_sum;

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Shape {
  int rows, cols;
};
// 1 x 1, odd sizes, a single column, an empty batch, and a size that takes Eigen's blocked paths.
const Shape kShapes[] = {{1, 1}, {3, 5}, {7, 1}, {0, 4}, {4, 3}, {19, 23}};

void expect_gradient(ParameterStore<double>& store, const LossBuilder& build) {
  const auto check = check_gradient(store, build);
  CHECK_MESSAGE(check.passed(), check.report());
}

// Moves every entry of parameter `id` at least `gap` away from `kink`.
void keep_away_from(ParameterStore<double>& store, int id, double kink, double gap) {
  auto value = store.value(id);
  for (int r = 0; r < value.rows(); ++r)
    for (int c = 0; c < value.cols(); ++c) {
      const double offset = value(r, c) - kink;
      if (std::abs(offset) < gap) value(r, c) = kink + (offset < 0 ? -gap : gap);
    }
}

// Runs body(shape, store, a) on every shape: `a` is a shape.rows x shape.cols parameter drawn from
// U(low, high), alone in a fresh store.
template <typename Body>
void for_each_shape(Body body, double low = -1, double high = 1) {
  for (const Shape& shape : kShapes) {
    INFO(shape.rows << " x " << shape.cols);
    ParameterStore<double> store;
    const int a = add_random_parameter(store, "a", shape.rows, shape.cols, 1, low, high);
    body(shape, store, a);
  }
}

// Checks a one-input op on every shape with inputs drawn from U(low, high).
template <typename Op>
void check_unary(Op op, double low, double high, std::vector<double> kinks = {}) {
  for_each_shape(
      [&](const Shape&, ParameterStore<double>& store, int a) {
        for (double kink : kinks) keep_away_from(store, a, kink, 0.05);
        expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
          return weighted_sum(tape, op(tape, tape.parameter(s, a, g)));
        });
      },
      low, high);
}

TEST_CASE("autodiff: matmul gradient") {
  struct Product {
    int b, k, n;
  };
  // Includes K = 0 (the product is zero), an empty batch, and sizes past Eigen's lazy-product cutoff.
  for (Product p : {Product{1, 1, 1}, Product{3, 5, 7}, Product{7, 1, 3}, Product{0, 4, 3}, Product{3, 0, 2},
                    Product{24, 33, 20}}) {
    INFO("(" << p.b << " x " << p.k << ") (" << p.k << " x " << p.n << ")");
    ParameterStore<double> store;
    const int a = add_random_parameter(store, "a", p.b, p.k, 1);
    const int b = add_random_parameter(store, "b", p.k, p.n, 2);
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      return weighted_sum(tape, tape.matmul(tape.parameter(s, a, g), tape.parameter(s, b, g)));
    });
    // Only one side differentiable: the left factor is a constant.
    const Matrix<double> left = store.value(a);
    ParameterStore<double> right_only;
    const int right = add_random_parameter(right_only, "b", p.k, p.n, 2);
    expect_gradient(
        right_only, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
          return weighted_sum(tape, tape.matmul(tape.constant(left), tape.parameter(s, right, g)));
        });
  }
}

TEST_CASE("autodiff: linear gradient, and its value equals add_bias(matmul)") {
  struct Layer {
    int b, i, h;
  };
  for (Layer l :
       {Layer{1, 1, 1}, Layer{3, 5, 7}, Layer{7, 1, 3}, Layer{0, 4, 3}, Layer{5, 3, 1}, Layer{24, 33, 20}}) {
    INFO("batch " << l.b << ", " << l.i << " -> " << l.h);
    ParameterStore<double> store;
    const int x = add_random_parameter(store, "x", l.b, l.i, 1);
    const int w = add_random_parameter(store, "w", l.i, l.h, 2);
    const int bias = add_random_parameter(store, "bias", 1, l.h, 3);
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      return weighted_sum(
          tape, tape.linear(tape.parameter(s, x, g), tape.parameter(s, w, g), tape.parameter(s, bias, g)));
    });
    Tape<double> tape;
    const NodeId px = tape.parameter(store, x, nullptr), pw = tape.parameter(store, w, nullptr);
    const NodeId pb = tape.parameter(store, bias, nullptr);
    const Matrix<double> fused = tape.value(tape.linear(px, pw, pb));
    const Matrix<double> separate = tape.value(tape.add_bias(tape.matmul(px, pw), pb));
    CHECK((fused - separate).lpNorm<Eigen::Infinity>() < 1e-13);
  }
}

// A layer 600 wide (blocks of 256, 256 and 88 columns) whose output gradient is zero on whole blocks
// of some rows, as behind a masked softmax: linear's backward then multiplies block by block
// (linear_backward_by_blocks). Row r keeps block k when (r + k) % 3 != 0 (two thirds of the pairs);
// with every block kept, the dense products run instead.
TEST_CASE("autodiff: linear gradient when the output gradient is zero on column blocks") {
  constexpr int kRows = 6, kIn = 3, kWidth = 600;
  for (const bool every_block : {false, true}) {
    CAPTURE(every_block);
    ParameterStore<double> store;
    const int x = add_random_parameter(store, "x", kRows, kIn, 1);
    const int w = add_random_parameter(store, "w", kIn, kWidth, 2);
    const int bias = add_random_parameter(store, "bias", 1, kWidth, 3);
    Matrix<double> keep = Matrix<double>::Ones(kRows, kWidth);
    for (int r = 0; r < kRows; ++r)
      for (int c = 0; c < kWidth; ++c)
        if (!every_block && (r + c / 256) % 3 == 0) keep(r, c) = 0;
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      const NodeId y = tape.linear(tape.parameter(s, x, g), tape.parameter(s, w, g), tape.parameter(s, bias, g));
      return weighted_sum(tape, tape.mul(y, tape.constant(keep)));
    });
  }
}

TEST_CASE("autodiff: add, sub and mul gradients, including an input used twice") {
  for_each_shape([&](const Shape& shape, ParameterStore<double>& store, int a) {
    const int b = add_random_parameter(store, "b", shape.rows, shape.cols, 2);
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      const NodeId x = tape.parameter(s, a, g), y = tape.parameter(s, b, g);
      return tape.add(tape.add(weighted_sum(tape, tape.add(x, y)), weighted_sum(tape, tape.sub(x, y))),
                      weighted_sum(tape, tape.mul(x, y)));
    });
    // The same node on both sides: d(a * a) = 2 a, d(a - a) = 0, d(a + a) = 2.
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      const NodeId x = tape.parameter(s, a, g);
      return tape.add(tape.add(weighted_sum(tape, tape.mul(x, x)), weighted_sum(tape, tape.sub(x, x))),
                      weighted_sum(tape, tape.add(x, x)));
    });
  });
}

TEST_CASE("autodiff: scale and add_bias gradients") {
  check_unary([](Tape<double>& tape, NodeId x) { return tape.scale(x, -1.7); }, -1, 1);
  for_each_shape([&](const Shape& shape, ParameterStore<double>& store, int a) {
    const int bias = add_random_parameter(store, "bias", 1, shape.cols, 2);
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      return weighted_sum(tape, tape.add_bias(tape.parameter(s, a, g), tape.parameter(s, bias, g)));
    });
  });
}

TEST_CASE("autodiff: relu, leaky_relu and tanh gradients") {
  check_unary([](Tape<double>& tape, NodeId x) { return tape.relu(x); }, -2, 2, {0.0});
  check_unary([](Tape<double>& tape, NodeId x) { return tape.leaky_relu(x); }, -2, 2, {0.0});
  check_unary([](Tape<double>& tape, NodeId x) { return tape.leaky_relu(x, 0.3); }, -2, 2, {0.0});
  check_unary([](Tape<double>& tape, NodeId x) { return tape.tanh(x); }, -3, 3);
}

TEST_CASE("autodiff: exp, log and square gradients") {
  check_unary([](Tape<double>& tape, NodeId x) { return tape.exp(x); }, -2, 2);
  check_unary([](Tape<double>& tape, NodeId x) { return tape.log(x); }, 0.2, 3);
  check_unary([](Tape<double>& tape, NodeId x) { return tape.square(x); }, -2, 2);
}

TEST_CASE("autodiff: huber gradient on both branches") {
  check_unary([](Tape<double>& tape, NodeId x) { return tape.huber(x); }, -3, 3, {-1.0, 1.0});
  check_unary([](Tape<double>& tape, NodeId x) { return tape.huber(x, 0.3); }, -1, 1, {-0.3, 0.3});
}

TEST_CASE("autodiff: sum, mean and row_sum gradients") {
  check_unary([](Tape<double>& tape, NodeId x) { return tape.sum(x); }, -1, 1);
  check_unary([](Tape<double>& tape, NodeId x) { return tape.mean(x); }, -1, 1);
  check_unary([](Tape<double>& tape, NodeId x) { return tape.row_sum(x); }, -1, 1);
}

// mask(r, c) = 0 on a fixed pattern: row 1 of 3 x 5 fully masked, scattered entries elsewhere.
Matrix<double> mask_pattern(int rows, int cols) {
  Matrix<double> mask = Matrix<double>::Ones(rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      if ((r * 7 + c * 3) % 4 == 0) mask(r, c) = 0;
  if (rows >= 3 && cols > 1) mask.row(1).setZero();
  return mask;
}

TEST_CASE("autodiff: masked_log_softmax and masked_log_softmax_at gradients with -inf masks and fully masked rows") {
  for_each_shape([&](const Shape& shape, ParameterStore<double>& store, int a) {
    const Matrix<double> mask = mask_pattern(shape.rows, shape.cols);
    // A -inf logit in a valid position of a row that keeps other valid entries: probability 0.
    if (shape.rows >= 3 && shape.cols >= 5) store.value(a)(2, 2) = -kInf;
    // The picked log-probabilities: one valid, finite column per row that has one (the first for
    // masked_log_softmax, the last for masked_log_softmax_at, which also skips every third row: -1).
    std::vector<int> rows_with_valid, first_valid, last_valid(shape.rows, -1);
    for (int r = 0; r < shape.rows; ++r)
      for (int c = 0; c < shape.cols; ++c)
        if (mask(r, c) != 0 && store.value(a)(r, c) != -kInf) {
          if (rows_with_valid.empty() || rows_with_valid.back() != r) {
            rows_with_valid.push_back(r);
            first_valid.push_back(c);
          }
          if (r % 3 != 2) last_valid[r] = c;
        }
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      const NodeId log_p = tape.masked_log_softmax(tape.parameter(s, a, g), tape.constant(mask));
      const NodeId picked = tape.pick(
          tape.gather_rows(log_p, rows_with_valid.data(), int(rows_with_valid.size())), first_valid.data());
      // exp(-inf) = 0 with zero gradient, so the softmax term may read masked entries.
      return tape.add(weighted_sum(tape, tape.exp(log_p)), weighted_sum(tape, picked));
    });
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      return weighted_sum(tape,
                          tape.masked_log_softmax_at(tape.parameter(s, a, g), tape.constant(mask), last_valid.data()));
    });
  }, -3, 3);
}

TEST_CASE("autodiff: row_logsumexp gradient, also with -inf entries and all -inf rows") {
  check_unary([](Tape<double>& tape, NodeId x) { return tape.row_logsumexp(x); }, -3, 3);
  // Row 0 finite, row 1 partly -inf, row 2 all -inf (its logsumexp is -inf; exp(-inf) = 0).
  ParameterStore<double> store;
  const int a = add_random_parameter(store, "a", 3, 4, 1, -2, 2);
  store.value(a)(1, 0) = store.value(a)(1, 3) = -kInf;
  store.value(a).row(2).setConstant(-kInf);
  expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
    return weighted_sum(tape, tape.exp(tape.row_logsumexp(tape.parameter(s, a, g))));
  });
}

TEST_CASE("autodiff: pick gradient") {
  for_each_shape([&](const Shape& shape, ParameterStore<double>& store, int a) {
    // Column -1 (every third row) picks nothing: value 0, no gradient.
    std::vector<int> columns(shape.rows);
    for (int r = 0; r < shape.rows; ++r) columns[r] = r % 3 == 2 ? -1 : (3 * r + 1) % shape.cols;
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      return weighted_sum(tape, tape.pick(tape.parameter(s, a, g), columns.data()));
    });
  });
}

TEST_CASE("autodiff: gather_rows gradient, K = 1 and K > 1 with repeated indices") {
  ParameterStore<double> store;
  const int a = add_random_parameter(store, "a", 5, 3, 1);
  const std::vector<int> single = {4, 0, 0, 2, 4, 4};           // K = 1, repeats, row 1 and 3 unused
  const std::vector<int> triple = {0, 1, 1, 3, 3, 3, 4, 2, 0};  // K = 3, repeats inside a group
  for (int k : {1, 3}) {
    CAPTURE(k);
    const std::vector<int>& rows = k == 1 ? single : triple;
    const int n_outputs = int(rows.size()) / k;
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      return weighted_sum(tape, tape.gather_rows(tape.parameter(s, a, g), rows.data(), n_outputs, k));
    });
  }
  // No outputs at all.
  expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
    return weighted_sum(tape, tape.gather_rows(tape.parameter(s, a, g), single.data(), 0, 2));
  });
}

// Segments of 7 rows with empty segments, and row 6 in no segment.
const std::vector<int> kOffsets = {0, 2, 2, 5, 5, 6};
const int kSegments = int(kOffsets.size()) - 1;

TEST_CASE("autodiff: segment_sum gradient with empty segments") {
  ParameterStore<double> store;
  const int a = add_random_parameter(store, "a", 7, 3, 1);
  expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
    return weighted_sum(tape, tape.segment_sum(tape.parameter(s, a, g), kOffsets.data(), kSegments));
  });
  const int zero[] = {0};
  expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
    return weighted_sum(tape, tape.segment_sum(tape.parameter(s, a, g), zero, 0));
  });
}

TEST_CASE("autodiff: segment_logsumexp gradient, also with -inf entries and empty segments") {
  ParameterStore<double> store;
  const int a = add_random_parameter(store, "a", 7, 3, 1, -2, 2);
  // Finite entries: the output is finite except for the empty segments (-inf), read through exp.
  expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
    return weighted_sum(
        tape, tape.exp(tape.segment_logsumexp(tape.parameter(s, a, g), kOffsets.data(), kSegments)));
  });
  const int non_empty[] = {0, 2, 5, 6};  // segments {0, 1}, {2, 3, 4}, {5}
  expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
    return weighted_sum(tape, tape.segment_logsumexp(tape.parameter(s, a, g), non_empty, 3));
  });
  // -inf entries: one in segment 0, a whole column of segment 2 (its result is -inf, zero gradient).
  store.value(a)(1, 1) = -kInf;
  store.value(a)(5, 0) = -kInf;
  expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
    return weighted_sum(tape, tape.exp(tape.segment_logsumexp(tape.parameter(s, a, g), non_empty, 3)));
  });
}

TEST_CASE("autodiff: segment_cumsum gradient") {
  ParameterStore<double> store;
  const int a = add_random_parameter(store, "a", 7, 3, 1);
  expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
    return weighted_sum(tape, tape.segment_cumsum(tape.parameter(s, a, g), kOffsets.data(), kSegments));
  });
}

TEST_CASE("autodiff: slice_cols and concat_cols gradients") {
  for_each_shape([&](const Shape& shape, ParameterStore<double>& store, int a) {
    const int b = add_random_parameter(store, "b", shape.rows, 2, 2);
    const int start = shape.cols / 2, count = shape.cols - shape.cols / 2;
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      const NodeId x = tape.parameter(s, a, g), y = tape.parameter(s, b, g);
      return tape.add(weighted_sum(tape, tape.slice_cols(x, start, count)),
                      weighted_sum(tape, tape.concat_cols(y, tape.concat_cols(x, y))));
    });
  });
}

TEST_CASE("autodiff: concat_rows gradient") {
  for_each_shape([&](const Shape& shape, ParameterStore<double>& store, int a) {
    const int b = add_random_parameter(store, "b", 2, shape.cols, 2);
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      const NodeId x = tape.parameter(s, a, g), y = tape.parameter(s, b, g);
      return weighted_sum(tape, tape.concat_rows(y, tape.concat_rows(x, y)));
    });
  });
}

TEST_CASE("autodiff: stop_gradient passes the value and blocks the gradient") {
  ParameterStore<double> store;
  const int a = add_random_parameter(store, "a", 3, 5, 1);
  FlatVector<double> gradient = store.make_gradient();
  Tape<double> tape;
  const NodeId x = tape.parameter(store, a, &gradient);
  const NodeId stopped = tape.stop_gradient(x);
  CHECK(tape.value(stopped) == store.value(a));
  // loss = sum(stop(a) * a): d/da = stop(a) = a, not 2 a.
  tape.backward(tape.sum(tape.mul(stopped, x)));
  CHECK(store.gradient(gradient, a) == store.value(a));
  // Through stop_gradient alone: no gradient at all.
  std::fill(gradient.begin(), gradient.end(), 0.0);
  tape.clear();
  tape.backward(tape.sum(tape.exp(tape.stop_gradient(tape.parameter(store, a, &gradient)))));
  CHECK(store.gradient(gradient, a).isZero(0));
}

TEST_CASE("autodiff: constants are leaves without gradient") {
  for_each_shape([&](const Shape& shape, ParameterStore<double>& store, int a) {
    Matrix<double> c = Matrix<double>::Constant(shape.rows, shape.cols, 0.25);
    for (int r = 0; r < shape.rows; ++r) c(r, 0) = r - 1.5;
    expect_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
      const NodeId x = tape.parameter(s, a, g);
      return tape.add(weighted_sum(tape, tape.mul(tape.constant(c), x)),
                      weighted_sum(tape, tape.add(tape.constant(shape.rows, shape.cols, -0.5), x)));
    });
  });
}

}  // namespace
}  // namespace gfn
