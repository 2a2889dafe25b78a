// The environment interface: a DAG of integer states with forward and backward actions, shaped for
// batched, allocation-free rollout by many threads at once.
//
// A state is a row of S int32 values (S = state_width()); a batch of states is a row-major B x S
// matrix, so `states.row(b).data()` is a state. Forward actions are 0..A-1 (A = n_actions()), one
// of which may be the exit action; backward actions are 0..A_b-1. A trajectory ends when it takes
// the exit action or reaches a state with no valid forward action.
//
// Writing one: implement the required part below; docs/writing_an_environment.md walks through an
// example, and check_environment() (envs/check_environment.hpp) tests an implementation.
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

#include "util/random.hpp"

namespace gfn {

using StateMatrix = Eigen::Matrix<int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;  // B x S

// How a state is shown to a policy. The sparse encodings activate exactly K input positions (value 1)
// out of a width W, so a first linear layer is an embedding sum (gather rows); the dense one hands
// the network W real-valued features, and the first layer is a plain GEMM.
enum class Encoding {
  KHot,         // HyperGrid: D one-hots of length H (W = D*H, K = D); BitSeq: one-hot per slot
  OneHotState,  // one-hot over all states (W = number of states, K = 1); optional: a tabular policy
                // indexes its table by state_index (Enumeration) whether or not this is offered
  Dense,        // W real features per state, written by encode_dense (K is not used)
};
const char* encoding_name(Encoding encoding);  // "k-hot", "one-hot-state", "dense"

// Training settings that suit an environment's reward, used where a run leaves them unset.
struct TrainingDefaults {
  // log R is clipped below at this by objectives that need a finite log R everywhere (TB, SubTB).
  double log_reward_floor = -std::numeric_limits<double>::infinity();
  double epsilon = 0;  // share of uniformly random actions in training rollouts
  // Share of each training batch drawn uniformly among the terminal objects, trained on by backward
  // sampling (the trajectory objectives only; see TrainConfig::uniform_ratio).
  double uniform_ratio = 0;
};

// Optional capabilities: what an environment may provide beyond the required core, and what needs it.
enum class Capability {
  Enumeration,     // n_states / state_index / state_from_index: exact metrics, tabular policies
  MaxEntBackward,  // maxent_backward_logprobs: --pb maxent
  Modes,           // n_modes / mode_of: "modes found"
  TestSet,         // test_states: the test-set rank correlation
};
const char* capability_name(Capability capability);

// An environment in three parts. REQUIRED: everything rollout and the trajectory objectives (TB, DB,
// SubTB, ZVar, DQN) need. OPTIONAL WITH DEFAULTS: derived from the required part, overridden only
// for speed or nicer printing. OPTIONAL CAPABILITIES: features that need one check provides() when
// they are configured and refuse with a one-line error (require_capability) instead of failing mid-run.
class Environment {
 public:
  virtual ~Environment() = default;

  // ---- Required ----
  virtual std::string name() const = 0;            // e.g. "hypergrid(D=4,H=20,standard)"
  virtual int state_width() const = 0;             // S
  virtual int n_actions() const = 0;               // A, forward actions including exit
  virtual int n_backward_actions() const = 0;      // A_b
  virtual int exit_action() const = 0;             // index of exit, or -1 if there is none
  virtual int max_trajectory_length() const = 0;   // bound on transitions (moves + exit) of a trajectory

  virtual void initial_state(int32_t* state) const = 0;
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

  // Encodings (see Encoding). encode_active writes the K active positions, in increasing order;
  // encoding_width returns -1 for an encoding the environment does not offer.
  virtual Encoding default_encoding() const = 0;
  virtual int encoding_width(Encoding encoding) const = 0;   // W
  virtual int encoding_active(Encoding encoding) const = 0;  // K
  virtual void encode_active(const int32_t* state, Encoding encoding, int32_t* active) const = 0;
  // Encoding::Dense only (an environment whose default_encoding() is Dense): writes the W features.
  // Default: refuses.
  virtual void encode_dense(const int32_t* state, double* features) const;

  // ---- Optional, with defaults derived from the required part ----
  virtual int max_parents() const { return n_backward_actions(); }  // bound on the parents of a state
  // Default: equal to initial_state().
  virtual bool is_initial(const int32_t* state) const;
  // Parents of `state` (flow matching needs them): writes P <= max_parents() parent states (P x S,
  // row-major) and the forward action that leads from each parent to `state`; returns P.
  // Default: one parent per valid backward action, by backward_step and forward_action_of.
  virtual int parents(const int32_t* state, int32_t* parent_states, int* actions) const;
  virtual std::string action_name(int action) const;            // default "exit" or "action <a>"
  virtual std::string state_string(const int32_t* state) const;  // default "(v0,v1,...)"
  // One line on what the environment is and how it rewards, for `gfn info`; default: none (empty).
  virtual std::string description() const { return {}; }
  // Defaults for training on this environment (see TrainingDefaults); none unless overridden.
  virtual TrainingDefaults training_defaults() const { return {}; }
  // The reward's constants by name, for reports (HyperGrid: R0, R1, R2; BitSeq: beta).
  virtual std::vector<std::pair<std::string, double>> reward_constants() const { return {}; }
  // A trajectory from s_0 to the terminating state `terminal` drawn backwards from the uniform backward
  // policy (each step uniform over the valid backward actions) with `rng`: writes its n backward
  // actions in forward order (backward_actions[t] undoes the (t+1)-th move), returns n <= L. Default:
  // step by step with backward_mask and backward_step.
  virtual int sample_uniform_backward(const int32_t* terminal, Rng& rng, int* backward_actions) const;

  // ---- Optional capabilities ----
  // Default: Enumeration when n_states() >= 0, Modes when n_modes() > 0, never MaxEntBackward.
  virtual bool provides(Capability capability) const;

  // Enumeration. n_states() is the number of states, or -1 when it is not enumerable (or does not fit
  // in int64). state_index / state_from_index are a bijection with [0, n_states).
  virtual int64_t n_states() const { return -1; }
  virtual int64_t state_index(const int32_t* state) const;         // default: refuses
  virtual void state_from_index(int64_t index, int32_t* state) const;  // default: refuses

  // Max-entropy backward policy in closed form: writes log P_B over the A_b backward actions
  // (-inf where invalid). Requires a non-initial state. Default: refuses.
  virtual void maxent_backward_logprobs(const int32_t* state, double* logp) const;

  // Modes: n_modes() targets; mode_of(x) is the id in [0, n_modes) of a mode x counts as finding,
  // or -1. (HyperGrid: the max-reward states; BitSeq: a mode within Hamming distance 30.)
  virtual int64_t n_modes() const { return 0; }
  virtual int64_t mode_of(const int32_t* /*state*/) const { return -1; }

  // Test set: held-out terminating states (M x S) whose log P_T estimates are rank-correlated with
  // their log R (core/evaluation/terminal_likelihood.hpp). BitSeq: its modes and their mutants. Default: refuses.
  virtual StateMatrix test_states() const;

  // A terminating state is one a trajectory can end in: exit is valid there, or it is final. The first
  // form uses a buffer of the calling thread's own, allocated the first time that thread calls it; the
  // second uses the caller's `mask` (grown to A when smaller), for loops that must not allocate.
  bool can_terminate(const int32_t* state) const;
  bool can_terminate(const int32_t* state, std::vector<uint8_t>& mask) const;
};

// Throws std::invalid_argument, one line naming the environment, the capability and `feature` (the
// thing that needs it, e.g. "--pb maxent"), unless env.provides(capability).
void require_capability(const Environment& env, Capability capability, const std::string& feature);

}  // namespace gfn
