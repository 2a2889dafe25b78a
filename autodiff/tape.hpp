// Tape: reverse-mode automatic differentiation over row-major Eigen matrices.
//
// The tape is a flat vector of matrix-valued nodes in creation order (creation order is a
// topological order), referred to by integer NodeId. Building an expression runs the op's forward
// rule at once and records its backward rule in the node; backward() zeroes the node gradients, then
// walks the nodes in reverse and each backward rule adds (+=) its contribution into its inputs'
// gradients. That is the one gradient rule: everything accumulates, parameters included. Node values and gradients live in a staggered arena that clear() keeps, so once a
// step as large as the current one has run (a warm-up step), a step performs no heap allocation. Node
// values never move (a growing tape adds a chunk to the arena): a map returned by value() or
// mutable_value() stays valid until clear(), a gradient() map until the next backward().
//
// Parameters live outside the tape (ParameterStore): parameter() refers to a stored matrix without
// copying it and accumulates its gradient into a caller-provided gradient buffer (nullptr: no
// gradient, e.g. for rollout). Constants and stop_gradient() carry no gradient.
//
// Thread contract: a tape is used by one thread. Several tapes may read the same ParameterStore at
// once, each accumulating into its own gradient buffer; reduce those buffers in a fixed order.
//
//   Tape<float> tape;
//   NodeId h = tape.relu(tape.linear(x, w, b));   // x: B x I, w: I x H, b: 1 x H -> B x H
//   tape.backward(tape.mean(tape.square(h)));
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "autodiff/gemm.hpp"
#include "autodiff/matrix.hpp"
#include "autodiff/parameters.hpp"

namespace gfn {

using NodeId = int;

template <typename Scalar>
class Tape {
 public:
  // Forgets all nodes but keeps their memory for the next step.
  void clear();
  int size() const { return count_; }

  // Leaves.
  NodeId constant(const Eigen::Ref<const Matrix<Scalar>>& value);  // copies value
  NodeId constant(int rows, int cols, Scalar fill);                 // fill with mutable_value()
  NodeId parameter(const ParameterStore<Scalar>& store, int id, FlatVector<Scalar>* gradient);
  NodeId stop_gradient(NodeId a);  // same value, no gradient flows back

  // Elementwise and linear algebra. Shapes: a, b of equal shape unless stated.
  NodeId matmul(NodeId a, NodeId b);              // (B x K) * (K x N) -> B x N
  // A dense layer as one node, x W + bias: (B x I) * (I x H) + (1 x H) broadcast over rows -> B x H.
  // Same values as add_bias(matmul(x, W), bias) without the intermediate node and its passes.
  NodeId linear(NodeId x, NodeId weight, NodeId bias);
  NodeId add(NodeId a, NodeId b);
  NodeId sub(NodeId a, NodeId b);
  NodeId mul(NodeId a, NodeId b);                 // elementwise
  NodeId scale(NodeId a, Scalar factor);
  NodeId add_bias(NodeId a, NodeId bias);         // a: B x N, bias: 1 x N broadcast over rows
  NodeId relu(NodeId a);
  NodeId leaky_relu(NodeId a, Scalar slope = Scalar(0.01));
  NodeId tanh(NodeId a);
  NodeId exp(NodeId a);
  NodeId log(NodeId a);
  NodeId square(NodeId a);
  NodeId huber(NodeId a, Scalar delta = Scalar(1));  // 0.5 a^2 if |a| <= delta, else delta (|a| - delta/2)

  // Reductions.
  NodeId sum(NodeId a);      // -> 1 x 1
  NodeId mean(NodeId a);     // -> 1 x 1 (0 for an empty matrix)
  NodeId row_sum(NodeId a);  // B x N -> B x 1

  // Log-space ops. mask is a node of 0/1 values with a's shape; masked entries become -inf and get
  // zero gradient. A row with every entry masked (or -inf) gives -inf and zero gradient, never NaN.
  NodeId masked_log_softmax(NodeId a, NodeId mask);  // B x N -> B x N
  NodeId row_logsumexp(NodeId a);                    // B x N -> B x 1

  // Indexing. Index arrays are copied into the tape.
  // B x N, one column per row -> B x 1; column -1 gives 0 with no gradient (a row without a choice).
  NodeId pick(NodeId a, const int* columns);
  // rows_per_output = K: output row b is the sum of a's rows indices[b*K .. b*K+K) (K = 1: gather).
  NodeId gather_rows(NodeId a, const int* indices, int n_outputs, int rows_per_output = 1);  // -> n_outputs x N
  // offsets[0..n_segments]: segment s is rows [offsets[s], offsets[s+1]) of a.
  NodeId segment_sum(NodeId a, const int* offsets, int n_segments);     // -> n_segments x N
  NodeId segment_cumsum(NodeId a, const int* offsets, int n_segments);  // inclusive, per segment, same shape
  // Per segment and column, log sum exp over the segment's rows; an empty or all -inf segment gives -inf.
  NodeId segment_logsumexp(NodeId a, const int* offsets, int n_segments);  // -> n_segments x N
  NodeId slice_cols(NodeId a, int start, int count);                    // B x N -> B x count
  NodeId concat_cols(NodeId a, NodeId b);                               // B x N, B x M -> B x (N+M)
  NodeId concat_rows(NodeId a, NodeId b);                               // B x N, C x N -> (B+C) x N

  // Sets every node's gradient to d(root)/d(node) and adds d(root)/d(parameter) into the parameter
  // gradient buffers (+=, so several losses or blocks may accumulate into one buffer). The root's
  // gradient is seeded with ones (a 1 x 1 loss: d loss / d loss = 1).
  void backward(NodeId root);

  // Fast paths (autodiff/tape_fast.cpp): each computes what a plain form above computes, faster, is
  // switched by name, and is held equal to its twin by a test (tests/autodiff/).
  //
  // linear() with output row r copied from given_rows[r] (H values) where that is not null instead of
  // multiplied: values this layer computed earlier at the same parameters (one-pass training reuses
  // the rollout's forward pass, see core/training/forward_record.hpp). The other rows are computed as
  // by linear(); backward is linear's.
  NodeId linear(NodeId x, NodeId weight, NodeId bias, const Scalar* const* given_rows);
  // While on, linear() packs each parameter weight the first time it multiplies it and reuses the
  // packed copy afterwards, across clear() (autodiff/gemm.hpp, PackedOperand: same values, bit for
  // bit). Only for a stretch in which the parameters do not change, such as one rollout; every call
  // forgets the copies packed so far (their memory is kept).
  void reuse_packed_weights(bool on);
  // On (the default), linear's backward skips the rows of each 256-column block where the output
  // gradient is all zero, when that saves a quarter or more (a masked softmax downstream, BitSeq's
  // head); off: the dense products. Gradients to rounding.
  void set_block_sparse_backward(bool on);
  // Row r's masked log-softmax at column columns[r] only (-1: 0 with no gradient): the values of
  // pick(masked_log_softmax(a, mask), columns) without the B x N node and its passes, for losses that
  // read one action per state. Gradients agree with the two-node form to rounding.
  NodeId masked_log_softmax_at(NodeId a, NodeId mask, const int* columns);  // B x N -> B x 1
  // Where backward() can write into `buffer` (a gradient buffer handed to parameter()): appends
  // element ranges of it, unsorted and possibly overlapping. A parameter node read only through
  // gather_rows gives the rows gathered (a table's touched rows), one read by any other op all of it.
  // For lazy table updates (core/network/adam.hpp).
  void gradient_support(const FlatVector<Scalar>& buffer, std::vector<FlatRange>& ranges);

  ConstMatrixMap<Scalar> value(NodeId id) const;
  MatrixMap<Scalar> mutable_value(NodeId id);  // only for constant nodes, to fill them in place
  // After backward(root), for nodes up to root that depend on a parameter with a gradient buffer.
  ConstMatrixMap<Scalar> gradient(NodeId id) const;
  Scalar scalar(NodeId id) const { return value(id)(0, 0); }

  // Node-value storage held (all chunks), in elements; stops growing after the largest step.
  int64_t arena_capacity() const;
  int64_t node_capacity() const { return int64_t(nodes_.capacity()); }

 private:
  enum class Kind : uint8_t { Constant, Parameter, Computed };
  using BackwardRule = void (Tape::*)(NodeId);  // adds node id's contribution into its inputs' gradients

  struct Node {
    Kind kind = Kind::Computed;
    BackwardRule backward = nullptr;     // nullptr: a leaf, or stop_gradient
    NodeId a = -1, b = -1, c = -1;       // inputs (c: the bias of linear)
    int rows = 0, cols = 0;
    bool needs_gradient = false;         // some input (transitively) is a parameter with a gradient buffer
    bool reached = false;                // during backward(): on a path to the root
    int64_t offset = 0;                  // position in the arena's layout, and of the gradient in gradients_
    int chunk = 0;                       // the arena chunk holding the value (internal nodes)
    const Scalar* external_value = nullptr;  // parameters
    Scalar* external_gradient = nullptr;     // parameters (nullptr: no gradient)
    Scalar attribute = 0;                // scale factor, slope, delta
    int int_attribute = 0;               // slice start, rows per output
    int64_t indices_offset = 0;          // into indices_
    int n_indices = 0;
  };

  NodeId new_node(int rows, int cols, BackwardRule backward, NodeId a = -1, NodeId b = -1, NodeId c = -1);
  int rows(NodeId id) const { return nodes_[id].rows; }
  int cols(NodeId id) const { return nodes_[id].cols; }
  MatrixMap<Scalar> out(NodeId id);      // internal node's value, writable
  MatrixMap<Scalar> grad_of(NodeId id);  // node's gradient (arena or parameter buffer), to add into
  bool wants_gradient(NodeId id) const { return id >= 0 && nodes_[id].needs_gradient; }
  const int* indices(const Node& node) const { return indices_.data() + node.indices_offset; }
  using ConstRowMap = typename ConstMatrixMap<Scalar>::RowXpr;  // a row of a value()
  static Scalar masked_log_normaliser(const ConstRowMap& x, const ConstRowMap& m);  // of masked_log_softmax
  int64_t store_indices(const int* values, int count);

  // The backward rules, one per op, each defined right below its op's builder in tape.cpp (the fast
  // paths' in tape_fast.cpp).
  void matmul_backward(NodeId id);
  void linear_backward(NodeId id);
  bool linear_backward_by_blocks(NodeId id);  // part of linear_backward (tape_fast.cpp)
  void add_backward(NodeId id);
  void sub_backward(NodeId id);
  void mul_backward(NodeId id);
  void scale_backward(NodeId id);
  void add_bias_backward(NodeId id);
  void relu_backward(NodeId id);
  void leaky_relu_backward(NodeId id);
  void tanh_backward(NodeId id);
  void exp_backward(NodeId id);
  void log_backward(NodeId id);
  void square_backward(NodeId id);
  void huber_backward(NodeId id);
  void sum_backward(NodeId id);
  void mean_backward(NodeId id);
  void row_sum_backward(NodeId id);
  void masked_log_softmax_backward(NodeId id);
  void masked_log_softmax_at_backward(NodeId id);
  void row_logsumexp_backward(NodeId id);
  void pick_backward(NodeId id);
  void gather_rows_backward(NodeId id);
  void segment_sum_backward(NodeId id);
  void segment_cumsum_backward(NodeId id);
  void segment_logsumexp_backward(NodeId id);
  void slice_cols_backward(NodeId id);
  void concat_cols_backward(NodeId id);
  void concat_rows_backward(NodeId id);

  std::vector<Node> nodes_;
  int count_ = 0;
  // The arena: node values at their layout offsets, in chunks that never move (so maps stay valid).
  // Chunk k holds offsets [start, start + size) from storage[shift] on. Nodes fill the chunks in
  // order; one that fits in none opens a new chunk, so after the largest step nothing is allocated.
  // Nodes refer to chunks by index, so copying or moving a tape keeps it consistent.
  struct Chunk {
    int64_t start = 0, size = 0, shift = 0;  // shift: keeps addresses congruent to offsets (arena_slot)
    FlatVector<Scalar> storage;
  };
  int64_t arena_slot(int64_t offset, int64_t size);  // places a value in chunk chunk_index_
  int64_t value_position(const Node& node) const {
    const Chunk& chunk = chunks_[node.chunk];
    return chunk.shift + (node.offset - chunk.start);
  }
  std::vector<Chunk> chunks_;
  size_t chunk_index_ = 0;  // the chunk being filled
  FlatVector<Scalar> gradients_;  // node gradients, at each node's offset
  int64_t arena_end_ = 0;
  std::vector<int> indices_;
  int64_t indices_end_ = 0;
  FlatVector<Scalar> gemm_workspace_;  // packing buffers of the blocked matrix products
  // reuse_packed_weights(): copies of the weights at packed_[0 .. n_packed_), by the weight's address.
  const PackedOperand<Scalar>* packed_weight(NodeId weight);
  bool reuse_packed_ = false;
  std::vector<PackedOperand<Scalar>> packed_;
  size_t n_packed_ = 0;
  FlatVector<Scalar> missing_inputs_, missing_outputs_;  // linear() with given rows: the rows it computes
  // linear_backward_by_blocks(): per column block its nonzero rows, and the gathered operands.
  bool block_sparse_backward_ = true;
  std::vector<int> block_rows_, block_counts_;
  FlatVector<Scalar> block_gradient_, block_inputs_, block_weights_;
  std::vector<uint8_t> read_densely_;  // gradient_support(): per node, read by an op other than gather_rows
};

}  // namespace gfn
