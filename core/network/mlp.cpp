// Mlp implementation: PyTorch-style initialisation and the forward pass on a tape (dense or sparse
// input). Backward comes from the tape.
#include "core/network/mlp.hpp"

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

template <typename Scalar>
NodeId Mlp<Scalar>::dense_layer(Tape<Scalar>& tape, const ParameterStore<Scalar>& store,
                                FlatVector<Scalar>* gradient, NodeId x, const Layer& layer,
                                DenseLayers<Scalar>* dense) const {
  const NodeId weight = tape.parameter(store, layer.weight, gradient);
  const NodeId bias = tape.parameter(store, layer.bias, gradient);
  if (!dense) return tape.linear(x, weight, bias);
  const size_t index = dense->nodes.size();
  const NodeId y = dense->given ? tape.linear(x, weight, bias, (*dense->given)[index].data())
                                : tape.linear(x, weight, bias);
  dense->nodes.push_back(y);
  return y;
}

// first_pre_activation: the first layer's output before activation (trunk layer 0, or, without a
// trunk, ignored: heads read the input directly through forward()).
template <typename Scalar>
NodeId Mlp<Scalar>::trunk_from_first_layer(Tape<Scalar>& tape, const ParameterStore<Scalar>& store,
                                           FlatVector<Scalar>* gradient, NodeId first_pre_activation,
                                           DenseLayers<Scalar>* dense) const {
  NodeId x = activate(tape, first_pre_activation);
  for (size_t l = 1; l < trunk_layers_.size(); ++l)
    x = activate(tape, dense_layer(tape, store, gradient, x, trunk_layers_[l], dense));
  return x;
}

template <typename Scalar>
void Mlp<Scalar>::forward_from_first_layer(Tape<Scalar>& tape, const ParameterStore<Scalar>& store,
                                           FlatVector<Scalar>* gradient, NodeId first_pre_activation,
                                           NodeId* heads, DenseLayers<Scalar>* dense) const {
  const NodeId x = trunk_from_first_layer(tape, store, gradient, first_pre_activation, dense);
  for (size_t h = 0; h < head_layers_.size(); ++h)
    heads[h] = dense_layer(tape, store, gradient, x, head_layers_[h], dense);
}

template <typename Scalar>
void Mlp<Scalar>::forward(Tape<Scalar>& tape, const ParameterStore<Scalar>& store, FlatVector<Scalar>* gradient,
                          NodeId input, NodeId* heads, DenseLayers<Scalar>* dense) const {
  if (dense) dense->nodes.clear();
  if (trunk_layers_.empty()) {
    for (size_t h = 0; h < head_layers_.size(); ++h)
      heads[h] = dense_layer(tape, store, gradient, input, head_layers_[h], dense);
    return;
  }
  const NodeId pre = dense_layer(tape, store, gradient, input, trunk_layers_[0], dense);
  forward_from_first_layer(tape, store, gradient, pre, heads, dense);
}

template <typename Scalar>
void Mlp<Scalar>::forward_sparse(Tape<Scalar>& tape, const ParameterStore<Scalar>& store,
                                 FlatVector<Scalar>* gradient, const int* active, int batch,
                                 int active_per_row, NodeId* heads, DenseLayers<Scalar>* dense) const {
  if (dense) dense->nodes.clear();
  if (trunk_layers_.empty()) {
    for (size_t h = 0; h < head_layers_.size(); ++h)
      heads[h] = embed(tape, store, gradient, head_layers_[h], active, batch, active_per_row);
    return;
  }
  forward_from_first_layer(tape, store, gradient,
                           embed(tape, store, gradient, trunk_layers_[0], active, batch, active_per_row), heads, dense);
}

template <typename Scalar>
NodeId Mlp<Scalar>::embed(Tape<Scalar>& tape, const ParameterStore<Scalar>& store, FlatVector<Scalar>* gradient,
                          const Layer& layer, const int* active, int batch, int active_per_row) const {
  const NodeId weight = tape.parameter(store, layer.weight, gradient);
  return tape.add_bias(tape.gather_rows(weight, active, batch, active_per_row),
                       tape.parameter(store, layer.bias, gradient));
}

template <typename Scalar>
NodeId Mlp<Scalar>::trunk(Tape<Scalar>& tape, const ParameterStore<Scalar>& store, NodeId input) const {
  const NodeId first = dense_layer(tape, store, nullptr, input, trunk_layers_.at(0), nullptr);
  return trunk_from_first_layer(tape, store, nullptr, first, nullptr);
}

template <typename Scalar>
NodeId Mlp<Scalar>::trunk_sparse(Tape<Scalar>& tape, const ParameterStore<Scalar>& store, const int* active,
                                 int batch, int active_per_row) const {
  const NodeId first = embed(tape, store, nullptr, trunk_layers_.at(0), active, batch, active_per_row);
  return trunk_from_first_layer(tape, store, nullptr, first, nullptr);
}

template <typename Scalar>
std::vector<int> Mlp<Scalar>::dense_layer_widths(bool sparse_input) const {
  std::vector<int> widths;
  if (sparse_input && trunk_layers_.empty()) return widths;  // embeddings only
  for (size_t l = sparse_input ? 1 : 0; l < shape_.hidden.size(); ++l) widths.push_back(shape_.hidden[l]);
  widths.insert(widths.end(), shape_.heads.begin(), shape_.heads.end());
  return widths;
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
