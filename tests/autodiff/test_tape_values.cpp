// Tape values and gradients computed by hand (literals), algebraic identities between ops, -inf
// handling (never NaN), gradient accumulation across backward() calls, arena reuse by clear(), and
// where backward() writes into a gradient buffer (gradient_support), and linear() with packed weights
// reused across clear() (reuse_packed_weights).
// Finite-difference checks of every op are in test_tape_gradients.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "support/gradient_check.hpp"

namespace gfn {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A 1 x n parameter holding `values`, with its gradient buffer.
struct Row {
  ParameterStore<double> store;
  FlatVector<double> gradient;
  int id;
  explicit Row(std::initializer_list<double> values) {
    id = store.add("x", 1, int(values.size()));
    int c = 0;
    for (double v : values) store.value(id)(0, c++) = v;
    gradient = store.make_gradient();
  }
  MatrixMap<double> grad() { return store.gradient(gradient, id); }
};

TEST_CASE("autodiff: huber values and gradients by hand (delta 1)") {
  Row x{-3, -0.5, 0.5, 3};
  Tape<double> tape;
  const NodeId y = tape.huber(tape.parameter(x.store, x.id, &x.gradient));
  // 0.5 a^2 = 0.125 inside; delta (|a| - delta / 2) = 2.5 outside.
  CHECK(tape.value(y)(0, 0) == 2.5);
  CHECK(tape.value(y)(0, 1) == 0.125);
  CHECK(tape.value(y)(0, 2) == 0.125);
  CHECK(tape.value(y)(0, 3) == 2.5);
  tape.backward(tape.sum(y));
  CHECK(x.grad()(0, 0) == -1);
  CHECK(x.grad()(0, 1) == -0.5);
  CHECK(x.grad()(0, 2) == 0.5);
  CHECK(x.grad()(0, 3) == 1);
}

TEST_CASE("autodiff: masked_log_softmax and masked_log_softmax_at of [0, log 3, 5], the last entry masked") {
  Matrix<double> mask(1, 3);
  mask << 1, 1, 0;
  const int column = 0;
  for (const bool one_node : {false, true}) {
    CAPTURE(one_node);
    Row x{0, std::log(3.0), 5};
    Tape<double> tape;
    const NodeId logits = tape.parameter(x.store, x.id, &x.gradient);
    NodeId log_p0;
    if (one_node) {
      log_p0 = tape.masked_log_softmax_at(logits, tape.constant(mask), &column);
    } else {
      // softmax over the valid entries: [1/4, 3/4]; the masked entry is -inf.
      const NodeId log_p = tape.masked_log_softmax(logits, tape.constant(mask));
      CHECK(tape.value(log_p)(0, 1) == doctest::Approx(std::log(0.75)).epsilon(1e-15));
      CHECK(tape.value(log_p)(0, 2) == -kInf);
      log_p0 = tape.pick(log_p, &column);
    }
    CHECK(tape.value(log_p0)(0, 0) == doctest::Approx(std::log(0.25)).epsilon(1e-15));
    // d log p_0 / dx = onehot(0) - softmax = [3/4, -3/4, 0].
    tape.backward(log_p0);
    CHECK(x.grad()(0, 0) == doctest::Approx(0.75).epsilon(1e-15));
    CHECK(x.grad()(0, 1) == doctest::Approx(-0.75).epsilon(1e-15));
    CHECK(x.grad()(0, 2) == 0);
  }
}

TEST_CASE("autodiff: a fully masked row gives -inf and zero gradient, never NaN") {
  Row x{1, 2, 3};
  Tape<double> tape;
  const NodeId mask = tape.constant(1, 3, 0.0);
  const NodeId log_p = tape.masked_log_softmax(tape.parameter(x.store, x.id, &x.gradient), mask);
  for (int c = 0; c < 3; ++c) CHECK(tape.value(log_p)(0, c) == -kInf);
  const NodeId loss = tape.sum(tape.exp(log_p));
  CHECK(tape.scalar(loss) == 0);
  tape.backward(loss);
  for (int c = 0; c < 3; ++c) CHECK(x.grad()(0, c) == 0);
  // Valid positions whose logits are all -inf behave like a fully masked row.
  Row minus{-kInf, -kInf};
  tape.clear();
  const NodeId all_inf = tape.masked_log_softmax(tape.parameter(minus.store, minus.id, &minus.gradient),
                                                 tape.constant(1, 2, 1.0));
  tape.backward(tape.sum(tape.exp(all_inf)));
  CHECK(tape.value(all_inf)(0, 0) == -kInf);
  CHECK(minus.grad()(0, 0) == 0);
  CHECK(minus.grad()(0, 1) == 0);
}

// The one-node form against pick(masked_log_softmax): equal values (the same operations), gradients to
// rounding, on rows with a valid choice, no choice (-1), a masked choice (-inf, no gradient), and
// nothing valid; in float and double, 3840 columns (BitSeq's actions, vectorised with a tail) and 5.
template <typename Scalar>
void check_masked_log_softmax_at(int cols, double tolerance) {
  const int rows = 6;
  ParameterStore<Scalar> store;
  const int id = store.add("x", rows, cols);
  Rng rng(7);
  Matrix<Scalar> mask(rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      store.value(id)(r, c) = Scalar(6 * rng.uniform() - 3);
      mask(r, c) = (r + 2 * c) % 3 == 0 ? 0 : 1;
    }
  mask.row(4).setZero();                              // nothing valid
  const std::vector<int> columns = {1, -1, 2, 1, 1, cols - 2};
  REQUIRE(mask(2, 2) == 0);                           // row 2 picks a masked entry
  const std::vector<Scalar> weights = {Scalar(0.5), Scalar(-1.5), Scalar(2), Scalar(1), Scalar(3), Scalar(-0.25)};

  FlatVector<Scalar> fused_gradient = store.make_gradient(), composed_gradient = store.make_gradient();
  Tape<Scalar> fused, composed;
  const NodeId at = fused.masked_log_softmax_at(fused.parameter(store, id, &fused_gradient), fused.constant(mask),
                                                columns.data());
  const NodeId picked = composed.pick(
      composed.masked_log_softmax(composed.parameter(store, id, &composed_gradient), composed.constant(mask)),
      columns.data());
  for (int r = 0; r < rows; ++r) {
    CAPTURE(r);
    CHECK(fused.value(at)(r, 0) == composed.value(picked)(r, 0));
  }
  CHECK(fused.value(at)(1, 0) == 0);
  CHECK(fused.value(at)(2, 0) == -std::numeric_limits<Scalar>::infinity());
  CHECK(fused.value(at)(4, 0) == -std::numeric_limits<Scalar>::infinity());
  // loss = sum_r w_r log p_r: -inf (rows 2 and 4), but backward passes w_r to every row all the same.
  Matrix<Scalar> w(rows, 1);
  for (int r = 0; r < rows; ++r) w(r, 0) = weights[r];
  const NodeId fused_loss = fused.sum(fused.mul(at, fused.constant(w)));
  const NodeId composed_loss = composed.sum(composed.mul(picked, composed.constant(w)));
  fused.backward(fused_loss);
  composed.backward(composed_loss);
  double largest = 0, largest_difference = 0;
  for (size_t i = 0; i < fused_gradient.size(); ++i) {
    largest = std::max(largest, std::abs(double(composed_gradient[i])));
    largest_difference = std::max(largest_difference, std::abs(double(fused_gradient[i]) - double(composed_gradient[i])));
  }
  CHECK(largest > 0.1);  // real gradients were compared
  CHECK(largest_difference <= tolerance);
  CHECK(store.gradient(fused_gradient, id).row(2).isZero(0));  // a masked choice
  CHECK(store.gradient(fused_gradient, id).row(4).isZero(0));  // nothing valid
  CHECK(!store.gradient(fused_gradient, id).row(5).isZero(0));
}

TEST_CASE("autodiff: masked_log_softmax_at equals pick(masked_log_softmax), gradients to rounding") {
  check_masked_log_softmax_at<double>(5, 1e-15);
  check_masked_log_softmax_at<double>(3840, 1e-15);
  check_masked_log_softmax_at<float>(5, 1e-6);
  check_masked_log_softmax_at<float>(3840, 1e-6);
}

// linear's backward block by block (an output gradient zero on whole column blocks of some rows), and
// with the fast path switched off, against the formulas evaluated densely in double: dx = G W^T,
// dW = x^T G, dbias = column sums of G.
TEST_CASE("autodiff: linear's block-by-block backward and the dense one (the switch) equal the dense formulas") {
  constexpr int kRows = 40, kIn = 16, kWidth = 3840;  // BitSeq's head: 15 blocks of 256
  ParameterStore<double> store;
  const int x = testing::add_random_parameter(store, "x", kRows, kIn, 1);
  const int w = testing::add_random_parameter(store, "w", kIn, kWidth, 2);
  const int bias = testing::add_random_parameter(store, "bias", 1, kWidth, 3);
  Matrix<double> upstream = Matrix<double>::Zero(kRows, kWidth);  // G: row r keeps blocks r % 15 .. r % 15 + 5
  Rng rng(11);
  for (int r = 0; r < kRows; ++r)
    for (int k = r % 15; k < r % 15 + 6 && k < 15; ++k)
      for (int c = 256 * k; c < 256 * (k + 1); ++c) upstream(r, c) = 2 * rng.uniform() - 1;
  const Matrix<double> dx = upstream * store.value(w).transpose();
  const Matrix<double> dw = store.value(x).transpose() * upstream;
  const Matrix<double> dbias = upstream.colwise().sum();
  for (bool block_sparse : {true, false}) {
    CAPTURE(block_sparse);
    FlatVector<double> gradient = store.make_gradient();
    Tape<double> tape;
    tape.set_block_sparse_backward(block_sparse);
    const NodeId y = tape.linear(tape.parameter(store, x, &gradient), tape.parameter(store, w, &gradient),
                                 tape.parameter(store, bias, &gradient));
    tape.backward(tape.sum(tape.mul(y, tape.constant(upstream))));
    CHECK((store.gradient(gradient, x) - dx).lpNorm<Eigen::Infinity>() < 1e-12);
    CHECK((store.gradient(gradient, w) - dw).lpNorm<Eigen::Infinity>() < 1e-12);
    CHECK((store.gradient(gradient, bias) - dbias).lpNorm<Eigen::Infinity>() < 1e-12);
  }
  CHECK(dw.lpNorm<Eigen::Infinity>() > 0.5);  // nonzero gradients were compared
}

TEST_CASE("autodiff: row_logsumexp by hand, and an all -inf row is -inf with zero gradient") {
  ParameterStore<double> store;
  const int id = store.add("x", 3, 2);
  auto x = store.value(id);
  x << 0, std::log(3.0), -kInf, -kInf, -kInf, 2;
  FlatVector<double> gradient = store.make_gradient();
  Tape<double> tape;
  const NodeId y = tape.row_logsumexp(tape.parameter(store, id, &gradient));
  CHECK(tape.value(y)(0, 0) == doctest::Approx(std::log(4.0)).epsilon(1e-15));
  CHECK(tape.value(y)(1, 0) == -kInf);
  CHECK(tape.value(y)(2, 0) == 2);
  tape.backward(tape.sum(tape.exp(y)));  // d exp(lse) / dx = exp(x): [1, 3], [0, 0], [0, e^2]
  const auto g = store.gradient(gradient, id);
  CHECK(g(0, 0) == doctest::Approx(1).epsilon(1e-15));
  CHECK(g(0, 1) == doctest::Approx(3).epsilon(1e-15));
  CHECK(g(1, 0) == 0);
  CHECK(g(1, 1) == 0);
  CHECK(g(2, 0) == 0);
  CHECK(g(2, 1) == doctest::Approx(std::exp(2.0)).epsilon(1e-15));
}

TEST_CASE("autodiff: indexing ops by hand") {
  Matrix<double> a(4, 2);
  a << 1, 2, 3, 4, 5, 6, 7, 8;
  Tape<double> tape;
  const NodeId x = tape.constant(a);
  const int columns[] = {1, 0, 0, 1};
  Matrix<double> picked(4, 1);
  picked << 2, 3, 5, 8;
  CHECK(tape.value(tape.pick(x, columns)) == picked);

  const int pairs[] = {3, 3, 0, 2};  // K = 2: rows 3 + 3, rows 0 + 2
  Matrix<double> gathered(2, 2);
  gathered << 14, 16, 6, 8;
  CHECK(tape.value(tape.gather_rows(x, pairs, 2, 2)) == gathered);

  const int offsets[] = {0, 1, 1, 4};  // segments {0}, {}, {1, 2, 3}
  Matrix<double> sums(3, 2);
  sums << 1, 2, 0, 0, 15, 18;
  CHECK(tape.value(tape.segment_sum(x, offsets, 3)) == sums);
  Matrix<double> cumsums(4, 2);
  cumsums << 1, 2, 3, 4, 8, 10, 15, 18;
  CHECK(tape.value(tape.segment_cumsum(x, offsets, 3)) == cumsums);

  Matrix<double> joined(4, 3);
  joined << 2, 1, 2, 4, 3, 4, 6, 5, 6, 8, 7, 8;
  CHECK(tape.value(tape.concat_cols(tape.slice_cols(x, 1, 1), x)) == joined);
}

TEST_CASE("autodiff: reductions of an empty batch are zero and finite") {
  Tape<double> tape;
  const NodeId empty = tape.constant(0, 4, 1.0);
  CHECK(tape.scalar(tape.sum(empty)) == 0);
  CHECK(tape.scalar(tape.mean(empty)) == 0);
  CHECK(tape.value(tape.row_sum(empty)).rows() == 0);
  CHECK(tape.value(tape.row_logsumexp(empty)).rows() == 0);
}

TEST_CASE("autodiff: algebraic identities between ops") {
  ParameterStore<double> store;
  const int a = testing::add_random_parameter(store, "a", 5, 7, 3, -4, 4);
  Tape<double> tape;
  const NodeId x = tape.parameter(store, a, nullptr);
  // Values are copied out: a map into the tape is invalidated when a later node grows the arena.
  const NodeId log_p_node = tape.masked_log_softmax(x, tape.constant(5, 7, 1.0));
  const Matrix<double> log_p = tape.value(log_p_node);
  // Probabilities sum to one; log_softmax = x - logsumexp(x); adding a constant to a row changes nothing.
  const Matrix<double> row_totals = tape.value(tape.row_sum(tape.exp(log_p_node)));
  for (int r = 0; r < 5; ++r) CHECK(row_totals(r, 0) == doctest::Approx(1).epsilon(1e-14));
  const Matrix<double> lse = tape.value(tape.row_logsumexp(x));
  Matrix<double> row_shift(5, 7);
  for (int r = 0; r < 5; ++r) row_shift.row(r).setConstant(10.0 * r - 15);
  const NodeId shifted_logits = tape.add(x, tape.constant(row_shift));
  const Matrix<double> shifted =
      tape.value(tape.masked_log_softmax(shifted_logits, tape.constant(5, 7, 1.0)));
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 7; ++c) {
      CHECK(log_p(r, c) == doctest::Approx(store.value(a)(r, c) - lse(r, 0)).epsilon(1e-14));
      CHECK(shifted(r, c) == doctest::Approx(log_p(r, c)).epsilon(1e-13));
    }
  // gather_rows with K active rows = K-hot matrix times the gathered matrix.
  const int active[] = {0, 4, 2, 2, 1, 3};
  Matrix<double> k_hot = Matrix<double>::Zero(3, 5);
  for (int i = 0; i < 6; ++i) k_hot(i / 2, active[i]) += 1;
  const Matrix<double> gathered = tape.value(tape.gather_rows(x, active, 3, 2));
  const Matrix<double> product = tape.value(tape.matmul(tape.constant(k_hot), x));
  CHECK((gathered - product).lpNorm<Eigen::Infinity>() < 1e-14);
  // The last row of each segment's cumsum is the segment's sum.
  const int offsets[] = {0, 3, 5};
  const Matrix<double> sums = tape.value(tape.segment_sum(x, offsets, 2));
  const Matrix<double> cumsums = tape.value(tape.segment_cumsum(x, offsets, 2));
  CHECK((sums.row(0) - cumsums.row(2)).lpNorm<Eigen::Infinity>() < 1e-14);
  CHECK((sums.row(1) - cumsums.row(4)).lpNorm<Eigen::Infinity>() < 1e-14);
}

TEST_CASE("autodiff: gradients accumulate: backward twice doubles a parameter gradient") {
  ParameterStore<double> store;
  const int a = testing::add_random_parameter(store, "a", 3, 4, 5);
  const int b = testing::add_random_parameter(store, "b", 4, 2, 6);
  FlatVector<double> gradient = store.make_gradient();
  Tape<double> tape;
  const NodeId loss = testing::weighted_sum(
      tape, tape.tanh(tape.matmul(tape.parameter(store, a, &gradient), tape.parameter(store, b, &gradient))));
  tape.backward(loss);
  const FlatVector<double> once = gradient;
  CHECK(std::any_of(once.begin(), once.end(), [](double g) { return g != 0; }));
  tape.backward(loss);  // node gradients are reset; parameter gradients accumulate
  for (size_t i = 0; i < gradient.size(); ++i) CHECK(gradient[i] == 2 * once[i]);
}

TEST_CASE("autodiff: a node used twice sums both contributions; a node off the path gets zero") {
  ParameterStore<double> store;
  const int a = testing::add_random_parameter(store, "a", 2, 3, 9);
  FlatVector<double> gradient = store.make_gradient();
  Tape<double> tape;
  // First a step in which the exp node reaches the loss, so its gradient memory holds nonzero values.
  for (bool exp_in_loss : {true, false}) {
    std::fill(gradient.begin(), gradient.end(), 0.0);
    tape.clear();
    const NodeId x = tape.parameter(store, a, &gradient);
    const NodeId shared = tape.tanh(x);
    const NodeId off_path = tape.exp(shared);
    NodeId loss = tape.add(tape.scale(shared, 2.0), tape.mul(shared, shared));
    if (exp_in_loss) loss = tape.add(loss, off_path);
    tape.backward(tape.sum(loss));
    if (exp_in_loss) continue;
    // d loss / d shared = 2 + 2 shared; d shared / d a = 1 - shared^2.
    const auto s = tape.value(shared);
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 3; ++c) {
        CHECK(tape.gradient(shared)(r, c) == doctest::Approx(2 + 2 * s(r, c)).epsilon(1e-15));
        CHECK(store.gradient(gradient, a)(r, c) ==
              doctest::Approx((2 + 2 * s(r, c)) * (1 - s(r, c) * s(r, c))).epsilon(1e-14));
      }
    CHECK(tape.gradient(off_path).isZero(0));
  }
}

TEST_CASE("autodiff: pick with column -1 gives 0 and no gradient") {
  Row x{1, 2, 3};
  Tape<double> tape;
  const int none = -1;
  const NodeId picked = tape.pick(tape.parameter(x.store, x.id, &x.gradient), &none);
  CHECK(tape.scalar(picked) == 0);
  tape.backward(tape.sum(picked));
  CHECK(x.grad().isZero(0));
}

TEST_CASE("autodiff: values stay put while the tape grows (maps stay valid until clear())") {
  Tape<double> tape;
  Matrix<double> start(3, 4);
  start << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12;
  const NodeId first = tape.constant(start);
  const auto first_value = tape.value(first);  // held across growth on purpose
  const NodeId small = tape.constant(2, 2, 0.0);
  auto filled = tape.mutable_value(small);
  // Grow the arena through many chunks: a chain of 40 nodes of 100 x 120, each read from the last.
  NodeId chain = tape.constant(100, 120, 0.5);
  for (int k = 0; k < 40; ++k) chain = tape.add(chain, tape.constant(tape.value(chain)));  // doubles
  filled(1, 1) = 7;  // writing through an old map still reaches the node
  CHECK(first_value == start);
  CHECK(tape.value(first).data() == first_value.data());
  CHECK(tape.value(chain)(99, 119) == 0.5 * std::pow(2.0, 40));
  CHECK(tape.value(tape.sum(tape.constant(tape.value(first)))) == Matrix<double>::Constant(1, 1, 78));
  CHECK(tape.value(small)(1, 1) == 7);
}

TEST_CASE("autodiff: a copied tape owns its values; a moved one keeps them") {
  Tape<double> original;
  const NodeId x = original.constant(2, 3, 1.5);
  const NodeId y = original.exp(x);
  Tape<double> copy = original;
  CHECK(copy.value(y) == original.value(y));
  CHECK(copy.value(y).data() != original.value(y).data());
  copy.clear();
  copy.constant(2, 3, -4.0);  // reuses the copy's arena, not the original's
  CHECK(original.value(x) == Matrix<double>::Constant(2, 3, 1.5));
  const Matrix<double> expected = original.value(y);
  Tape<double> moved = std::move(original);
  CHECK(moved.value(y) == expected);
}

TEST_CASE("autodiff: clear() reuses the arena: same values, no growth") {
  ParameterStore<double> store;
  const int a = testing::add_random_parameter(store, "a", 6, 5, 7);
  Tape<double> tape;
  auto build = [&] { return tape.row_logsumexp(tape.relu(tape.parameter(store, a, nullptr))); };
  const Matrix<double> first = tape.value(build());
  const int64_t capacity = tape.arena_capacity();
  const int nodes = tape.size();
  tape.clear();
  CHECK(tape.size() == 0);
  CHECK(tape.value(build()) == first);
  CHECK(tape.arena_capacity() == capacity);
  CHECK(tape.size() == nodes);
}

TEST_CASE("autodiff: gradient_support: gathered rows of a table, whole parameters read otherwise") {
  ParameterStore<float> store;
  const int table = store.add("table", 5, 3), weight = store.add("weight", 3, 2), other = store.add("other", 4, 3);
  store.value(table).setConstant(0.5f);
  store.value(weight).setConstant(0.25f);
  FlatVector<float> gradient = store.make_gradient();
  Tape<float> tape;
  const int rows[] = {3, 1, 3};
  const NodeId gathered = tape.gather_rows(tape.parameter(store, table, &gradient), rows, 3);  // 3 x 3
  const NodeId loss = tape.sum(tape.matmul(gathered, tape.parameter(store, weight, &gradient)));
  tape.parameter(store, other, nullptr);  // no gradient buffer: never written
  std::vector<FlatRange> support;
  tape.gradient_support(gradient, support);
  const int64_t t = store.entry(table).offset, w = store.entry(weight).offset;
  REQUIRE(support.size() == 4);  // rows 3, 1, 3 of the table (unmerged), then all of the weight
  CHECK((support[0].begin == t + 9 && support[0].end == t + 12));
  CHECK((support[1].begin == t + 3 && support[1].end == t + 6));
  CHECK((support[2].begin == t + 9 && support[2].end == t + 12));
  CHECK((support[3].begin == w && support[3].end == w + 6));
  // backward writes there and nowhere else.
  tape.backward(loss);
  for (int64_t i = 0; i < int64_t(gradient.size()); ++i) {
    bool inside = false;
    for (const FlatRange& range : support) inside = inside || (i >= range.begin && i < range.end);
    if (!inside) CHECK(gradient[i] == 0.0f);
  }
  CHECK(store.gradient(gradient, table)(3, 0) == doctest::Approx(2 * 0.5f));  // two reads x 2 columns x 0.25
  // Read by another op as well, the table is whole.
  tape.clear();
  const NodeId table_node = tape.parameter(store, table, &gradient);
  tape.add(tape.gather_rows(table_node, rows, 1), tape.gather_rows(table_node, rows + 1, 1));
  tape.scale(table_node, 2.0f);
  support.clear();
  tape.gradient_support(gradient, support);
  REQUIRE(support.size() == 1);
  CHECK((support[0].begin == t && support[0].end == t + 15));
}

TEST_CASE("autodiff: reuse_packed_weights: same values as linear(), packs kept across clear() until forgotten") {
  ParameterStore<double> store;
  const int x = testing::add_random_parameter(store, "x", 16, 64, 1);
  const int w = testing::add_random_parameter(store, "w", 64, 40, 2);
  const int bias = testing::add_random_parameter(store, "bias", 1, 40, 3);
  auto product = [&](Tape<double>& tape) {
    tape.clear();
    return Matrix<double>(tape.value(tape.linear(tape.parameter(store, x, nullptr), tape.parameter(store, w, nullptr),
                                                 tape.parameter(store, bias, nullptr))));
  };
  Tape<double> plain, packing;
  packing.reuse_packed_weights(true);
  const Matrix<double> before = product(plain);
  CHECK(product(packing) == before);  // bit for bit
  store.value(w) *= 2;  // the parameters change: the packed copy is stale until forgotten
  const Matrix<double> after = product(plain);
  CHECK(after != before);
  CHECK(product(packing) == before);  // the copy packed before the change is what a rollout reuses
  packing.reuse_packed_weights(true);
  CHECK(product(packing) == after);
  packing.reuse_packed_weights(false);
  store.value(w) *= 2;
  CHECK(product(packing) == product(plain));
}

}  // namespace
}  // namespace gfn
