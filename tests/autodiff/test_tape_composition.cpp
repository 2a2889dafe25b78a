// Finite-difference gradient checks (double) of every tape op applied to INTERNAL nodes, where the
// gradient rule matters: an input that is itself computed (u = tanh(p), not a parameter), the same
// input consumed twice by the op (op(u) twice, op(u, u)), and the op's output feeding two consumers.
// A backward rule that assigns where it must accumulate passes test_tape_gradients.cpp (parameters
// always accumulate) but fails here. test_tape_gradients.cpp covers shapes, -inf masks and kinks.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "support/gradient_check.hpp"

namespace gfn {
namespace {

using testing::add_random_parameter;
using testing::check_gradient;
using testing::weighted_sum;

using UnaryOp = std::function<NodeId(Tape<double>&, NodeId)>;
using BinaryOp = std::function<NodeId(Tape<double>&, NodeId, NodeId)>;

constexpr int kRows = 3, kCols = 4;  // u: 3 x 4 internal node

// Keeps every entry of parameter `id` at least 0.05 away from each point (kinks of relu, huber).
void keep_away(ParameterStore<double>& store, int id, const std::vector<double>& points) {
  auto value = store.value(id);
  for (int r = 0; r < value.rows(); ++r)
    for (int c = 0; c < value.cols(); ++c)
      for (double point : points)
        if (std::abs(value(r, c) - point) < 0.05) value(r, c) = point + (value(r, c) < point ? -0.05 : 0.05);
}

// y = op(inner(p)) twice from the same internal node, and the first y used by two consumers:
// loss = weighted_sum(y1) + sum(y1 * y1) / 2 + weighted_sum(y2), with inner(p) = tanh(p) by default.
void check_unary_composed(const std::string& name, const UnaryOp& op, const std::vector<double>& kinks = {},
                          const UnaryOp& inner = [](Tape<double>& t, NodeId p) { return t.tanh(p); }) {
  CAPTURE(name);
  ParameterStore<double> store;
  const int p = add_random_parameter(store, "p", kRows, kCols, 11, -1.5, 1.5);
  keep_away(store, p, kinks);
  const auto check = check_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s,
                                               FlatVector<double>* g) {
    const NodeId u = inner(tape, tape.parameter(s, p, g));
    const NodeId y1 = op(tape, u);
    const NodeId y2 = op(tape, u);
    const NodeId y1_squared = tape.scale(tape.sum(tape.mul(y1, y1)), 0.5);
    return tape.add(tape.add(weighted_sum(tape, y1), y1_squared), weighted_sum(tape, y2));
  });
  CHECK_MESSAGE(check.passed(), name << ": " << check.report());
}

TEST_CASE("autodiff composition: every one-input op on an internal node used twice") {
  static const int columns[kRows] = {2, -1, 0};
  static const int gather[4] = {2, 0, 2, 1};      // K = 2: rows {2, 0} and {2, 1}
  static const int segments[3] = {0, 2, 3};       // rows [0, 2) and [2, 3)
  static const double huber_kinks[] = {std::atanh(0.5), -std::atanh(0.5)};
  check_unary_composed("scale", [](Tape<double>& t, NodeId u) { return t.scale(u, -1.7); });
  check_unary_composed("relu", [](Tape<double>& t, NodeId u) { return t.relu(u); }, {0.0});
  check_unary_composed("leaky_relu", [](Tape<double>& t, NodeId u) { return t.leaky_relu(u, 0.2); }, {0.0});
  check_unary_composed("tanh", [](Tape<double>& t, NodeId u) { return t.tanh(u); });
  check_unary_composed("exp", [](Tape<double>& t, NodeId u) { return t.exp(u); });
  check_unary_composed("log", [](Tape<double>& t, NodeId u) { return t.log(u); }, {},
                       [](Tape<double>& t, NodeId p) { return t.exp(t.tanh(p)); });  // positive input
  check_unary_composed("square", [](Tape<double>& t, NodeId u) { return t.square(u); });
  check_unary_composed("huber", [](Tape<double>& t, NodeId u) { return t.huber(u, 0.5); },
                       {huber_kinks[0], huber_kinks[1]});
  check_unary_composed("sum", [](Tape<double>& t, NodeId u) { return t.sum(u); });
  check_unary_composed("mean", [](Tape<double>& t, NodeId u) { return t.mean(u); });
  check_unary_composed("row_sum", [](Tape<double>& t, NodeId u) { return t.row_sum(u); });
  check_unary_composed("masked_log_softmax", [](Tape<double>& t, NodeId u) {
    return t.masked_log_softmax(u, t.constant(kRows, kCols, 1.0));
  });
  check_unary_composed("row_logsumexp", [](Tape<double>& t, NodeId u) { return t.row_logsumexp(u); });
  check_unary_composed("pick", [](Tape<double>& t, NodeId u) { return t.pick(u, columns); });
  check_unary_composed("gather_rows", [](Tape<double>& t, NodeId u) { return t.gather_rows(u, gather, 2, 2); });
  check_unary_composed("segment_sum", [](Tape<double>& t, NodeId u) { return t.segment_sum(u, segments, 2); });
  check_unary_composed("segment_cumsum", [](Tape<double>& t, NodeId u) { return t.segment_cumsum(u, segments, 2); });
  check_unary_composed("segment_logsumexp",
                       [](Tape<double>& t, NodeId u) { return t.segment_logsumexp(u, segments, 2); });
  check_unary_composed("slice_cols", [](Tape<double>& t, NodeId u) { return t.slice_cols(u, 1, 2); });
}

// Two-input ops with internal inputs: op(u, v) with u = tanh(p), v = tanh(q), then op(u, u) (one
// node as both inputs), each output also feeding two consumers as above.
void check_binary_composed(const std::string& name, const BinaryOp& op, int p_rows, int p_cols, int q_rows,
                           int q_cols, bool same_input_too) {
  CAPTURE(name);
  ParameterStore<double> store;
  const int p = add_random_parameter(store, "p", p_rows, p_cols, 21, -1.5, 1.5);
  const int q = add_random_parameter(store, "q", q_rows, q_cols, 22, -1.5, 1.5);
  const auto check = check_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s,
                                               FlatVector<double>* g) {
    const NodeId u = tape.tanh(tape.parameter(s, p, g));
    const NodeId v = tape.tanh(tape.parameter(s, q, g));
    const NodeId y = op(tape, u, v);
    NodeId loss = tape.add(weighted_sum(tape, y), tape.scale(tape.sum(tape.mul(y, y)), 0.5));
    if (same_input_too) loss = tape.add(loss, weighted_sum(tape, op(tape, u, u)));
    return loss;
  });
  CHECK_MESSAGE(check.passed(), name << ": " << check.report());
}

TEST_CASE("autodiff composition: every two-input op on internal nodes, also with one node as both inputs") {
  check_binary_composed("add", [](Tape<double>& t, NodeId a, NodeId b) { return t.add(a, b); }, 3, 4, 3, 4, true);
  check_binary_composed("sub", [](Tape<double>& t, NodeId a, NodeId b) { return t.sub(a, b); }, 3, 4, 3, 4, true);
  check_binary_composed("mul", [](Tape<double>& t, NodeId a, NodeId b) { return t.mul(a, b); }, 3, 4, 3, 4, true);
  check_binary_composed("matmul", [](Tape<double>& t, NodeId a, NodeId b) { return t.matmul(a, b); }, 3, 3, 3, 3,
                        true);
  check_binary_composed("matmul (rectangular)", [](Tape<double>& t, NodeId a, NodeId b) { return t.matmul(a, b); },
                        3, 4, 4, 2, false);
  check_binary_composed("add_bias", [](Tape<double>& t, NodeId a, NodeId b) { return t.add_bias(a, b); }, 3, 4, 1,
                        4, false);
  check_binary_composed("concat_cols", [](Tape<double>& t, NodeId a, NodeId b) { return t.concat_cols(a, b); }, 3,
                        4, 3, 2, true);
  check_binary_composed("concat_rows", [](Tape<double>& t, NodeId a, NodeId b) { return t.concat_rows(a, b); }, 3,
                        4, 2, 4, true);
}

TEST_CASE("autodiff composition: linear with internal input, weight and bias, input shared with a skip path") {
  ParameterStore<double> store;
  const int x = add_random_parameter(store, "x", 5, 3, 31, -1.5, 1.5);
  const int w = add_random_parameter(store, "w", 3, 3, 32, -1, 1);
  const int b = add_random_parameter(store, "b", 1, 3, 33, -1, 1);
  const auto check = check_gradient(store, [&](Tape<double>& tape, const ParameterStore<double>& s,
                                               FlatVector<double>* g) {
    const NodeId u = tape.tanh(tape.parameter(s, x, g));
    const NodeId weight = tape.tanh(tape.parameter(s, w, g));
    const NodeId bias = tape.exp(tape.parameter(s, b, g));
    const NodeId h = tape.linear(u, weight, bias);
    const NodeId h2 = tape.linear(tape.add(h, u), weight, bias);  // weight and bias used twice
    return tape.add(weighted_sum(tape, h2), weighted_sum(tape, h));
  });
  CHECK_MESSAGE(check.passed(), check.report());
}

TEST_CASE("autodiff composition: a node on no path to the root keeps a zero gradient") {
  ParameterStore<double> store;
  const int p = add_random_parameter(store, "p", 2, 3, 41);
  FlatVector<double> gradient = store.make_gradient();
  Tape<double> tape;
  const NodeId u = tape.tanh(tape.parameter(store, p, &gradient));
  const NodeId unused = tape.exp(u);  // before the root, not used by it
  const NodeId root = tape.sum(tape.square(u));
  tape.backward(root);
  CHECK(tape.gradient(unused).isZero(0.0));
  // d/dp sum(tanh(p)^2) = 2 tanh(p) (1 - tanh(p)^2): the unused exp adds nothing.
  const auto t = store.value(p).array().tanh();
  const Matrix<double> expected = (2 * t * (1 - t.square())).matrix();
  CHECK((store.gradient(gradient, p) - expected).cwiseAbs().maxCoeff() < 1e-12);
}

}  // namespace
}  // namespace gfn
