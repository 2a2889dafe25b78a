// Tape implementation. Each op is a pair read top to bottom: its builder (the forward rule: allocate
// the output node, compute its value) and right below it `<op>_backward` (the backward rule), under a
// comment giving the forward formula and its derivative. Notation in those comments: y is the op's
// value, g = dL/dy its gradient, and every rule adds its contribution into its inputs' gradients
// (dL/da += ...). Instantiated for float (training) and double (gradient checks).
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
NodeId Tape<Scalar>::new_node(int rows, int cols, BackwardRule backward, NodeId a, NodeId b, NodeId c) {
  if (count_ == int(nodes_.size())) nodes_.emplace_back();
  const NodeId id = count_++;
  Node& node = nodes_[id];
  node = Node{};
  node.backward = backward;
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
  if (nodes_[id].kind != Kind::Constant) throw std::logic_error("Tape::mutable_value: not a constant node");
  return out(id);
}

template <typename Scalar>
MatrixMap<Scalar> Tape<Scalar>::grad_of(NodeId id) {
  const Node& node = nodes_[id];
  Scalar* data = node.kind == Kind::Parameter ? node.external_gradient : gradients_.data() + node.offset;
  return MatrixMap<Scalar>(data, node.rows, node.cols);
}

template <typename Scalar>
ConstMatrixMap<Scalar> Tape<Scalar>::gradient(NodeId id) const {
  const Node& node = nodes_[id];
  const Scalar* data = node.kind == Kind::Parameter ? node.external_gradient : gradients_.data() + node.offset;
  return ConstMatrixMap<Scalar>(data, node.rows, node.cols);
}

// ---------------------------------------------------------------------------------------------
// Backward: the one gradient rule

// 1. Zero the gradient of every node up to the root that can carry one; seed the root with ones.
// 2. Walk back in creation order (a topological order, so a node's consumers come first): each node on
//    a path to the root runs its backward rule, which adds (+=) into its inputs' gradients (parameter
//    inputs: into the caller's gradient buffer, which is never zeroed here).
// Nodes on no path to the root keep a zero gradient and run no rule (e.g. a head the loss ignores).
template <typename Scalar>
void Tape<Scalar>::backward(NodeId root) {
  if (nodes_[root].kind == Kind::Parameter) throw std::invalid_argument("Tape::backward: root is a parameter");
  if (int64_t(gradients_.size()) < arena_end_) gradients_.resize(arena_end_);
  for (NodeId id = 0; id <= root; ++id) {
    Node& node = nodes_[id];
    node.reached = false;
    if (node.needs_gradient && node.kind != Kind::Parameter) grad_of(id).setZero();
  }
  if (!nodes_[root].needs_gradient) return;
  grad_of(root).setOnes();
  nodes_[root].reached = true;
  for (NodeId id = root; id >= 0; --id) {
    const Node& node = nodes_[id];
    if (!node.reached || !node.needs_gradient || !node.backward) continue;
    (this->*node.backward)(id);
    for (const NodeId input : {node.a, node.b, node.c})
      if (input >= 0) nodes_[input].reached = true;
  }
}

// ---------------------------------------------------------------------------------------------
// Leaves: no backward rule

template <typename Scalar>
NodeId Tape<Scalar>::constant(const Eigen::Ref<const Matrix<Scalar>>& value) {
  const NodeId id = new_node(int(value.rows()), int(value.cols()), nullptr);
  nodes_[id].kind = Kind::Constant;
  out(id) = value;
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::constant(int rows, int cols, Scalar fill) {
  const NodeId id = new_node(rows, cols, nullptr);
  nodes_[id].kind = Kind::Constant;
  out(id).setConstant(fill);
  return id;
}

template <typename Scalar>
NodeId Tape<Scalar>::parameter(const ParameterStore<Scalar>& store, int parameter_id,
                               FlatVector<Scalar>* gradient_buffer) {
  const auto& entry = store.entry(parameter_id);
  if (gradient_buffer && int64_t(gradient_buffer->size()) != store.flat_size())
    throw std::invalid_argument("Tape::parameter: gradient buffer does not match the store");
  const NodeId id = new_node(0, 0, nullptr);  // no arena space: the value is external
  Node& node = nodes_[id];
  node.kind = Kind::Parameter;
  node.rows = entry.rows;
  node.cols = entry.cols;
  node.external_value = store.values().data() + entry.offset;
  node.external_gradient = gradient_buffer ? gradient_buffer->data() + entry.offset : nullptr;
  node.needs_gradient = gradient_buffer != nullptr;
  return id;
}

// y = a, and no gradient flows back: the node has no inputs as far as backward() is concerned.
template <typename Scalar>
NodeId Tape<Scalar>::stop_gradient(NodeId a) {
  const NodeId id = new_node(rows(a), cols(a), nullptr);
  out(id) = value(a);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Linear algebra

// y = a b.   dL/da += g b^T,   dL/db += a^T g.
template <typename Scalar>
NodeId Tape<Scalar>::matmul(NodeId a, NodeId b) {
  assert(cols(a) == rows(b));
  const NodeId id = new_node(rows(a), cols(b), &Tape::matmul_backward, a, b);
  gemm(value(a), false, value(b), false, out(id), false, gemm_workspace_);
  return id;
}

template <typename Scalar>
void Tape<Scalar>::matmul_backward(NodeId id) {
  const Node& node = nodes_[id];
  if (wants_gradient(node.a)) gemm(gradient(id), false, value(node.b), true, grad_of(node.a), true, gemm_workspace_);
  if (wants_gradient(node.b)) gemm(value(node.a), true, gradient(id), false, grad_of(node.b), true, gemm_workspace_);
}

// y = x W + 1 bias (bias broadcast over rows), inputs (a, b, c) = (x, W, bias).
// dL/dx += g W^T,   dL/dW += x^T g,   dL/dbias += the column sums of g.
template <typename Scalar>
NodeId Tape<Scalar>::linear(NodeId x, NodeId weight, NodeId bias) {
  assert(cols(x) == rows(weight));
  assert(rows(bias) == 1 && cols(bias) == cols(weight));
  const NodeId id = new_node(rows(x), cols(weight), &Tape::linear_backward, x, weight, bias);
  auto y = out(id);
  y.rowwise() = value(bias).row(0);
  if (const PackedOperand<Scalar>* packed = packed_weight(weight))  // reuse_packed_weights (tape_fast.cpp)
    gemm(value(x), *packed, y, gemm_workspace_);
  else
    gemm(value(x), false, value(weight), false, y, true, gemm_workspace_);
  return id;
}

template <typename Scalar>
void Tape<Scalar>::linear_backward(NodeId id) {
  const Node& node = nodes_[id];
  const auto g = gradient(id);
  if (wants_gradient(node.c)) add_column_sums(g, grad_of(node.c));
  if (block_sparse_backward_ && linear_backward_by_blocks(id)) return;  // tape_fast.cpp
  if (wants_gradient(node.a)) gemm(g, false, value(node.b), true, grad_of(node.a), true, gemm_workspace_);
  if (wants_gradient(node.b)) gemm(value(node.a), true, g, false, grad_of(node.b), true, gemm_workspace_);
}

// ---------------------------------------------------------------------------------------------
// Elementwise, two inputs of one shape (add_bias: a row broadcast over a's rows)

// y = a + b.   dL/da += g,   dL/db += g.
template <typename Scalar>
NodeId Tape<Scalar>::add(NodeId a, NodeId b) {
  assert(rows(a) == rows(b) && cols(a) == cols(b));
  const NodeId id = new_node(rows(a), cols(a), &Tape::add_backward, a, b);
  out(id) = value(a) + value(b);
  return id;
}

template <typename Scalar>
void Tape<Scalar>::add_backward(NodeId id) {
  const Node& node = nodes_[id];
  if (wants_gradient(node.a)) grad_of(node.a) += gradient(id);
  if (wants_gradient(node.b)) grad_of(node.b) += gradient(id);
}

// y = a - b.   dL/da += g,   dL/db -= g.
template <typename Scalar>
NodeId Tape<Scalar>::sub(NodeId a, NodeId b) {
  assert(rows(a) == rows(b) && cols(a) == cols(b));
  const NodeId id = new_node(rows(a), cols(a), &Tape::sub_backward, a, b);
  out(id) = value(a) - value(b);
  return id;
}

template <typename Scalar>
void Tape<Scalar>::sub_backward(NodeId id) {
  const Node& node = nodes_[id];
  if (wants_gradient(node.a)) grad_of(node.a) += gradient(id);
  if (wants_gradient(node.b)) grad_of(node.b) -= gradient(id);
}

// y = a * b (elementwise).   dL/da += g * b,   dL/db += g * a.
template <typename Scalar>
NodeId Tape<Scalar>::mul(NodeId a, NodeId b) {
  assert(rows(a) == rows(b) && cols(a) == cols(b));
  const NodeId id = new_node(rows(a), cols(a), &Tape::mul_backward, a, b);
  out(id) = value(a).cwiseProduct(value(b));
  return id;
}

template <typename Scalar>
void Tape<Scalar>::mul_backward(NodeId id) {
  const Node& node = nodes_[id];
  if (wants_gradient(node.a)) grad_of(node.a) += gradient(id).cwiseProduct(value(node.b));
  if (wants_gradient(node.b)) grad_of(node.b) += gradient(id).cwiseProduct(value(node.a));
}

// y = a + 1 bias (bias: 1 x N, broadcast over a's rows).   dL/da += g,   dL/dbias += column sums of g.
template <typename Scalar>
NodeId Tape<Scalar>::add_bias(NodeId a, NodeId bias) {
  assert(rows(bias) == 1 && cols(bias) == cols(a));
  const NodeId id = new_node(rows(a), cols(a), &Tape::add_bias_backward, a, bias);
  out(id) = value(a).rowwise() + value(bias).row(0);
  return id;
}

template <typename Scalar>
void Tape<Scalar>::add_bias_backward(NodeId id) {
  const Node& node = nodes_[id];
  if (wants_gradient(node.a)) grad_of(node.a) += gradient(id);
  if (wants_gradient(node.b)) add_column_sums(gradient(id), grad_of(node.b));
}

// ---------------------------------------------------------------------------------------------
// Elementwise, one input (the node needs a gradient only if its input does, so no check)

// y = factor a.   dL/da += factor g.
template <typename Scalar>
NodeId Tape<Scalar>::scale(NodeId a, Scalar factor) {
  const NodeId id = new_node(rows(a), cols(a), &Tape::scale_backward, a);
  nodes_[id].attribute = factor;
  out(id) = value(a) * factor;
  return id;
}

template <typename Scalar>
void Tape<Scalar>::scale_backward(NodeId id) {
  grad_of(nodes_[id].a) += gradient(id) * nodes_[id].attribute;
}

// y = max(a, 0).   dL/da += g where y > 0.
template <typename Scalar>
NodeId Tape<Scalar>::relu(NodeId a) {
  const NodeId id = new_node(rows(a), cols(a), &Tape::relu_backward, a);
  out(id) = value(a).cwiseMax(Scalar(0));
  return id;
}

template <typename Scalar>
void Tape<Scalar>::relu_backward(NodeId id) {
  grad_of(nodes_[id].a).array() += (value(id).array() > Scalar(0)).select(gradient(id).array(), Scalar(0));
}

// y = a if a > 0, slope a otherwise.   dL/da += g if a > 0, slope g otherwise.
template <typename Scalar>
NodeId Tape<Scalar>::leaky_relu(NodeId a, Scalar slope) {
  const NodeId id = new_node(rows(a), cols(a), &Tape::leaky_relu_backward, a);
  nodes_[id].attribute = slope;
  auto x = value(a).array();
  out(id) = (x > Scalar(0)).select(x, x * slope).matrix();
  return id;
}

template <typename Scalar>
void Tape<Scalar>::leaky_relu_backward(NodeId id) {
  const Node& node = nodes_[id];
  const auto g = gradient(id).array();
  grad_of(node.a).array() += (value(node.a).array() > Scalar(0)).select(g, g * node.attribute);
}

// y = tanh(a).   dL/da += g (1 - y^2).
template <typename Scalar>
NodeId Tape<Scalar>::tanh(NodeId a) {
  const NodeId id = new_node(rows(a), cols(a), &Tape::tanh_backward, a);
  out(id) = value(a).array().tanh().matrix();
  return id;
}

template <typename Scalar>
void Tape<Scalar>::tanh_backward(NodeId id) {
  grad_of(nodes_[id].a).array() += gradient(id).array() * (Scalar(1) - value(id).array().square());
}

// y = exp(a).   dL/da += g y.
template <typename Scalar>
NodeId Tape<Scalar>::exp(NodeId a) {
  const NodeId id = new_node(rows(a), cols(a), &Tape::exp_backward, a);
  out(id) = value(a).array().exp().matrix();
  return id;
}

template <typename Scalar>
void Tape<Scalar>::exp_backward(NodeId id) {
  grad_of(nodes_[id].a).array() += gradient(id).array() * value(id).array();
}

// y = log(a).   dL/da += g / a.
template <typename Scalar>
NodeId Tape<Scalar>::log(NodeId a) {
  const NodeId id = new_node(rows(a), cols(a), &Tape::log_backward, a);
  out(id) = value(a).array().log().matrix();
  return id;
}

template <typename Scalar>
void Tape<Scalar>::log_backward(NodeId id) {
  grad_of(nodes_[id].a).array() += gradient(id).array() / value(nodes_[id].a).array();
}

// y = a^2.   dL/da += 2 g a.
template <typename Scalar>
NodeId Tape<Scalar>::square(NodeId a) {
  const NodeId id = new_node(rows(a), cols(a), &Tape::square_backward, a);
  out(id) = value(a).array().square().matrix();
  return id;
}

template <typename Scalar>
void Tape<Scalar>::square_backward(NodeId id) {
  grad_of(nodes_[id].a).array() += Scalar(2) * gradient(id).array() * value(nodes_[id].a).array();
}

// y = a^2 / 2 if |a| <= delta, delta (|a| - delta / 2) otherwise.   dL/da += g clamp(a, -delta, delta).
template <typename Scalar>
NodeId Tape<Scalar>::huber(NodeId a, Scalar delta) {
  const NodeId id = new_node(rows(a), cols(a), &Tape::huber_backward, a);
  nodes_[id].attribute = delta;
  auto x = value(a).array();
  auto magnitude = x.abs();
  out(id) = (magnitude <= delta).select(Scalar(0.5) * x.square(), delta * (magnitude - Scalar(0.5) * delta)).matrix();
  return id;
}

template <typename Scalar>
void Tape<Scalar>::huber_backward(NodeId id) {
  const Node& node = nodes_[id];
  const Scalar delta = node.attribute;
  grad_of(node.a).array() += gradient(id).array() * value(node.a).array().cwiseMax(-delta).cwiseMin(delta);
}

// ---------------------------------------------------------------------------------------------
// Reductions

// y = sum of all entries of a (1 x 1).   dL/da_rc += g.
template <typename Scalar>
NodeId Tape<Scalar>::sum(NodeId a) {
  const NodeId id = new_node(1, 1, &Tape::sum_backward, a);
  out(id)(0, 0) = value(a).sum();
  return id;
}

template <typename Scalar>
void Tape<Scalar>::sum_backward(NodeId id) {
  grad_of(nodes_[id].a).array() += gradient(id)(0, 0);
}

// y = sum of a / n, n = rows x cols (0 when n = 0).   dL/da_rc += g / n.
template <typename Scalar>
NodeId Tape<Scalar>::mean(NodeId a) {
  const NodeId id = new_node(1, 1, &Tape::mean_backward, a);
  const int64_t n = int64_t(rows(a)) * cols(a);
  out(id)(0, 0) = n > 0 ? value(a).sum() / Scalar(n) : Scalar(0);
  return id;
}

template <typename Scalar>
void Tape<Scalar>::mean_backward(NodeId id) {
  const NodeId a = nodes_[id].a;
  const int64_t n = int64_t(rows(a)) * cols(a);
  if (n > 0) grad_of(a).array() += gradient(id)(0, 0) / Scalar(n);
}

// y_r = sum_c a_rc (B x N -> B x 1).   dL/da_rc += g_r.
template <typename Scalar>
NodeId Tape<Scalar>::row_sum(NodeId a) {
  const NodeId id = new_node(rows(a), 1, &Tape::row_sum_backward, a);
  out(id) = value(a).rowwise().sum();
  return id;
}

template <typename Scalar>
void Tape<Scalar>::row_sum_backward(NodeId id) {
  grad_of(nodes_[id].a).colwise() += gradient(id).col(0);
}

// ---------------------------------------------------------------------------------------------
// Log-space ops

// y_rc = a_rc - log sum_{valid c'} exp(a_rc'), -inf where the 0/1 mask m (input b) is 0.
// dL/da_rc += m_rc (g_rc - softmax_rc sum_{valid c'} g_rc'), with softmax_rc = exp(y_rc): the mask
// zeroes the masked entries (where exp(y) = exp(-inf) = 0 too), so whole-row vector arithmetic needs
// no branch. A row with nothing valid is -inf and passes no gradient.
template <typename Scalar>
NodeId Tape<Scalar>::masked_log_softmax(NodeId a, NodeId mask) {
  assert(rows(a) == rows(mask) && cols(a) == cols(mask));
  const NodeId id = new_node(rows(a), cols(a), &Tape::masked_log_softmax_backward, a, mask);
  auto x = value(a);
  auto m = value(mask);
  auto y = out(id);
  const auto valid = m.array() != Scalar(0);
  for (int r = 0; r < y.rows(); ++r) {
    const Scalar log_normaliser = masked_log_normaliser(x.row(r), m.row(r));
    if (!(log_normaliser > minus_infinity<Scalar>())) {  // nothing valid in this row
      y.row(r).setConstant(minus_infinity<Scalar>());
      continue;
    }
    y.row(r) = valid.row(r).select(x.row(r).array() - log_normaliser, minus_infinity<Scalar>());
  }
  return id;
}

// log sum exp of row x over the entries where the 0/1 row m is 1; -inf if there are none. Vectorised
// over the whole row (Eigen does not vectorise select()): for the maximum, masked entries become the
// lowest finite value (x 0 + 1 lowest) and valid ones stay exact (x 1 + 0 lowest); then masked
// entries are clamped to exp(<= 0) and multiplied by 0.
template <typename Scalar>
Scalar Tape<Scalar>::masked_log_normaliser(const ConstRowMap& x, const ConstRowMap& m) {
  const Scalar lowest = std::numeric_limits<Scalar>::lowest();
  const Scalar row_max =  // NaN entries are skipped, as by std::max: an all-NaN row has nothing valid
      (x.array() * m.array() + (Scalar(1) - m.array()) * lowest).template maxCoeff<Eigen::PropagateNumbers>();
  if (!(row_max > minus_infinity<Scalar>()) || m.maxCoeff() == Scalar(0)) return minus_infinity<Scalar>();
  const Scalar total = ((x.array() - row_max).min(Scalar(0)).exp() * m.array()).sum();
  return row_max + std::log(total);
}

template <typename Scalar>
void Tape<Scalar>::masked_log_softmax_backward(NodeId id) {
  const Node& node = nodes_[id];
  if (!wants_gradient(node.a)) return;  // the mask carries no gradient
  const auto g = gradient(id);
  const auto y = value(id);
  const auto m = value(node.b);
  auto da = grad_of(node.a);
  for (int r = 0; r < y.rows(); ++r) {
    const Scalar total = (g.row(r).array() * m.row(r).array()).sum();
    da.row(r).array() += m.row(r).array() * (g.row(r).array() - y.row(r).array().exp() * total);
  }
}

// y_r = log sum_c exp(a_rc) (B x N -> B x 1; -inf for an all -inf or empty row).
// dL/da_rc += g_r exp(a_rc - y_r) (a softmax); nothing for a -inf row.
template <typename Scalar>
NodeId Tape<Scalar>::row_logsumexp(NodeId a) {
  const NodeId id = new_node(rows(a), 1, &Tape::row_logsumexp_backward, a);
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
void Tape<Scalar>::row_logsumexp_backward(NodeId id) {
  const auto g = gradient(id);
  const auto y = value(id);
  const auto x = value(nodes_[id].a);
  auto da = grad_of(nodes_[id].a);
  for (int r = 0; r < x.rows(); ++r)
    if (y(r, 0) != minus_infinity<Scalar>()) da.row(r).array() += g(r, 0) * (x.row(r).array() - y(r, 0)).exp();
}

// y_s,c = log sum_{r in segment s} exp(a_rc) (-inf for an empty or all -inf segment).
// dL/da_rc += g_sc exp(a_rc - y_sc) for r in segment s.
template <typename Scalar>
NodeId Tape<Scalar>::segment_logsumexp(NodeId a, const int* offsets, int n_segments) {
  const NodeId id = new_node(n_segments, cols(a), &Tape::segment_logsumexp_backward, a);
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
void Tape<Scalar>::segment_logsumexp_backward(NodeId id) {
  const Node& node = nodes_[id];
  const auto g = gradient(id);
  const auto y = value(id);
  const auto x = value(node.a);
  auto da = grad_of(node.a);
  const int* bounds = indices(node);
  for (int s = 0; s < node.rows; ++s)
    for (int c = 0; c < node.cols; ++c) {
      if (y(s, c) == minus_infinity<Scalar>()) continue;
      for (int r = bounds[s]; r < bounds[s + 1]; ++r) da(r, c) += g(s, c) * std::exp(x(r, c) - y(s, c));
    }
}

// ---------------------------------------------------------------------------------------------
// Indexing and segments

// y_r = a(r, column_r) (B x N -> B x 1; column -1 gives 0).   dL/da(r, column_r) += g_r.
template <typename Scalar>
NodeId Tape<Scalar>::pick(NodeId a, const int* columns) {
  const NodeId id = new_node(rows(a), 1, &Tape::pick_backward, a);
  nodes_[id].indices_offset = store_indices(columns, rows(a));
  nodes_[id].n_indices = rows(a);
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
void Tape<Scalar>::pick_backward(NodeId id) {
  const Node& node = nodes_[id];
  const auto g = gradient(id);
  auto da = grad_of(node.a);
  const int* picked = indices(node);
  for (int r = 0; r < node.rows; ++r)
    if (picked[r] >= 0) da(r, picked[r]) += g(r, 0);
}

// y_r = sum_{k < K} a(index[r K + k]) (K = rows_per_output; K = 1: a gather).
// dL/da(index[r K + k]) += g_r (a scatter-add: repeated indices accumulate).
template <typename Scalar>
NodeId Tape<Scalar>::gather_rows(NodeId a, const int* row_indices, int n_outputs, int rows_per_output) {
  const NodeId id = new_node(n_outputs, cols(a), &Tape::gather_rows_backward, a);
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
void Tape<Scalar>::gather_rows_backward(NodeId id) {
  const Node& node = nodes_[id];
  const auto g = gradient(id);
  auto da = grad_of(node.a);
  const int* rows = indices(node);
  const int per_output = node.int_attribute;
  for (int r = 0; r < node.rows; ++r)
    for (int k = 0; k < per_output; ++k) da.row(rows[int64_t(r) * per_output + k]) += g.row(r);
}

// y_s = sum of a's rows in segment s = [offsets[s], offsets[s+1]).   dL/da_r += g_s for r in segment s.
template <typename Scalar>
NodeId Tape<Scalar>::segment_sum(NodeId a, const int* offsets, int n_segments) {
  const NodeId id = new_node(n_segments, cols(a), &Tape::segment_sum_backward, a);
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
void Tape<Scalar>::segment_sum_backward(NodeId id) {
  const Node& node = nodes_[id];
  const auto g = gradient(id);
  auto da = grad_of(node.a);
  const int* bounds = indices(node);
  for (int s = 0; s < node.rows; ++s)
    for (int r = bounds[s]; r < bounds[s + 1]; ++r) da.row(r) += g.row(s);
}

// y_r = sum of a's rows from the start of r's segment up to r (inclusive; rows outside every segment
// are 0).   dL/da_r += sum of g over the rows from r to the end of its segment (a suffix sum).
template <typename Scalar>
NodeId Tape<Scalar>::segment_cumsum(NodeId a, const int* offsets, int n_segments) {
  const NodeId id = new_node(rows(a), cols(a), &Tape::segment_cumsum_backward, a);
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
void Tape<Scalar>::segment_cumsum_backward(NodeId id) {
  const Node& node = nodes_[id];
  const auto g = gradient(id);
  auto da = grad_of(node.a);
  const int* bounds = indices(node);
  const int n_segments = node.n_indices - 1;
  for (int s = 0; s < n_segments; ++s)
    for (int c = 0; c < node.cols; ++c) {
      Scalar suffix = 0;
      for (int r = bounds[s + 1] - 1; r >= bounds[s]; --r) {
        suffix += g(r, c);
        da(r, c) += suffix;
      }
    }
}

// y = a[:, start : start + count].   dL/da[:, start : start + count] += g.
template <typename Scalar>
NodeId Tape<Scalar>::slice_cols(NodeId a, int start, int count) {
  assert(start >= 0 && start + count <= cols(a));
  const NodeId id = new_node(rows(a), count, &Tape::slice_cols_backward, a);
  nodes_[id].int_attribute = start;
  out(id) = value(a).middleCols(start, count);
  return id;
}

template <typename Scalar>
void Tape<Scalar>::slice_cols_backward(NodeId id) {
  const Node& node = nodes_[id];
  grad_of(node.a).middleCols(node.int_attribute, node.cols) += gradient(id);
}

// y = [a b] (B x N, B x M -> B x (N + M)).   dL/da += g's left N columns, dL/db += its right M.
template <typename Scalar>
NodeId Tape<Scalar>::concat_cols(NodeId a, NodeId b) {
  assert(rows(a) == rows(b));
  const NodeId id = new_node(rows(a), cols(a) + cols(b), &Tape::concat_cols_backward, a, b);
  auto y = out(id);
  y.leftCols(cols(a)) = value(a);
  y.rightCols(cols(b)) = value(b);
  return id;
}

template <typename Scalar>
void Tape<Scalar>::concat_cols_backward(NodeId id) {
  const Node& node = nodes_[id];
  if (wants_gradient(node.a)) grad_of(node.a) += gradient(id).leftCols(cols(node.a));
  if (wants_gradient(node.b)) grad_of(node.b) += gradient(id).rightCols(cols(node.b));
}

// y = [a; b] (B x N, C x N -> (B + C) x N).   dL/da += g's top B rows, dL/db += its bottom C rows.
template <typename Scalar>
NodeId Tape<Scalar>::concat_rows(NodeId a, NodeId b) {
  assert(cols(a) == cols(b));
  const NodeId id = new_node(rows(a) + rows(b), cols(a), &Tape::concat_rows_backward, a, b);
  auto y = out(id);
  y.topRows(rows(a)) = value(a);
  y.bottomRows(rows(b)) = value(b);
  return id;
}

template <typename Scalar>
void Tape<Scalar>::concat_rows_backward(NodeId id) {
  const Node& node = nodes_[id];
  if (wants_gradient(node.a)) grad_of(node.a) += gradient(id).topRows(rows(node.a));
  if (wants_gradient(node.b)) grad_of(node.b) += gradient(id).bottomRows(rows(node.b));
}

template class Tape<float>;
template class Tape<double>;

}  // namespace gfn
