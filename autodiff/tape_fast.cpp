// Tape fast paths: the ops and rules that make a training step faster without changing what it
// computes, kept apart from the reference ops of autodiff/tape.cpp. Each has a plain twin there, a
// named switch, and a test that holds the two equal:
//   - packed weights (reuse_packed_weights; twin: linear's plain product; the same bits),
//   - given rows (linear with given_rows; twin: linear; one-pass training, TrainConfig::recompute_logprobs),
//   - block-sparse linear backward (set_block_sparse_backward; twin: linear_backward's dense products),
//   - one column of a masked log-softmax (masked_log_softmax_at; twin: pick(masked_log_softmax(a, m), c)),
//   - gradient_support, where backward can write (lazy table updates in core/network/adam.hpp).
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

#include "autodiff/gemm.hpp"
#include "autodiff/tape.hpp"

namespace gfn {

// ---------------------------------------------------------------------------------------------
// Packed weights

template <typename Scalar>
void Tape<Scalar>::reuse_packed_weights(bool on) {
  reuse_packed_ = on;
  n_packed_ = 0;
}

template <typename Scalar>
const PackedOperand<Scalar>* Tape<Scalar>::packed_weight(NodeId weight) {
  if (!reuse_packed_ || nodes_[weight].kind != Kind::Parameter) return nullptr;
  const Scalar* values = nodes_[weight].external_value;
  for (size_t i = 0; i < n_packed_; ++i)
    if (packed_[i].source() == values) return &packed_[i];
  if (n_packed_ == packed_.size()) packed_.emplace_back();
  PackedOperand<Scalar>& packed = packed_[n_packed_++];
  packed.pack(value(weight));
  return &packed;
}

// ---------------------------------------------------------------------------------------------
// Given rows

// Rows with a given value are copied; the others are gathered, multiplied as one block and scattered.
template <typename Scalar>
NodeId Tape<Scalar>::linear(NodeId x, NodeId weight, NodeId bias, const Scalar* const* given_rows) {
  assert(cols(x) == rows(weight));
  assert(rows(bias) == 1 && cols(bias) == cols(weight));
  const int n_rows = rows(x), n_inputs = cols(x), n_outputs = cols(weight);
  int n_missing = 0;
  for (int r = 0; r < n_rows; ++r) n_missing += given_rows[r] == nullptr;
  if (n_missing == n_rows) return linear(x, weight, bias);  // nothing given: no gather and scatter
  const NodeId id = new_node(n_rows, n_outputs, &Tape::linear_backward, x, weight, bias);
  auto y = out(id);
  const auto input = value(x);
  missing_inputs_.resize(size_t(n_missing) * n_inputs);
  missing_outputs_.resize(size_t(n_missing) * n_outputs);
  MatrixMap<Scalar> missing_x(missing_inputs_.data(), n_missing, n_inputs);
  MatrixMap<Scalar> missing_y(missing_outputs_.data(), n_missing, n_outputs);
  for (int r = 0, m = 0; r < n_rows; ++r)
    if (given_rows[r] == nullptr) missing_x.row(m++) = input.row(r);
  if (n_missing > 0) {
    missing_y.rowwise() = value(bias).row(0);
    gemm(ConstMatrixMap<Scalar>(missing_inputs_.data(), n_missing, n_inputs), false, value(weight), false, missing_y,
         true, gemm_workspace_);
  }
  for (int r = 0, m = 0; r < n_rows; ++r) {
    if (given_rows[r] == nullptr)
      y.row(r) = missing_y.row(m++);
    else
      std::memcpy(y.row(r).data(), given_rows[r], sizeof(Scalar) * n_outputs);
  }
  return id;
}

// ---------------------------------------------------------------------------------------------
// Block-sparse linear backward

// The x and W gradients of a wide layer whose output gradient g is zero on whole blocks of
// kGradientBlock columns in many rows: a masked softmax downstream passes nothing to invalid actions,
// and on BitSeq (3840 actions, 15 blocks of 256 words) only the blocks of empty slots are valid,
// about half of them along a trajectory. Per block, only the rows with a nonzero gradient in it are
// multiplied (gathered into scratch): dW_k += x_k^T g_k and, row by row, dx += g_k W_k^T. The skipped
// terms are exact zeros, so these are the dense gradients up to the rounding of a different summation.
// Returns false (the dense products do it) for fewer than two blocks or when the nonzero blocks hold
// over three quarters of g; the choice depends on g alone, never on the thread count.
template <typename Scalar>
bool Tape<Scalar>::linear_backward_by_blocks(NodeId id) {
  constexpr int kGradientBlock = 256;
  const Node& node = nodes_[id];
  const auto g = gradient(id);  // B x N
  const int n_rows = g.rows(), width = g.cols(), in = rows(node.b);
  const int n_blocks = (width + kGradientBlock - 1) / kGradientBlock;
  if (n_blocks < 2) return false;
  block_rows_.resize(size_t(n_rows) * n_blocks);  // per block, its nonzero rows (first n of them)
  block_counts_.assign(n_blocks, 0);
  int64_t nonzero_area = 0;  // entries of the (row, block) pairs that must be multiplied
  for (int r = 0; r < n_rows; ++r)
    for (int k = 0; k < n_blocks; ++k) {
      const int first = k * kGradientBlock, columns = std::min(kGradientBlock, width - first);
      // NaN counts as nonzero (PropagateNaN), so it still reaches the parameters' gradients.
      if (g.row(r).segment(first, columns).cwiseAbs().template maxCoeff<Eigen::PropagateNaN>() == Scalar(0)) continue;
      block_rows_[size_t(k) * n_rows + block_counts_[k]++] = r;
      nonzero_area += columns;
    }
  if (4 * nonzero_area > 3 * int64_t(n_rows) * width) return false;

  const auto x = value(node.a);  // B x I
  const auto w = value(node.b);  // I x N
  block_gradient_.resize(size_t(n_rows) * kGradientBlock);
  block_inputs_.resize(size_t(n_rows) * in);
  block_weights_.resize(size_t(in) * kGradientBlock);
  for (int k = 0; k < n_blocks; ++k) {
    const int m = block_counts_[k];
    if (m == 0) continue;
    const int first = k * kGradientBlock, columns = std::min(kGradientBlock, width - first);
    const int* block_rows = block_rows_.data() + size_t(k) * n_rows;
    MatrixMap<Scalar> g_k(block_gradient_.data(), m, columns);  // m x columns
    for (int i = 0; i < m; ++i) g_k.row(i) = g.row(block_rows[i]).segment(first, columns);
    MatrixMap<Scalar> products(block_inputs_.data(), m, in);  // first x_k, then g_k W_k^T
    if (wants_gradient(node.b)) {
      for (int i = 0; i < m; ++i) products.row(i) = x.row(block_rows[i]);
      MatrixMap<Scalar> dw_k(block_weights_.data(), in, columns);
      gemm(ConstMatrixMap<Scalar>(products.data(), m, in), true, ConstMatrixMap<Scalar>(g_k.data(), m, columns),
           false, dw_k, false, gemm_workspace_);
      grad_of(node.b).middleCols(first, columns) += dw_k;
    }
    if (wants_gradient(node.a)) {
      MatrixMap<Scalar> w_k(block_weights_.data(), in, columns);
      w_k = w.middleCols(first, columns);
      gemm(ConstMatrixMap<Scalar>(g_k.data(), m, columns), false, ConstMatrixMap<Scalar>(w_k.data(), in, columns),
           true, products, false, gemm_workspace_);
      auto dx = grad_of(node.a);
      for (int i = 0; i < m; ++i) dx.row(block_rows[i]) += products.row(i);
    }
  }
  return true;
}

template <typename Scalar>
void Tape<Scalar>::set_block_sparse_backward(bool on) {
  block_sparse_backward_ = on;
}

// ---------------------------------------------------------------------------------------------
// One column of a masked log-softmax

// y_r = a_{r,c} - log sum_{valid c'} exp(a_rc') at c = columns[r]: pick(masked_log_softmax(a, mask),
// columns) as one node. The row normalisers are kept in a B x 1 constant (input c) for backward.
// dL/da_rc' += g_r ([c' = c] - softmax_rc') on valid entries; nothing for c = -1, a masked c, or a
// row with nothing valid.
template <typename Scalar>
NodeId Tape<Scalar>::masked_log_softmax_at(NodeId a, NodeId mask, const int* columns) {
  assert(rows(a) == rows(mask) && cols(a) == cols(mask));
  const NodeId normalisers = constant(rows(a), 1, Scalar(0));
  const NodeId id = new_node(rows(a), 1, &Tape::masked_log_softmax_at_backward, a, mask, normalisers);
  nodes_[id].indices_offset = store_indices(columns, rows(a));
  nodes_[id].n_indices = rows(a);
  auto x = value(a);
  auto m = value(mask);
  auto log_normaliser = mutable_value(normalisers);
  auto y = out(id);
  const int* picked = indices(nodes_[id]);
  for (int r = 0; r < y.rows(); ++r) {
    const int c = picked[r];
    assert(c >= -1 && c < x.cols());
    log_normaliser(r, 0) = masked_log_normaliser(x.row(r), m.row(r));
    if (c < 0)
      y(r, 0) = Scalar(0);
    else
      y(r, 0) = m(r, c) != Scalar(0) ? x(r, c) - log_normaliser(r, 0) : -std::numeric_limits<Scalar>::infinity();
  }
  return id;
}

template <typename Scalar>
void Tape<Scalar>::masked_log_softmax_at_backward(NodeId id) {
  const Node& node = nodes_[id];
  if (!wants_gradient(node.a)) return;  // the mask carries no gradient
  const auto g = gradient(id);
  const auto x = value(node.a);
  const auto m = value(node.b);
  const auto log_normaliser = value(node.c);
  auto da = grad_of(node.a);
  const int* picked = indices(node);
  for (int r = 0; r < node.rows; ++r) {
    const int c = picked[r];
    if (c < 0 || m(r, c) == Scalar(0)) continue;  // no choice, or a masked one (then the row's total is 0)
    // -softmax g_r on the valid entries: x - log_normaliser <= 0 there, and the clamp keeps masked
    // entries finite before they are multiplied by 0 (a vectorised form of select()).
    const Scalar g_r = g(r, 0);
    da.row(r).array() -= m.row(r).array() * ((x.row(r).array() - log_normaliser(r, 0)).min(Scalar(0)).exp() * g_r);
    da(r, c) += g_r;
  }
}

// ---------------------------------------------------------------------------------------------
// Gradient support: what backward() can write into a parameter gradient buffer

template <typename Scalar>
void Tape<Scalar>::gradient_support(const FlatVector<Scalar>& buffer, std::vector<FlatRange>& ranges) {
  const Scalar* base = buffer.data();
  auto in_buffer = [&](NodeId id) {
    const Node& node = nodes_[id];
    return node.kind == Kind::Parameter && node.external_gradient >= base &&
           node.external_gradient < base + buffer.size();
  };
  read_densely_.assign(count_, 0);
  for (NodeId id = 0; id < count_; ++id) {
    const Node& node = nodes_[id];
    for (const NodeId input : {node.a, node.b, node.c})
      if (input >= 0 && in_buffer(input) && !(node.backward == &Tape::gather_rows_backward && input == node.a))
        read_densely_[input] = 1;
  }
  for (NodeId id = 0; id < count_; ++id) {
    const Node& node = nodes_[id];
    if (in_buffer(id) && read_densely_[id]) {
      const int64_t begin = node.external_gradient - base;
      ranges.push_back({begin, begin + int64_t(node.rows) * node.cols});
    }
    if (node.backward != &Tape::gather_rows_backward || !in_buffer(node.a) || read_densely_[node.a]) continue;
    const int64_t begin = nodes_[node.a].external_gradient - base, width = nodes_[node.a].cols;
    for (int k = 0; k < node.n_indices; ++k) {
      const int64_t row = indices(node)[k];
      ranges.push_back({begin + row * width, begin + (row + 1) * width});
    }
  }
}

template void Tape<float>::reuse_packed_weights(bool);
template const PackedOperand<float>* Tape<float>::packed_weight(NodeId);
template NodeId Tape<float>::linear(NodeId, NodeId, NodeId, const float* const*);
template bool Tape<float>::linear_backward_by_blocks(NodeId);
template void Tape<float>::set_block_sparse_backward(bool);
template NodeId Tape<float>::masked_log_softmax_at(NodeId, NodeId, const int*);
template void Tape<float>::masked_log_softmax_at_backward(NodeId);
template void Tape<float>::gradient_support(const FlatVector<float>&, std::vector<FlatRange>&);
template void Tape<double>::reuse_packed_weights(bool);
template const PackedOperand<double>* Tape<double>::packed_weight(NodeId);
template NodeId Tape<double>::linear(NodeId, NodeId, NodeId, const double* const*);
template bool Tape<double>::linear_backward_by_blocks(NodeId);
template void Tape<double>::set_block_sparse_backward(bool);
template NodeId Tape<double>::masked_log_softmax_at(NodeId, NodeId, const int*);
template void Tape<double>::masked_log_softmax_at_backward(NodeId);
template void Tape<double>::gradient_support(const FlatVector<double>&, std::vector<FlatRange>&);

}  // namespace gfn
