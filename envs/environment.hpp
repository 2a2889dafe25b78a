// The environment interface: a DAG of integer states with forward and backward actions, shaped for
// batched, allocation-free rollout by many threads at once.
//
// A state is a row of S int32 values (S = state_width()); a batch of states is a row-major B x S
// matrix, so `states.row(b).data()` is a state. Forward actions are 0..A-1 (A = n_actions()), one
// of which may be the exit action; backward actions are 0..A_b-1. A trajectory ends when it takes
// the exit action or reaches a state with no valid forward action.
//
// Thread contract: an Environment is read-only after construction; every method is const and safe to
// call from many threads at once. Methods write only into caller-provided buffers (no allocation).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace gfn {

using StateMatrix = Eigen::Matrix<int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;  // B x S

// How a state is shown to a policy. Every encoding is K-sparse: a state activates exactly K input
// positions (value 1) out of a width W, so a first linear layer is an embedding sum (gather rows).
enum class Encoding {
  KHot,         // HyperGrid: D one-hots of length H (W = D*H, K = D); BitSeq: one-hot per slot
  OneHotState,  // one-hot over all states (W = number of states, K = 1); also the tabular index
};

// Training settings that suit an environment's reward, used where a run leaves them unset.
struct TrainingDefaults {
  // log R is clipped below at this by objectives that need a finite log R everywhere (TB, SubTB).
  double log_reward_floor = -std::numeric_limits<double>::infinity();
  double epsilon = 0;  // share of uniformly random actions in training rollouts
};

class Environment {
 public:
  virtual ~Environment() = default;

  virtual std::string name() const = 0;            // e.g. "hypergrid(D=4,H=20,standard)"
  virtual int state_width() const = 0;             // S
  virtual int n_actions() const = 0;               // A, forward actions including exit
  virtual int n_backward_actions() const = 0;      // A_b
  virtual int exit_action() const = 0;             // index of exit, or -1 if there is none
  virtual int max_trajectory_length() const = 0;   // bound on transitions (moves + exit) of a trajectory
  virtual int max_parents() const = 0;             // bound on the number of parents of a state

  virtual void initial_state(int32_t* state) const = 0;
  virtual bool is_initial(const int32_t* state) const = 0;
  // True when no forward move is left (BitSeq: all slots filled). Such a state is terminal.
  virtual bool is_final(const int32_t* state) const = 0;
  // mask[0..A): 1 where the forward action is valid.
  virtual void forward_mask(const int32_t* state, uint8_t* mask) const = 0;
  // mask[0..A_b): 1 where the backward action is valid (one entry per parent).
  virtual void backward_mask(const int32_t* state, uint8_t* mask) const = 0;
  // Applies a valid forward move (not exit) in place.
  virtual void step(int32_t* state, int action) const = 0;
  // Undoes: applies a valid backward action in place.
  virtual void backward_step(int32_t* state, int backward_action) const = 0;
  // The backward action at the child that leads back to `state` after forward move `action`.
  virtual int backward_action_of(const int32_t* state, int action) const = 0;
  // The forward action at the parent that leads to `state` along `backward_action`.
  virtual int forward_action_of(const int32_t* state, int backward_action) const = 0;
  // log R(x) of a terminating state (-inf when R = 0).
  virtual double log_reward(const int32_t* state) const = 0;

  // Parents of `state`: writes P <= max_parents() parent states (P x S, row-major) and the forward
  // action that leads from each parent to `state`; returns P.
  virtual int parents(const int32_t* state, int32_t* parent_states, int* actions) const = 0;

  // Encodings (see Encoding). encode_active writes the K active positions, in increasing order.
  virtual Encoding default_encoding() const = 0;
  virtual int encoding_width(Encoding encoding) const = 0;   // W
  virtual int encoding_active(Encoding encoding) const = 0;  // K
  virtual void encode_active(const int32_t* state, Encoding encoding, int32_t* active) const = 0;

  // Max-entropy backward policy in closed form: writes log P_B over the A_b backward actions
  // (-inf where invalid). Requires a non-initial state.
  virtual void maxent_backward_logprobs(const int32_t* state, double* logp) const = 0;

  // Modes: n_modes() targets; mode_of(x) is the id in [0, n_modes) of a mode x counts as finding,
  // or -1. (HyperGrid: the max-reward states; BitSeq: a mode within Hamming distance 30.)
  virtual int64_t n_modes() const = 0;
  virtual int64_t mode_of(const int32_t* state) const = 0;

  // Enumeration. n_states() is the number of states, or -1 when it does not fit in int64.
  // state_index / state_from_index are a bijection with [0, n_states) (valid when n_states() >= 0).
  virtual int64_t n_states() const = 0;
  virtual int64_t state_index(const int32_t* state) const = 0;
  virtual void state_from_index(int64_t index, int32_t* state) const = 0;

  // Printing.
  virtual std::string action_name(int action) const = 0;
  virtual std::string state_string(const int32_t* state) const = 0;

  // Defaults for training on this environment (see TrainingDefaults); none unless overridden.
  virtual TrainingDefaults training_defaults() const { return {}; }
  // The reward's constants by name, for reports (HyperGrid: R0, R1, R2; BitSeq: beta).
  virtual std::vector<std::pair<std::string, double>> reward_constants() const { return {}; }

  // A terminating state is one a trajectory can end in: exit is valid there, or it is final.
  bool can_terminate(const int32_t* state) const;
};

}  // namespace gfn
