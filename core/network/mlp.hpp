// Mlp: a multilayer perceptron built on the tape, with several output heads on one shared trunk.
//
// Layers are x * W + b with W: In x Out (row-major, see autodiff/matrix.hpp). Initialisation follows
// PyTorch's default: W and b drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), in the order layer by
// layer, W then b, row by row, from the caller's seeded Rng; a head may start at zero instead.
// The input is either a dense B x I node or a K-sparse encoding (K active positions per row), for
// which the first layer is an embedding sum (gather rows of W) instead of a dense GEMM.
//
// Thread contract: after construction an Mlp is read-only (it holds parameter ids, the values live in
// the ParameterStore): forward passes may run on many threads at once, each with its own tape and
// gradient buffer, while nobody writes the store.
//
//   Mlp<float> net(store, "pf", {.input_width = 32, .hidden = {256, 256}, .heads = {5}}, rng);
//   net.forward_sparse(tape, store, &gradient, active, B, K, &logits);   // logits: B x 5
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autodiff/tape.hpp"
#include "util/random.hpp"

namespace gfn {

enum class Activation { Relu, LeakyRelu, Tanh };

struct MlpShape {
  int input_width = 0;            // I
  std::vector<int> hidden;        // H per hidden layer (may be empty: heads are linear in the input)
  std::vector<int> heads;         // output width of each head
  std::vector<bool> zero_heads;   // per head: start at zero (missing entries: false)
  Activation activation = Activation::Relu;
};

// The network's dense layers (its GEMMs: every trunk layer but a sparse-input first one, then the
// heads, in that order), for one-pass training (core/training/forward_record.hpp). A forward pass given a
// DenseLayers appends each dense layer's node to `nodes`, so a rollout can record their values; with
// `given` set, row r of dense layer k is copied from given[k][r] where that is not null instead of
// multiplied (Tape::linear with given rows).
template <typename Scalar>
struct DenseLayers {
  std::vector<NodeId> nodes;                                      // out: one per dense layer
  const std::vector<std::vector<const Scalar*>>* given = nullptr;  // in: per dense layer, B row pointers
};

template <typename Scalar>
class Mlp {
 public:
  Mlp() = default;
  // Registers the parameters in `store` under names prefixed with `name` and initialises them.
  Mlp(ParameterStore<Scalar>& store, const std::string& name, const MlpShape& shape, Rng& rng);

  // input: B x I. Writes one node per head into heads[0 .. n_heads()).
  void forward(Tape<Scalar>& tape, const ParameterStore<Scalar>& store, FlatVector<Scalar>* gradient,
               NodeId input, NodeId* heads, DenseLayers<Scalar>* dense = nullptr) const;
  // active: B*K input positions (row b uses active[b*K .. b*K+K)), each with value 1.
  void forward_sparse(Tape<Scalar>& tape, const ParameterStore<Scalar>& store, FlatVector<Scalar>* gradient,
                      const int* active, int batch, int active_per_row, NodeId* heads,
                      DenseLayers<Scalar>* dense = nullptr) const;
  // The trunk alone, without gradients: the last hidden layer's activations (B x H) for a dense or a
  // sparse input, as forward() and forward_sparse() compute them before the heads. Head h is then
  // trunk x weight + bias with the parameters head_parameters(h). Requires hidden layers.
  NodeId trunk(Tape<Scalar>& tape, const ParameterStore<Scalar>& store, NodeId input) const;
  NodeId trunk_sparse(Tape<Scalar>& tape, const ParameterStore<Scalar>& store, const int* active, int batch,
                      int active_per_row) const;
  bool has_trunk() const { return !trunk_layers_.empty(); }
  std::pair<int, int> head_parameters(int h) const {  // parameter ids: weight H x Out, bias 1 x Out
    return {head_layers_[h].weight, head_layers_[h].bias};
  }
  // Output width of each dense layer (see DenseLayers), for a sparse or a dense input.
  std::vector<int> dense_layer_widths(bool sparse_input) const;

  int n_heads() const { return int(head_layers_.size()); }
  const MlpShape& shape() const { return shape_; }
  // FLOPs of one forward pass per batch row with a dense input (for throughput reports).
  double forward_flops_per_row() const;

 private:
  struct Layer {
    int weight = -1;  // parameter id, In x Out
    int bias = -1;    // parameter id, 1 x Out
  };
  NodeId activate(Tape<Scalar>& tape, NodeId x) const;
  // x W + b of one dense layer, reporting to / reading from `dense` when given.
  NodeId dense_layer(Tape<Scalar>& tape, const ParameterStore<Scalar>& store, FlatVector<Scalar>* gradient,
                     NodeId x, const Layer& layer, DenseLayers<Scalar>* dense) const;
  // The first layer of a sparse input: a sum of rows of its weight, plus the bias.
  NodeId embed(Tape<Scalar>& tape, const ParameterStore<Scalar>& store, FlatVector<Scalar>* gradient,
               const Layer& layer, const int* active, int batch, int active_per_row) const;
  NodeId trunk_from_first_layer(Tape<Scalar>& tape, const ParameterStore<Scalar>& store,
                                FlatVector<Scalar>* gradient, NodeId first_pre_activation,
                                DenseLayers<Scalar>* dense) const;
  void forward_from_first_layer(Tape<Scalar>& tape, const ParameterStore<Scalar>& store,
                                FlatVector<Scalar>* gradient, NodeId first_pre_activation, NodeId* heads,
                                DenseLayers<Scalar>* dense) const;

  MlpShape shape_;
  std::vector<Layer> trunk_layers_;
  std::vector<Layer> head_layers_;
};

}  // namespace gfn
