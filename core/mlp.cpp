// Mlp implementation: PyTorch-style initialisation and the forward pass on a tape (dense or sparse
// input). Backward comes from the tape.
#include "core/mlp.hpp"

#include <cmath>
#include <stdexcept>

namespace gfn {

namespace {

template <typename Scalar>
void init_uniform(MatrixMap<Scalar> values, int fan_in, Rng& rng) {
  const double bound = 1.0 / std::sqrt(double(fan_in));
  for (int r = 0; r < values.rows(); ++r)
    for (int c = 0; c < values.cols(); ++c) values(r, c) = Scalar((2 * rng.uniform() - 1) * bound);
}

}  // namespace

template <typename Scalar>
Mlp<Scalar>::Mlp(ParameterStore<Scalar>& store, const std::string& name, const MlpShape& shape, Rng& rng)
    : shape_(shape) {
  if (shape.input_width <= 0) throw std::invalid_argument("Mlp: input width must be positive");
  if (shape.heads.empty()) throw std::invalid_argument("Mlp: at least one head is required");
  auto add_layer = [&](const std::string& layer_name, int in, int out, bool zero) {
    if (out <= 0) throw std::invalid_argument("Mlp: layer widths must be positive");
    Layer layer{store.add(layer_name + ".weight", in, out), store.add(layer_name + ".bias", 1, out)};
    if (!zero) {
      init_uniform(store.value(layer.weight), in, rng);
      init_uniform(store.value(layer.bias), in, rng);
    }
    return layer;
  };
  int width = shape.input_width;
  for (size_t l = 0; l < shape.hidden.size(); ++l) {
    trunk_layers_.push_back(add_layer(name + ".hidden" + std::to_string(l), width, shape.hidden[l], false));
    width = shape.hidden[l];
  }
  for (size_t h = 0; h < shape.heads.size(); ++h) {
    const bool zero = h < shape.zero_heads.size() && shape.zero_heads[h];
    head_layers_.push_back(add_layer(name + ".head" + std::to_string(h), width, shape.heads[h], zero));
  }
}

template <typename Scalar>
NodeId Mlp<Scalar>::activate(Tape<Scalar>& tape, NodeId x) const {
  switch (shape_.activation) {
    case Activation::Relu: return tape.relu(x);
    case Activation::LeakyRelu: return tape.leaky_relu(x);
    case Activation::Tanh: return tape.tanh(x);
  }
  return x;
}

// first_pre_activation: the first layer's output before activation (trunk layer 0, or, without a
// trunk, ignored: heads read the input directly through forward()).
template <typename Scalar>
void Mlp<Scalar>::forward_from_first_layer(Tape<Scalar>& tape, const ParameterStore<Scalar>& store,
                                           FlatVector<Scalar>* gradient, NodeId first_pre_activation,
                                           NodeId* heads) const {
  NodeId x = activate(tape, first_pre_activation);
  for (size_t l = 1; l < trunk_layers_.size(); ++l) {
    const Layer& layer = trunk_layers_[l];
    x = tape.linear(x, tape.parameter(store, layer.weight, gradient),
                    tape.parameter(store, layer.bias, gradient));
    x = activate(tape, x);
  }
  for (size_t h = 0; h < head_layers_.size(); ++h) {
    const Layer& layer = head_layers_[h];
    heads[h] = tape.linear(x, tape.parameter(store, layer.weight, gradient),
                           tape.parameter(store, layer.bias, gradient));
  }
}

template <typename Scalar>
void Mlp<Scalar>::forward(Tape<Scalar>& tape, const ParameterStore<Scalar>& store, FlatVector<Scalar>* gradient,
                          NodeId input, NodeId* heads) const {
  if (trunk_layers_.empty()) {
    for (size_t h = 0; h < head_layers_.size(); ++h) {
      const Layer& layer = head_layers_[h];
      heads[h] = tape.linear(input, tape.parameter(store, layer.weight, gradient),
                             tape.parameter(store, layer.bias, gradient));
    }
    return;
  }
  const Layer& first = trunk_layers_[0];
  const NodeId pre = tape.linear(input, tape.parameter(store, first.weight, gradient),
                                 tape.parameter(store, first.bias, gradient));
  forward_from_first_layer(tape, store, gradient, pre, heads);
}

template <typename Scalar>
void Mlp<Scalar>::forward_sparse(Tape<Scalar>& tape, const ParameterStore<Scalar>& store,
                                 FlatVector<Scalar>* gradient, const int* active, int batch,
                                 int active_per_row, NodeId* heads) const {
  auto embed = [&](const Layer& layer) {
    const NodeId weight = tape.parameter(store, layer.weight, gradient);
    return tape.add_bias(tape.gather_rows(weight, active, batch, active_per_row),
                         tape.parameter(store, layer.bias, gradient));
  };
  if (trunk_layers_.empty()) {
    for (size_t h = 0; h < head_layers_.size(); ++h) heads[h] = embed(head_layers_[h]);
    return;
  }
  forward_from_first_layer(tape, store, gradient, embed(trunk_layers_[0]), heads);
}

template <typename Scalar>
double Mlp<Scalar>::forward_flops_per_row() const {
  double flops = 0;
  int width = shape_.input_width;
  for (int hidden : shape_.hidden) {
    flops += 2.0 * width * hidden;
    width = hidden;
  }
  for (int head : shape_.heads) flops += 2.0 * width * head;
  return flops;
}

template class Mlp<float>;
template class Mlp<double>;

}  // namespace gfn
