// Model: the GFlowNet estimators of one run, all in one ParameterStore.
//
//   P_F  logits over the A forward actions          (MLP or tabular)
//   P_B  logits over the A_b backward actions       (learned only; fixed policies are computed)
//   log F(s)                                         (when the objective needs state flows)
//   log Z, a scalar in optimiser group 1             (when the objective needs it)
//
// An MLP reads the environment's sparse encoding (first layer = embedding sum). "Tied" puts every
// head on one trunk. Tabular = zero-initialised tables indexed by state (a linear layer without a
// trunk on the one-hot state encoding, started at zero); the index is the environment's state_index,
// so any environment that enumerates gets one, whether or not it offers Encoding::OneHotState. A
// learned P_B head starts at zero, so P_B starts uniform.
//
// Shapes: B evaluated states, S state width, A forward and A_b backward actions, K active inputs.
//
// Thread contract: evaluate() only reads the parameters; run it from many threads with a tape and a
// gradient buffer per thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/network/mlp.hpp"
#include "envs/environment.hpp"

namespace gfn {

// Uniform and MaxEnt are fixed; Learned is trained by the forward objective (the naive approach);
// Tlm and Pessimistic have their own P_B network, trained by trajectory likelihood maximisation, and
// the forward objective reads a Polyak-averaged target copy of it (see Trainer).
enum class BackwardPolicy { Uniform, MaxEnt, Learned, Tlm, Pessimistic };

// Names as on the command line: uniform, maxent, learned, tlm, pessimistic.
BackwardPolicy backward_policy_from_name(const std::string& name);
std::string backward_policy_name(BackwardPolicy policy);

struct ModelConfig {
  bool tabular = false;
  std::vector<int> hidden = {256, 256};
  Activation activation = Activation::Relu;
  bool tied = false;
  BackwardPolicy backward = BackwardPolicy::Uniform;
  bool state_flow = false;  // a log F(s) estimator
  bool log_z = false;       // a scalar log Z
};

// What evaluate() puts on the tape for B states (-1 where the model has no such output).
struct ModelOutputs {
  NodeId forward_logits = -1;    // B x A, raw (FM reads them as log edge flows)
  NodeId forward_logprobs = -1;  // B x A, masked log-softmax (-inf on invalid actions)
  NodeId action_logprobs = -1;   // B x 1, log P_F of the actions given to evaluate() (instead of the above)
  NodeId backward_logprobs = -1; // B x A_b, -inf on invalid; a constant unless P_B is learned
  NodeId log_flow = -1;          // B x 1
};

// The states a model evaluates, and what it computes for them.
template <typename Scalar>
struct ModelInputs {
  const int32_t* states = nullptr;  // B x S, row-major
  int n_states = 0;                 // B
  bool with_backward = true;        // false: the P_B output is skipped (rollout needs only P_F)
  // The dense layers of the network computing P_F, recorded or given (core/network/mlp.hpp).
  DenseLayers<Scalar>* forward_dense = nullptr;
  // B (-1: none): P_F only at these actions, as action_logprobs, for losses that read one action per
  // state; the B x A forward_logprobs are then not built (Tape::masked_log_softmax_at).
  const int* forward_actions = nullptr;
};

// Reusable buffers of one evaluating thread (no allocation after warm-up).
struct ModelScratch {
  std::vector<int> active;                 // B*K encoding positions (sparse encodings)
  std::vector<double> features;            // B*W features (Encoding::Dense)
  std::vector<uint8_t> mask;               // one state's mask
  std::vector<double> backward_logprobs;   // one state's fixed P_B
};

template <typename Scalar>
class Model {
 public:
  Model(const Environment& env, const ModelConfig& config, uint64_t seed);

  const Environment& env() const { return env_; }
  const ModelConfig& config() const { return config_; }
  ParameterStore<Scalar>& store() { return store_; }
  const ParameterStore<Scalar>& store() const { return store_; }
  Encoding encoding() const { return encoding_; }
  bool has_log_z() const { return log_z_ >= 0; }

  // The outputs for `inputs` on `tape`; gradient: nullptr for no gradient.
  ModelOutputs evaluate(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const ModelInputs<Scalar>& inputs,
                        ModelScratch& scratch) const;
  // Output width of each dense layer of the network computing P_F (empty for a tabular model).
  std::vector<int> forward_dense_widths() const;
  NodeId log_z(Tape<Scalar>& tape, FlatVector<Scalar>* gradient) const;  // 1 x 1
  // The P_B of evaluate() alone (N x A_b, no gradient), computing only what it needs: a fixed policy
  // (uniform, maxent) runs no network, TLM / pessimistic only the target P_B network.
  NodeId backward_policy_logprobs(Tape<Scalar>& tape, const int32_t* states, int n_states,
                                  ModelScratch& scratch) const;
  // The raw P_F logits alone (N x A, no gradient, no mask, no softmax): for evaluations that need a
  // few log-probabilities per state and normalise them over the valid actions themselves.
  NodeId forward_logits(Tape<Scalar>& tape, const int32_t* states, int n_states, ModelScratch& scratch) const;
  // The same logits for callers that need only some of their columns per state (the BitSeq
  // likelihood: the words of the empty slots): the P_F network's trunk output (N x H, no gradient)
  // and the ids in store() of its P_F head's weight (H x A) and bias (1 x A), logits = features
  // weight + bias. Returns false, computing nothing, for a network without hidden layers (tabular).
  struct ForwardHead {
    NodeId features = -1;
    int weight = -1, bias = -1;
  };
  bool forward_head(Tape<Scalar>& tape, const int32_t* states, int n_states, ModelScratch& scratch,
                    ForwardHead* head) const;

  // Tlm / Pessimistic: the online P_B network (trained by likelihood) and its target copy (read by
  // evaluate()). evaluate_backward gives the online B x A_b log-probabilities, gradient into a buffer
  // of backward_store()'s layout.
  bool has_backward_network() const { return backward_network_.n_heads() > 0; }
  ParameterStore<Scalar>& backward_store() { return backward_store_; }
  const ParameterStore<Scalar>& backward_store() const { return backward_store_; }
  ParameterStore<Scalar>& target_backward_store() { return target_backward_store_; }
  const ParameterStore<Scalar>& target_backward_store() const { return target_backward_store_; }
  NodeId evaluate_backward(Tape<Scalar>& tape, FlatVector<Scalar>* gradient, const int32_t* states, int n_states,
                           ModelScratch& scratch) const;
  Scalar log_z_value() const;

  // Forward FLOPs per evaluated state (all heads), for throughput reports.
  double flops_per_state() const;

 private:
  struct Heads {
    int forward = -1, backward = -1, flow = -1;
  };
  void add_mask_node(Tape<Scalar>& tape, const int32_t* states, int n_states, bool backward, ModelScratch& scratch,
                     NodeId* node) const;

  const Environment& env_;
  ModelConfig config_;
  Encoding encoding_;
  ParameterStore<Scalar> store_;
  void encode(const int32_t* states, int n_states, ModelScratch& scratch) const;
  int active_per_row() const;  // K of the sparse input (1 for a table: the state's index)
  // The dense encoding encode() wrote into scratch, as an input node (N x W).
  NodeId dense_input(Tape<Scalar>& tape, int n_states, const ModelScratch& scratch) const;
  // Runs `network` on the states encode() wrote into scratch: writes one node per head.
  void run_network(const Mlp<Scalar>& network, Tape<Scalar>& tape, const ParameterStore<Scalar>& store,
                   FlatVector<Scalar>* gradient, int n_states, const ModelScratch& scratch, NodeId* heads,
                   DenseLayers<Scalar>* dense = nullptr) const;
  NodeId fixed_backward_logprobs(Tape<Scalar>& tape, const int32_t* states, int n_states,
                                 ModelScratch& scratch) const;
  NodeId backward_network_logprobs(Tape<Scalar>& tape, const ParameterStore<Scalar>& store,
                                   FlatVector<Scalar>* gradient, const int32_t* states, int n_states,
                                   ModelScratch& scratch) const;

  std::vector<Mlp<Scalar>> networks_;  // one when tied, else one per estimator
  Heads network_of_, head_of_;         // which network computes each output, and its head index there
  int log_z_ = -1;              // parameter id
  ParameterStore<Scalar> backward_store_, target_backward_store_;
  Mlp<Scalar> backward_network_;  // Tlm / Pessimistic only
};

}  // namespace gfn
