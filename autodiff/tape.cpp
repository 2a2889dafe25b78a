// Tape implementation: the forward rule of every op is in its builder method below, and its backward
// rule is the case of the same name in backward_node(), which repeats the forward formula in a comment
// so the pair can be read together. Instantiated for float (training) and double (gradient checks).
// Backward writes a node's gradient with `=` on its first contribution and `+=` after (add_gradient,
// gradient_sink), so no pass zeroes the gradients first; parameter gradients always accumulate.
#include "autodiff/tape.hpp"

#include "autodiff/gemm.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace gfn {

namespace {
template <typename Scalar>
constexpr Scalar minus_infinity() { return -std::numeric_limits<Scalar>::infinity(); }

// row += the sum of g's rows (the gradient of a bias broadcast over rows). B x N -> 1 x N.
template <typename Scalar>
void add_column_sums(ConstMatrixMap<Scalar> g, MatrixMap<Scalar> row) {
  for (int r = 0; r < g.rows(); ++r) row.row(0) += g.row(r);
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// Node bookkeeping

template <typename Scalar>
void Tape<Scalar>::clear() {
  count_ = 0;
  arena_end_ = 0;
  indices_end_ = 0;
  chunk_index_ = 0;
}

// Places `size` values at the first layout offset >= `offset` that lies in a chunk, from the chunk
// being filled on (offsets only grow within a step); returns that offset, in chunk chunk_index_.
template <typename Scalar>
int64_t Tape<Scalar>::arena_slot(int64_t offset, int64_t size) {
  for (; chunk_index_ < chunks_.size(); ++chunk_index_) {
    const Chunk& chunk = chunks_[chunk_index_];
    const int64_t at = std::max(offset, chunk.start);
    if (at + size <= chunk.start + chunk.size) return at;
  }
  // None does: a new chunk that at least doubles the arena. Its values start at a shift chosen so that
  // addresses stay congruent to layout offsets modulo a 4 KB page (relative to chunk 0), which keeps
  // the layout's staggering, and so no cache aliasing, across chunks.
  constexpr int64_t page = 4096 / sizeof(Scalar);
  Chunk chunk;
  chunk.start = offset;
  chunk.size = std::max({size, offset, 16 * page});
  chunk.storage.resize(chunk.size + page);
  const Scalar* origin = chunks_.empty() ? chunk.storage.data() : chunks_[0].storage.data() + chunks_[0].shift;
  const uintptr_t wanted = reinterpret_cast<uintptr_t>(origin) + uintptr_t(offset) * sizeof(Scalar);
  chunk.shift = int64_t((wanted - reinterpret_cast<uintptr_t>(chunk.storage.data())) % 4096 / sizeof(Scalar));
  chunks_.push_back(std::move(chunk));
  chunk_index_ = chunks_.size() - 1;
  return offset;
}

template <typename Scalar>
int64_t Tape<Scalar>::arena_capacity() const {
  int64_t total = 0;
  for (const Chunk& chunk : chunks_) total += chunk.size;
  return total;
}

template <typename Scalar>
NodeId Tape<Scalar>::new_node(Op op, int rows, int cols, NodeId a, NodeId b, NodeId c) {
  if (count_ == int(nodes_.size())) nodes_.emplace_back();
  const NodeId id = count_++;
  Node& node = nodes_[id];
  node = Node{};
  node.op = op;
  node.a = a;
  node.b = b;
  node.c = c;
  node.rows = rows;
  node.cols = cols;
  node.needs_gradient = (a >= 0 && nodes_[a].needs_gradient) || (b >= 0 && nodes_[b].needs_gradient) ||
                        (c >= 0 && nodes_[c].needs_gradient);
  const int64_t size = int64_t(rows) * cols;
  node.offset = arena_slot(staggered_offset<Scalar>(arena_end_), size);
  node.chunk = int(chunk_index_);
  arena_end_ = node.offset + size;
  return id;
}

template <typename Scalar>
int64_t Tape<Scalar>::store_indices(const int* values, int count) {
  const int64_t start = indices_end_;
  indices_end_ += count;
  if (int64_t(indices_.size()) < indices_end_) indices_.resize(indices_end_);
  if (count > 0) std::memcpy(indices_.data() + start, values, sizeof(int) * count);
  return start;
}

template <typename Scalar>
ConstMatrixMap<Scalar> Tape<Scalar>::value(NodeId id) const {
  const Node& node = nodes_[id];
  const Scalar* data =
      node.external_value ? node.external_value : chunks_[node.chunk].storage.data() + value_position(node);
  return ConstMatrixMap<Scalar>(data, node.rows, node.cols);
}

template <typename Scalar>
MatrixMap<Scalar> Tape<Scalar>::out(NodeId id) {
  const Node& node = nodes_[id];
  return MatrixMap<Scalar>(chunks_[node.chunk].storage.data() + value_position(node), node.rows, node.cols);
}

template <typename Scalar>
MatrixMap<Scalar> Tape<Scalar>::mutable_value(NodeId id) {
  if (nodes_[id].op != Op::Constant) throw std::logic_error("Tape::mutable_value: not a constant node");
  return out(id);
}

template <typename Scalar>
MatrixMap<Scalar> Tape<Scalar>::grad_of(NodeId id) {
  const Node& node = nodes_[id];
  Scalar* data = node.op == Op::Parameter ? node.external_gradient : gradients_.data() + node.offset;
  return MatrixMap<Scalar>(data, node.rows, node.cols);
}

template <typename Scalar>
ConstMatrixMap<Scalar> Tape<Scalar>::gradient(NodeId id) const {
  const Node& node = nodes_[id];
  const Scalar* data = node.op == Op::Parameter ? node.external_gradient : gradients_.data() + node.offset;
  return ConstMatrixMap<Scalar>(data, node.rows, node.cols);
}

// ---------------------------------------------------------------------------------------------
// Forward rules (the matching backward rules are in backward_node, same order)

template <typename Scalar>
NodeId Tape<Scalar>::constant(const Eigen::Ref<const Matrix<Scalar>>& value) {
  const NodeId id = new_node(Op::Constant, int(value.rows()), int(value.cols()));
  out(id) = value;
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::constant(int rows, int cols, Scalar fill) {
  const NodeId id = new_node(Op::Constant, rows, cols);
  out(id).setConstant(fill);
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::parameter(const ParameterStore<Scalar>& store, int parameter_id,
                               FlatVector<Scalar>* gradient_buffer) {
  const auto& entry = store.entry(parameter_id);
  if (gradient_buffer && int64_t(gradient_buffer->size()) != store.flat_size())
    throw std::invalid_argument("Tape::parameter: gradient buffer does not match the store");
  const NodeId id = new_node(Op::Parameter, 0, 0);  // no arena space: the value is external
  Node& node = nodes_[id];
  node.rows = entry.rows;
  node.cols = entry.cols;
  node.external_value = store.values().data() + entry.offset;
  node.external_gradient = gradient_buffer ? gradient_buffer->data() + entry.offset : nullptr;
  node.needs_gradient = gradient_buffer != nullptr;
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::stop_gradient(NodeId a) {
  const NodeId id = new_node(Op::StopGradient, nodes_[a].rows, nodes_[a].cols);
  out(id) = value(a);
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::matmul(NodeId a, NodeId b) {
  assert(nodes_[a].cols == nodes_[b].rows);
  const NodeId id = new_node(Op::MatMul, nodes_[a].rows, nodes_[b].cols, a, b);
  gemm(value(a), false, value(b), false, out(id), false, gemm_workspace_);
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::linear(NodeId x, NodeId weight, NodeId bias) {
  assert(nodes_[x].cols == nodes_[weight].rows);
  assert(nodes_[bias].rows == 1 && nodes_[bias].cols == nodes_[weight].cols);
  const NodeId id = new_node(Op::Linear, nodes_[x].rows, nodes_[weight].cols, x, weight, bias);
  auto y = out(id);
  y.rowwise() = value(bias).row(0);
  gemm(value(x), false, value(weight), false, y, true, gemm_workspace_);
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::add(NodeId a, NodeId b) {
  assert(nodes_[a].rows == nodes_[b].rows && nodes_[a].cols == nodes_[b].cols);
  const NodeId id = new_node(Op::Add, nodes_[a].rows, nodes_[a].cols, a, b);
  out(id) = value(a) + value(b);
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::sub(NodeId a, NodeId b) {
  assert(nodes_[a].rows == nodes_[b].rows && nodes_[a].cols == nodes_[b].cols);
  const NodeId id = new_node(Op::Sub, nodes_[a].rows, nodes_[a].cols, a, b);
  out(id) = value(a) - value(b);
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::mul(NodeId a, NodeId b) {
  assert(nodes_[a].rows == nodes_[b].rows && nodes_[a].cols == nodes_[b].cols);
  const NodeId id = new_node(Op::Mul, nodes_[a].rows, nodes_[a].cols, a, b);
  out(id) = value(a).cwiseProduct(value(b));
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::scale(NodeId a, Scalar factor) {
  const NodeId id = new_node(Op::Scale, nodes_[a].rows, nodes_[a].cols, a);
  nodes_[id].attribute = factor;
  out(id) = value(a) * factor;
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::add_bias(NodeId a, NodeId bias) {
  assert(nodes_[bias].rows == 1 && nodes_[bias].cols == nodes_[a].cols);
  const NodeId id = new_node(Op::AddBias, nodes_[a].rows, nodes_[a].cols, a, bias);
  out(id) = value(a).rowwise() + value(bias).row(0);
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::relu(NodeId a) {
  const NodeId id = new_node(Op::Relu, nodes_[a].rows, nodes_[a].cols, a);
  out(id) = value(a).cwiseMax(Scalar(0));
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::leaky_relu(NodeId a, Scalar slope) {
  const NodeId id = new_node(Op::LeakyRelu, nodes_[a].rows, nodes_[a].cols, a);
  nodes_[id].attribute = slope;
  auto x = value(a).array();
  out(id) = (x > Scalar(0)).select(x, x * slope).matrix();
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::tanh(NodeId a) {
  const NodeId id = new_node(Op::Tanh, nodes_[a].rows, nodes_[a].cols, a);
  out(id) = value(a).array().tanh().matrix();
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::exp(NodeId a) {
  const NodeId id = new_node(Op::Exp, nodes_[a].rows, nodes_[a].cols, a);
  out(id) = value(a).array().exp().matrix();
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::log(NodeId a) {
  const NodeId id = new_node(Op::Log, nodes_[a].rows, nodes_[a].cols, a);
  out(id) = value(a).array().log().matrix();
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::square(NodeId a) {
  const NodeId id = new_node(Op::Square, nodes_[a].rows, nodes_[a].cols, a);
  out(id) = value(a).array().square().matrix();
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::huber(NodeId a, Scalar delta) {
  const NodeId id = new_node(Op::Huber, nodes_[a].rows, nodes_[a].cols, a);
  nodes_[id].attribute = delta;
  auto x = value(a).array();
  auto magnitude = x.abs();
  out(id) = (magnitude <= delta).select(Scalar(0.5) * x.square(), delta * (magnitude - Scalar(0.5) * delta)).matrix();
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::sum(NodeId a) {
  const NodeId id = new_node(Op::Sum, 1, 1, a);
  out(id)(0, 0) = value(a).sum();
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::mean(NodeId a) {
  const NodeId id = new_node(Op::Mean, 1, 1, a);
  const int64_t n = int64_t(nodes_[a].rows) * nodes_[a].cols;
  out(id)(0, 0) = n > 0 ? value(a).sum() / Scalar(n) : Scalar(0);
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::row_sum(NodeId a) {
  const NodeId id = new_node(Op::RowSum, nodes_[a].rows, 1, a);
  out(id) = value(a).rowwise().sum();
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::masked_log_softmax(NodeId a, NodeId mask) {
  assert(nodes_[a].rows == nodes_[mask].rows && nodes_[a].cols == nodes_[mask].cols);
  const NodeId id = new_node(Op::MaskedLogSoftmax, nodes_[a].rows, nodes_[a].cols, a, mask);
  auto x = value(a);
  auto m = value(mask);
  auto y = out(id);
  for (int r = 0; r < y.rows(); ++r) {
    Scalar row_max = minus_infinity<Scalar>();
    for (int c = 0; c < y.cols(); ++c)
      if (m(r, c) != Scalar(0)) row_max = std::max(row_max, x(r, c));
    if (row_max == minus_infinity<Scalar>()) {  // nothing valid in this row
      y.row(r).setConstant(minus_infinity<Scalar>());
      continue;
    }
    // Vectorised over the whole row: masked entries are clamped to exp(<= 0) and multiplied by 0.
    const Scalar total = ((x.row(r).array() - row_max).min(Scalar(0)).exp() * m.row(r).array()).sum();
    const Scalar log_normaliser = row_max + std::log(total);
    for (int c = 0; c < y.cols(); ++c)
      y(r, c) = m(r, c) != Scalar(0) ? x(r, c) - log_normaliser : minus_infinity<Scalar>();
  }
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::row_logsumexp(NodeId a) {
  const NodeId id = new_node(Op::RowLogSumExp, nodes_[a].rows, 1, a);
  auto x = value(a);
  auto y = out(id);
  for (int r = 0; r < x.rows(); ++r) {
    const Scalar row_max = x.cols() > 0 ? x.row(r).maxCoeff() : minus_infinity<Scalar>();
    if (row_max == minus_infinity<Scalar>()) {
      y(r, 0) = minus_infinity<Scalar>();
      continue;
    }
    y(r, 0) = row_max + std::log((x.row(r).array() - row_max).exp().sum());
  }
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::pick(NodeId a, const int* columns) {
  const NodeId id = new_node(Op::Pick, nodes_[a].rows, 1, a);
  Node& node = nodes_[id];
  node.indices_offset = store_indices(columns, node.rows);
  node.n_indices = node.rows;
  auto x = value(a);
  auto y = out(id);
  const int* picked = indices(nodes_[id]);
  for (int r = 0; r < y.rows(); ++r) {
    assert(picked[r] >= -1 && picked[r] < x.cols());
    y(r, 0) = picked[r] >= 0 ? x(r, picked[r]) : Scalar(0);
  }
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::gather_rows(NodeId a, const int* row_indices, int n_outputs, int rows_per_output) {
  const NodeId id = new_node(Op::GatherRows, n_outputs, nodes_[a].cols, a);
  const int n = n_outputs * rows_per_output;
  nodes_[id].indices_offset = store_indices(row_indices, n);
  nodes_[id].n_indices = n;
  nodes_[id].int_attribute = rows_per_output;
  auto x = value(a);
  auto y = out(id);
  const int* rows = indices(nodes_[id]);
  for (int r = 0; r < n_outputs; ++r) {
    const int* group = rows + int64_t(r) * rows_per_output;
    assert(group[0] >= 0 && group[0] < x.rows());
    y.row(r) = x.row(group[0]);
    for (int k = 1; k < rows_per_output; ++k) {
      assert(group[k] >= 0 && group[k] < x.rows());
      y.row(r) += x.row(group[k]);
    }
  }
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::segment_sum(NodeId a, const int* offsets, int n_segments) {
  const NodeId id = new_node(Op::SegmentSum, n_segments, nodes_[a].cols, a);
  nodes_[id].indices_offset = store_indices(offsets, n_segments + 1);
  nodes_[id].n_indices = n_segments + 1;
  auto x = value(a);
  auto y = out(id);
  const int* bounds = indices(nodes_[id]);
  assert(bounds[n_segments] <= x.rows());
  for (int s = 0; s < n_segments; ++s) {
    y.row(s).setZero();
    for (int r = bounds[s]; r < bounds[s + 1]; ++r) y.row(s) += x.row(r);
  }
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::segment_cumsum(NodeId a, const int* offsets, int n_segments) {
  const NodeId id = new_node(Op::SegmentCumSum, nodes_[a].rows, nodes_[a].cols, a);
  nodes_[id].indices_offset = store_indices(offsets, n_segments + 1);
  nodes_[id].n_indices = n_segments + 1;
  auto x = value(a);
  auto y = out(id);
  const int* bounds = indices(nodes_[id]);
  y.setZero();
  for (int s = 0; s < n_segments; ++s) {
    if (bounds[s] < bounds[s + 1]) y.row(bounds[s]) = x.row(bounds[s]);
    for (int r = bounds[s] + 1; r < bounds[s + 1]; ++r) y.row(r) = y.row(r - 1) + x.row(r);
  }
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::segment_logsumexp(NodeId a, const int* offsets, int n_segments) {
  const NodeId id = new_node(Op::SegmentLogSumExp, n_segments, nodes_[a].cols, a);
  nodes_[id].indices_offset = store_indices(offsets, n_segments + 1);
  nodes_[id].n_indices = n_segments + 1;
  auto x = value(a);
  auto y = out(id);
  const int* bounds = indices(nodes_[id]);
  for (int s = 0; s < n_segments; ++s)
    for (int c = 0; c < x.cols(); ++c) {
      Scalar segment_max = minus_infinity<Scalar>();
      for (int r = bounds[s]; r < bounds[s + 1]; ++r) segment_max = std::max(segment_max, x(r, c));
      if (segment_max == minus_infinity<Scalar>()) {
        y(s, c) = minus_infinity<Scalar>();
        continue;
      }
      Scalar total = 0;
      for (int r = bounds[s]; r < bounds[s + 1]; ++r) total += std::exp(x(r, c) - segment_max);
      y(s, c) = segment_max + std::log(total);
    }
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::slice_cols(NodeId a, int start, int count) {
  assert(start >= 0 && start + count <= nodes_[a].cols);
  const NodeId id = new_node(Op::SliceCols, nodes_[a].rows, count, a);
  nodes_[id].int_attribute = start;
  out(id) = value(a).middleCols(start, count);
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::concat_cols(NodeId a, NodeId b) {
  assert(nodes_[a].rows == nodes_[b].rows);
  const int left = nodes_[a].cols;
  const NodeId id = new_node(Op::ConcatCols, nodes_[a].rows, left + nodes_[b].cols, a, b);
  auto y = out(id);
  y.leftCols(left) = value(a);
  y.rightCols(nodes_[b].cols) = value(b);
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::concat_rows(NodeId a, NodeId b) {
  assert(nodes_[a].cols == nodes_[b].cols);
  const int top = nodes_[a].rows;
  const NodeId id = new_node(Op::ConcatRows, top + nodes_[b].rows, nodes_[a].cols, a, b);
  auto y = out(id);
  y.topRows(top) = value(a);
  y.bottomRows(nodes_[b].rows) = value(b);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Backward

template <typename Scalar>
void Tape<Scalar>::backward(NodeId root) {
  if (int64_t(gradients_.size()) < arena_end_) gradients_.resize(arena_end_);
  for (NodeId id = 0; id <= root; ++id) nodes_[id].gradient_written = false;
  if (!nodes_[root].needs_gradient) return;
  if (nodes_[root].op == Op::Parameter) throw std::invalid_argument("Tape::backward: root is a parameter");
  grad_of(root).setOnes();
  nodes_[root].gradient_written = true;
  for (NodeId id = root; id >= 0; --id) {
    Node& node = nodes_[id];
    if (!node.needs_gradient || node.op == Op::Parameter) continue;
    if (!node.gradient_written) {  // on no path to the root: its gradient is zero, nothing to pass on
      grad_of(id).setZero();
      node.gradient_written = true;
      continue;
    }
    backward_node(id);
  }
}

// True for the first contribution to a node's gradient in this backward pass (the caller assigns
// instead of accumulating); parameter gradients always accumulate.
template <typename Scalar>
bool Tape<Scalar>::first_write(NodeId id) {
  Node& node = nodes_[id];
  if (node.op == Op::Parameter || node.gradient_written) return false;
  node.gradient_written = true;
  return true;
}

template <typename Scalar>
template <typename Contribution>
void Tape<Scalar>::add_gradient(NodeId id, const Contribution& contribution) {
  if (first_write(id)) {
    grad_of(id).array() = contribution.array();
  } else {
    grad_of(id).array() += contribution.array();
  }
}

// For rules that add into parts of a gradient (scatters, slices): zeroed on the first contribution.
template <typename Scalar>
MatrixMap<Scalar> Tape<Scalar>::gradient_sink(NodeId id) {
  if (first_write(id)) grad_of(id).setZero();
  return grad_of(id);
}

template <typename Scalar>
void Tape<Scalar>::backward_node(NodeId id) {
  const Node& node = nodes_[id];
  const NodeId a = node.a, b = node.b, c = node.c;
  const bool grad_a = a >= 0 && nodes_[a].needs_gradient;
  const bool grad_b = b >= 0 && nodes_[b].needs_gradient;
  const bool grad_c = c >= 0 && nodes_[c].needs_gradient;
  const auto g = gradient(id);
  const auto y = value(id);
  switch (node.op) {
    case Op::Constant:
    case Op::Parameter:
    case Op::StopGradient:
      break;
    case Op::MatMul:  // y = a b
      if (grad_a) gemm(g, false, value(b), true, grad_of(a), !first_write(a), gemm_workspace_);
      if (grad_b) gemm(value(a), true, g, false, grad_of(b), !first_write(b), gemm_workspace_);
      break;
    case Op::Linear:  // y = x W + 1 bias, with (a, b, c) = (x, W, bias)
      if (grad_a) gemm(g, false, value(b), true, grad_of(a), !first_write(a), gemm_workspace_);
      if (grad_b) gemm(value(a), true, g, false, grad_of(b), !first_write(b), gemm_workspace_);
      if (grad_c) add_column_sums(g, gradient_sink(c));
      break;
    case Op::Add:  // y = a + b
      if (grad_a) add_gradient(a, g);
      if (grad_b) add_gradient(b, g);
      break;
    case Op::Sub:  // y = a - b
      if (grad_a) add_gradient(a, g);
      if (grad_b) add_gradient(b, -g);
      break;
    case Op::Mul:  // y = a * b
      if (grad_a) add_gradient(a, g.cwiseProduct(value(b)));
      if (grad_b) add_gradient(b, g.cwiseProduct(value(a)));
      break;
    case Op::Scale:  // y = c a
      add_gradient(a, g * node.attribute);
      break;
    case Op::AddBias:  // y = a + 1 bias
      if (grad_a) add_gradient(a, g);
      if (grad_b) add_column_sums(g, gradient_sink(b));
      break;
    case Op::Relu:  // y = max(a, 0)
      add_gradient(a, (y.array() > Scalar(0)).select(g.array(), Scalar(0)));
      break;
    case Op::LeakyRelu:  // y = a > 0 ? a : slope a
      add_gradient(a, (value(a).array() > Scalar(0)).select(g.array(), g.array() * node.attribute));
      break;
    case Op::Tanh:  // y = tanh(a)
      add_gradient(a, g.array() * (Scalar(1) - y.array().square()));
      break;
    case Op::Exp:  // y = exp(a)
      add_gradient(a, g.array() * y.array());
      break;
    case Op::Log:  // y = log(a)
      add_gradient(a, g.array() / value(a).array());
      break;
    case Op::Square:  // y = a^2
      add_gradient(a, Scalar(2) * g.array() * value(a).array());
      break;
    case Op::Huber: {  // y = 0.5 a^2 (|a| <= delta), delta (|a| - delta/2) otherwise
      const Scalar delta = node.attribute;
      add_gradient(a, g.array() * value(a).array().cwiseMax(-delta).cwiseMin(delta));
      break;
    }
    case Op::Sum:  // y = sum a
      add_gradient(a, Matrix<Scalar>::Constant(nodes_[a].rows, nodes_[a].cols, g(0, 0)));
      break;
    case Op::Mean: {  // y = sum a / n
      const int64_t n = int64_t(nodes_[a].rows) * nodes_[a].cols;
      add_gradient(a, Matrix<Scalar>::Constant(nodes_[a].rows, nodes_[a].cols, n > 0 ? g(0, 0) / Scalar(n) : 0));
      break;
    }
    case Op::RowSum:  // y_r = sum_c a_rc
      add_gradient(a, g.col(0).replicate(1, nodes_[a].cols));
      break;
    case Op::MaskedLogSoftmax: {  // y_rc = a_rc - logsumexp_valid(a_r), -inf where masked
      // da_rc += m_rc (g_rc - softmax_rc sum_valid g_r): the 0/1 mask zeroes the masked entries
      // (where exp(y) = exp(-inf) = 0), so whole-row vector arithmetic needs no branch.
      auto da = gradient_sink(a);
      auto m = value(node.b);
      for (int r = 0; r < y.rows(); ++r) {
        const Scalar total = (g.row(r).array() * m.row(r).array()).sum();
        da.row(r).array() += m.row(r).array() * (g.row(r).array() - y.row(r).array().exp() * total);
      }
      break;
    }
    case Op::RowLogSumExp: {  // y_r = log sum_c exp(a_rc)
      auto x = value(a);
      auto da = gradient_sink(a);
      for (int r = 0; r < x.rows(); ++r) {
        if (y(r, 0) == minus_infinity<Scalar>()) continue;
        da.row(r).array() += g(r, 0) * (x.row(r).array() - y(r, 0)).exp();
      }
      break;
    }
    case Op::Pick: {  // y_r = a(r, column_r)
      auto da = gradient_sink(a);
      const int* picked = indices(node);
      for (int r = 0; r < node.rows; ++r)
        if (picked[r] >= 0) da(r, picked[r]) += g(r, 0);
      break;
    }
    case Op::GatherRows: {  // y_r = sum_k a(index[r K + k])
      auto da = gradient_sink(a);
      const int* rows = indices(node);
      const int per_output = node.int_attribute;
      for (int r = 0; r < node.rows; ++r)
        for (int k = 0; k < per_output; ++k) da.row(rows[int64_t(r) * per_output + k]) += g.row(r);
      break;
    }
    case Op::SegmentSum: {  // y_s = sum over rows of segment s
      auto da = gradient_sink(a);
      const int* bounds = indices(node);
      for (int s = 0; s < node.rows; ++s)
        for (int r = bounds[s]; r < bounds[s + 1]; ++r) da.row(r) += g.row(s);
      break;
    }
    case Op::SegmentCumSum: {  // y_r = sum of a over the segment's rows up to r
      auto da = gradient_sink(a);
      const int* bounds = indices(node);
      const int n_segments = node.n_indices - 1;
      for (int s = 0; s < n_segments; ++s)
        for (int c = 0; c < node.cols; ++c) {
          Scalar suffix = 0;  // sum of g over rows r.. of the segment
          for (int r = bounds[s + 1] - 1; r >= bounds[s]; --r) {
            suffix += g(r, c);
            da(r, c) += suffix;
          }
        }
      break;
    }
    case Op::SegmentLogSumExp: {  // y_s = log sum over rows r of segment s of exp(a_r)
      auto x = value(a);
      auto da = gradient_sink(a);
      const int* bounds = indices(node);
      for (int s = 0; s < node.rows; ++s)
        for (int c = 0; c < node.cols; ++c) {
          if (y(s, c) == minus_infinity<Scalar>()) continue;
          for (int r = bounds[s]; r < bounds[s + 1]; ++r) da(r, c) += g(s, c) * std::exp(x(r, c) - y(s, c));
        }
      break;
    }
    case Op::SliceCols:  // y = a[:, start : start + count]
      gradient_sink(a).middleCols(node.int_attribute, node.cols) += g;
      break;
    case Op::ConcatCols:  // y = [a b]
      if (grad_a) add_gradient(a, g.leftCols(nodes_[a].cols));
      if (grad_b) add_gradient(b, g.rightCols(nodes_[b].cols));
      break;
    case Op::ConcatRows:  // y = [a; b]
      if (grad_a) add_gradient(a, g.topRows(nodes_[a].rows));
      if (grad_b) add_gradient(b, g.bottomRows(nodes_[b].rows));
      break;
  }
}

template class Tape<float>;
template class Tape<double>;

}  // namespace gfn
