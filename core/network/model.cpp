// Model implementation: builds the estimator networks and evaluates them on a batch of states.
#include "core/network/model.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>

namespace gfn {

BackwardPolicy backward_policy_from_name(const std::string& name) {
  for (BackwardPolicy policy : {BackwardPolicy::Uniform, BackwardPolicy::MaxEnt, BackwardPolicy::Learned,
                                BackwardPolicy::Tlm, BackwardPolicy::Pessimistic})
    if (backward_policy_name(policy) == name) return policy;
  throw std::invalid_argument("--pb: unknown backward policy '" + name +
                              "' (uniform, maxent, learned, tlm, pessimistic)");
}

std::string backward_policy_name(BackwardPolicy policy) {
  switch (policy) {
    case BackwardPolicy::Uniform: return "uniform";
    case BackwardPolicy::MaxEnt: return "maxent";
    case BackwardPolicy::Learned: return "learned";
    case BackwardPolicy::Tlm: return "tlm";
    case BackwardPolicy::Pessimistic: return "pessimistic";
  }
  return "?";
}

template <typename Scalar>
Model<Scalar>::Model(const Environment& env, const ModelConfig& config, uint64_t seed)
    : env_(env), config_(config) {
  encoding_ = config.tabular ? Encoding::OneHotState : env.default_encoding();
  if (config.tabular) require_capability(env, Capability::Enumeration, "a tabular policy");
  if (config.backward == BackwardPolicy::MaxEnt) require_capability(env, Capability::MaxEntBackward, "--pb maxent");
  // A table's rows are the states, numbered by the enumeration (state_index), whatever encodings the
  // environment offers.
  if (config.tabular && env.n_states() > std::numeric_limits<int32_t>::max())
    throw std::invalid_argument("a tabular policy needs at most 2^31 - 1 states, and " + env.name() + " has " +
                                std::to_string(env.n_states()));
  const int input_width = config.tabular ? int(env.n_states()) : env.encoding_width(encoding_);
  MlpShape shape;
  shape.input_width = input_width;
  shape.hidden = config.tabular ? std::vector<int>{} : config.hidden;
  shape.activation = config.activation;
  Rng rng(seed);

  // (width, zero-initialised) of each output head, in the order forward, backward, flow.
  struct HeadSpec {
    const char* name;
    int* network;
    int* head;
    int width;
    bool zero;
  };
  std::vector<HeadSpec> specs;
  specs.push_back({"forward", &network_of_.forward, &head_of_.forward, env.n_actions(), config.tabular});
  if (config.backward == BackwardPolicy::Learned)
    specs.push_back({"backward", &network_of_.backward, &head_of_.backward, env.n_backward_actions(), true});
  if (config.state_flow) specs.push_back({"flow", &network_of_.flow, &head_of_.flow, 1, config.tabular});

  if (config.tied) {
    for (size_t i = 0; i < specs.size(); ++i) {
      shape.heads.push_back(specs[i].width);
      shape.zero_heads.push_back(specs[i].zero);
      *specs[i].network = 0;
      *specs[i].head = int(i);
    }
    networks_.emplace_back(store_, "tied", shape, rng);
  } else {
    for (size_t i = 0; i < specs.size(); ++i) {
      shape.heads = {specs[i].width};
      shape.zero_heads = {specs[i].zero};
      *specs[i].network = int(networks_.size());
      *specs[i].head = 0;
      networks_.emplace_back(store_, specs[i].name, shape, rng);
    }
  }
  if (config.log_z) log_z_ = store_.add("log_z", 1, 1, /*group=*/1);
  if (config.backward == BackwardPolicy::Tlm || config.backward == BackwardPolicy::Pessimistic) {
    shape.heads = {env.n_backward_actions()};
    shape.zero_heads = {true};  // P_B starts uniform
    backward_network_ = Mlp<Scalar>(backward_store_, "backward", shape, rng);
    target_backward_store_ = backward_store_;
  }
}

template <typename Scalar>
int Model<Scalar>::active_per_row() const {
  return config_.tabular ? 1 : env_.encoding_active(encoding_);
}

template <typename Scalar>
void Model<Scalar>::encode(const int32_t* states, int n_states, ModelScratch& scratch) const {
  const int state_width = env_.state_width();
  if (encoding_ == Encoding::Dense) {
    const int width = env_.encoding_width(encoding_);
    scratch.features.resize(size_t(n_states) * width);
    for (int r = 0; r < n_states; ++r)
      env_.encode_dense(states + int64_t(r) * state_width, scratch.features.data() + int64_t(r) * width);
    return;
  }
  if (config_.tabular) {  // one active position: the state's index
    scratch.active.resize(size_t(n_states));
    for (int r = 0; r < n_states; ++r) scratch.active[r] = int(env_.state_index(states + int64_t(r) * state_width));
    return;
  }
  const int active_per_row = env_.encoding_active(encoding_);
  scratch.active.resize(size_t(n_states) * active_per_row);
  for (int r = 0; r < n_states; ++r)
    env_.encode_active(states + int64_t(r) * state_width, encoding_,
                       scratch.active.data() + int64_t(r) * active_per_row);
}

// Sparse encodings: the first layer is an embedding sum over the K active positions. Dense: the
// features become an N x W constant and the first layer is a GEMM.
template <typename Scalar>
void Model<Scalar>::run_network(const Mlp<Scalar>& network, Tape<Scalar>& tape, const ParameterStore<Scalar>& store,
                                FlatVector<Scalar>* gradient, int n_states, const ModelScratch& scratch,
                                NodeId* heads, DenseLayers<Scalar>* dense) const {
  if (encoding_ != Encoding::Dense) {
    network.forward_sparse(tape, store, gradient, scratch.active.data(), n_states, active_per_row(), heads, dense);
    return;
  }
  network.forward(tape, store, gradient, dense_input(tape, n_states, scratch), heads, dense);
}

template <typename Scalar>
NodeId Model<Scalar>::dense_input(Tape<Scalar>& tape, int n_states, const ModelScratch& scratch) const {
  const int width = env_.encoding_width(encoding_);
  const NodeId input = tape.constant(n_states, width, Scalar(0));
  Scalar* x = tape.mutable_value(input).data();
  for (int64_t i = 0; i < int64_t(n_states) * width; ++i) x[i] = Scalar(scratch.features[i]);
  return input;
}

template <typename Scalar>
NodeId Model<Scalar>::backward_network_logprobs(Tape<Scalar>& tape, const ParameterStore<Scalar>& store,
                                                FlatVector<Scalar>* gradient, const int32_t* states, int n_states,
                                                ModelScratch& scratch) const {
  NodeId logits;
  run_network(backward_network_, tape, store, gradient, n_states, scratch, &logits);
  NodeId mask;
  add_mask_node(tape, states, n_states, /*backward=*/true, scratch, &mask);
  return tape.masked_log_softmax(logits, mask);
}

template <typename Scalar>
NodeId Model<Scalar>::evaluate_backward(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const int32_t* states,
                                        int n_states, ModelScratch& scratch) const {
  if (!has_backward_network()) throw std::logic_error("Model::evaluate_backward: no P_B network (--pb tlm)");
  encode(states, n_states, scratch);
  return backward_network_logprobs(tape, backward_store_, gradient, states, n_states, scratch);
}

template <typename Scalar>
void Model<Scalar>::add_mask_node(Tape<Scalar>& tape, const int32_t* states, int n_states, bool backward,
                                  ModelScratch& scratch, NodeId* node) const {
  const int width = backward ? env_.n_backward_actions() : env_.n_actions();
  const int state_width = env_.state_width();
  *node = tape.constant(n_states, width, Scalar(0));
  auto mask = tape.mutable_value(*node);
  scratch.mask.resize(width);
  for (int r = 0; r < n_states; ++r) {
    const int32_t* state = states + int64_t(r) * state_width;
    if (backward)
      env_.backward_mask(state, scratch.mask.data());
    else
      env_.forward_mask(state, scratch.mask.data());
    for (int c = 0; c < width; ++c) mask(r, c) = Scalar(scratch.mask[c]);
  }
}

template <typename Scalar>
ModelOutputs Model<Scalar>::evaluate(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const ModelInputs<Scalar>& inputs,
                                     ModelScratch& scratch) const {
  const int32_t* states = inputs.states;
  const int n_states = inputs.n_states;
  encode(states, n_states, scratch);

  NodeId heads[3][3];
  for (size_t i = 0; i < networks_.size(); ++i) {
    if (!inputs.with_backward && int(i) == network_of_.backward && !config_.tied) continue;
    if (!inputs.with_backward && int(i) == network_of_.flow && !config_.tied) continue;
    run_network(networks_[i], tape, store_, gradient, n_states, scratch, heads[i],
                int(i) == network_of_.forward ? inputs.forward_dense : nullptr);
  }

  ModelOutputs outputs;
  outputs.forward_logits = heads[network_of_.forward][head_of_.forward];
  NodeId forward_mask;
  add_mask_node(tape, states, n_states, /*backward=*/false, scratch, &forward_mask);
  if (inputs.forward_actions)
    outputs.action_logprobs = tape.masked_log_softmax_at(outputs.forward_logits, forward_mask, inputs.forward_actions);
  else
    outputs.forward_logprobs = tape.masked_log_softmax(outputs.forward_logits, forward_mask);
  if (!inputs.with_backward) return outputs;

  if (config_.state_flow) outputs.log_flow = heads[network_of_.flow][head_of_.flow];
  if (config_.backward == BackwardPolicy::Learned) {
    NodeId backward_mask;
    add_mask_node(tape, states, n_states, /*backward=*/true, scratch, &backward_mask);
    outputs.backward_logprobs = tape.masked_log_softmax(heads[network_of_.backward][head_of_.backward], backward_mask);
    return outputs;
  }
  if (has_backward_network()) {  // the target copy, as a constant of the forward objective
    outputs.backward_logprobs =
        backward_network_logprobs(tape, target_backward_store_, nullptr, states, n_states, scratch);
    return outputs;
  }
  outputs.backward_logprobs = fixed_backward_logprobs(tape, states, n_states, scratch);
  return outputs;
}

// Fixed backward policies are constants computed from the environment.
template <typename Scalar>
NodeId Model<Scalar>::fixed_backward_logprobs(Tape<Scalar>& tape, const int32_t* states, int n_states,
                                              ModelScratch& scratch) const {
  const int state_width = env_.state_width();
  const int width = env_.n_backward_actions();
  const Scalar minus_infinity = -std::numeric_limits<Scalar>::infinity();
  const NodeId node = tape.constant(n_states, width, minus_infinity);
  auto logprobs = tape.mutable_value(node);
  scratch.mask.resize(width);
  scratch.backward_logprobs.resize(width);
  for (int r = 0; r < n_states; ++r) {
    const int32_t* state = states + int64_t(r) * state_width;
    if (env_.is_initial(state)) continue;
    if (config_.backward == BackwardPolicy::MaxEnt) {
      env_.maxent_backward_logprobs(state, scratch.backward_logprobs.data());
      for (int c = 0; c < width; ++c) logprobs(r, c) = Scalar(scratch.backward_logprobs[c]);
    } else {
      env_.backward_mask(state, scratch.mask.data());
      int n_parents = 0;
      for (int c = 0; c < width; ++c) n_parents += scratch.mask[c];
      const Scalar uniform = -std::log(Scalar(n_parents));
      for (int c = 0; c < width; ++c)
        if (scratch.mask[c]) logprobs(r, c) = uniform;
    }
  }
  return node;
}

template <typename Scalar>
NodeId Model<Scalar>::backward_policy_logprobs(Tape<Scalar>& tape, const int32_t* states, int n_states,
                                               ModelScratch& scratch) const {
  if (config_.backward == BackwardPolicy::Learned)
    return evaluate(tape, nullptr, {states, n_states}, scratch).backward_logprobs;
  if (has_backward_network()) {
    encode(states, n_states, scratch);
    return backward_network_logprobs(tape, target_backward_store_, nullptr, states, n_states, scratch);
  }
  return fixed_backward_logprobs(tape, states, n_states, scratch);
}

template <typename Scalar>
NodeId Model<Scalar>::forward_logits(Tape<Scalar>& tape, const int32_t* states, int n_states,
                                     ModelScratch& scratch) const {
  encode(states, n_states, scratch);
  NodeId heads[3];
  run_network(networks_[network_of_.forward], tape, store_, nullptr, n_states, scratch, heads);
  return heads[head_of_.forward];
}

template <typename Scalar>
bool Model<Scalar>::forward_head(Tape<Scalar>& tape, const int32_t* states, int n_states, ModelScratch& scratch,
                                 ForwardHead* head) const {
  const Mlp<Scalar>& network = networks_[network_of_.forward];
  if (!network.has_trunk()) return false;
  encode(states, n_states, scratch);
  head->features = encoding_ != Encoding::Dense
                       ? network.trunk_sparse(tape, store_, scratch.active.data(), n_states, active_per_row())
                       : network.trunk(tape, store_, dense_input(tape, n_states, scratch));
  std::tie(head->weight, head->bias) = network.head_parameters(head_of_.forward);
  return true;
}

template <typename Scalar>
NodeId Model<Scalar>::log_z(Tape<Scalar>& tape, FlatVector<Scalar>* gradient) const {
  if (log_z_ < 0) throw std::logic_error("Model::log_z: this model has no log Z");
  return tape.parameter(store_, log_z_, gradient);
}

template <typename Scalar>
Scalar Model<Scalar>::log_z_value() const {
  return log_z_ >= 0 ? store_.value(log_z_)(0, 0) : std::numeric_limits<Scalar>::quiet_NaN();
}

template <typename Scalar>
std::vector<int> Model<Scalar>::forward_dense_widths() const {
  return networks_[network_of_.forward].dense_layer_widths(encoding_ != Encoding::Dense);
}

template <typename Scalar>
double Model<Scalar>::flops_per_state() const {
  double flops = 0;
  for (const auto& network : networks_) {
    // The first layer is an embedding sum (K rows added), not a GEMM.
    const MlpShape& shape = network.shape();
    if (shape.hidden.empty()) continue;  // tabular: lookups only
    flops += network.forward_flops_per_row() - 2.0 * shape.input_width * shape.hidden[0];
  }
  return flops;
}

template class Model<float>;
template class Model<double>;

}  // namespace gfn
