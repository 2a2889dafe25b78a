// The registry of GFlowNet objectives (docs/objectives.md), by the name used on the command line. Each block
// objective is one file in core/training/objectives/ implementing BlockObjective (core/training/objective.hpp); adding
// one is that file plus one line in the table of objectives.cpp.
//
//   tb           (log Z + sum log P_F - sum log P_B - log R)^2, mean over trajectories
//   db           (log F(s) + log P_F(s'|s) - log P_B(s|s') - log F(s'))^2, F(terminal) = R, mean over transitions
//   modified-db  modified DB (every state terminal): log R(s) replaces log F(s) via P_F(exit), mean over moves
//   subtb        all sub-trajectories, weights lambda^(len-1) normalised per trajectory, mean over trajectories
//   zvar         (zeta - mean zeta)^2 with zeta = sum log P_F - sum log P_B - log R, mean over trajectories
//   fm           (log inflow - log outflow)^2 over visited non-initial states (edge flows = P_F logits),
//                plus (log F(x -> exit) - log R(x))^2 over exits; each term a mean
//   soft-dqn, munchausen-dqn   trained by SoftDqnLearner (core/training/soft_dqn.hpp), not by block objectives
//
// Thread contract: the registry is immutable; every function here is safe from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/network/training_diverged.hpp"
#include "core/training/objective.hpp"
#include "core/training/objectives/backward_likelihood.hpp"

namespace gfn {

// Who trains with the objective: the Trainer's parallel blocks, or the soft-DQN learner.
enum class Learner { Blocks, SoftDqn, MunchausenDqn };

template <typename Scalar>
using BlockObjectiveFactory = std::unique_ptr<BlockObjective<Scalar>> (*)(const ObjectiveConfig&);

struct ObjectiveSpec {
  const char* name;    // as on the command line
  bool log_z;          // the model needs a log Z estimator
  bool state_flow;     // the model needs a log F(s) estimator
  bool needs_exit;     // the environment must let every state exit
  bool reward_floor;   // log R is floored at the environment's default floor unless told otherwise
  Learner learner;
  BlockObjectiveFactory<float> make_float = nullptr;  // Learner::Blocks only
  BlockObjectiveFactory<double> make_double = nullptr;
};

// The names of all objectives, in table order: tb, db, ...
std::vector<std::string> objective_names();

// The objective called `name`; throws std::invalid_argument naming the known ones.
const ObjectiveSpec& objective_spec(const std::string& name);

// Sets state_flow and log_z of a ModelConfig to what objective `loss` needs.
void require_estimators(const std::string& loss, ModelConfig& config);

// A new block objective for config.loss; throws std::invalid_argument for an unknown name or a
// soft-DQN learner.
template <typename Scalar>
std::unique_ptr<BlockObjective<Scalar>> make_block_objective(const ObjectiveConfig& config);

}  // namespace gfn
