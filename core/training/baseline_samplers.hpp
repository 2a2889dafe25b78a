// Baselines that score terminal objects without any training, compared with GFlowNets per reward call
// (one reward call = one terminal object scored): Metropolis-Hastings chains and uniform random guessing.
// Not a GFlowNet sampler and not the metrics (core/evaluation/evaluation.hpp counts modes and the empirical L1).
//
// Metropolis-Hastings targets p(x) = R(x) / Z over terminal objects with local proposals built from the
// environment's moves, so no environment needs MCMC-specific code:
//   steps     (environments with an exit action, e.g. HyperGrid): y is uniform among the terminal objects
//             one forward or backward move from x (HyperGrid: +-1 on one coordinate); c(x) = their number.
//   siblings  (environments without exit, e.g. BitSeq): erase one move back to a uniform parent p of x, then
//             a uniform terminal child y != x of p (BitSeq: re-draw one word); c(x) = number of parents.
// Both neighbour relations are symmetric and q(y | x) / q(x | y) = c(y) / c(x), so y is accepted with
// probability min(1, R(y) c(x) / (R(x) c(y))). A chain with no proposal at x stays (no reward call).
// Each chain starts at the end of a uniform random walk from s0 (one reward call) and owns the random
// stream Rng::stream(seed, chain); chains step in parallel, bit-identical on any thread count.
//
// Uniform random guessing draws objects uniformly among terminal objects when the environment has an
// exit action and is enumerable (uniform state indices; states that cannot terminate are redrawn, no
// reward call for those), else by a uniform random walk from s0 (BitSeq: every word uniform, so again
// uniform over sequences). Draw i uses Rng::stream(seed, i).
//
//   MetropolisHastings mcmc(env, 16, seed);   mcmc.step();   mcmc.proposals();   mcmc.states();
//
// Thread contract: thread-compatible; the environment must outlive the sampler.
#pragma once

#include <cstdint>
#include <vector>

#include "envs/environment.hpp"
#include "util/random.hpp"

namespace gfn {

class MetropolisHastings {
 public:
  // Starts n_chains chains (n_chains reward calls). Throws std::invalid_argument when n_chains < 1.
  MetropolisHastings(const Environment& env, int n_chains, uint64_t seed);

  // One proposal per chain, accepted or rejected.
  void step();

  int n_chains() const { return n_chains_; }
  const std::vector<int32_t>& states() const { return states_; }          // chains x S, current
  const std::vector<double>& log_rewards() const { return log_rewards_; }  // chains
  // Objects scored by the last step() (chains x S) and whether each chain proposed at all; before the
  // first step, the starting objects.
  const std::vector<int32_t>& proposals() const { return proposals_; }
  const std::vector<uint8_t>& proposed() const { return proposed_; }
  int64_t reward_calls() const { return reward_calls_; }
  int64_t accepted() const { return accepted_; }

 private:
  struct Scratch {
    std::vector<uint8_t> mask;
    std::vector<uint8_t> exit_mask;       // A: can_terminate's, so that no thread allocates its own
    std::vector<int32_t> candidates;  // neighbours of x, rows of S
    std::vector<int32_t> parent, child;  // S each
    std::vector<int32_t> parents;         // terminal parents of x, rows of S
  };
  // Writes a uniform neighbour of x into y and returns c(x), or returns 0 (no neighbour).
  int propose(const int32_t* x, int32_t* y, Rng& rng, Scratch& scratch) const;
  int neighbour_count(const int32_t* x, Scratch& scratch) const;  // c(x)
  int terminal_children(const int32_t* parent, const int32_t* except, Scratch& scratch) const;

  const Environment& env_;
  int n_chains_;
  bool sibling_moves_;
  std::vector<Rng> rngs_;
  std::vector<int32_t> states_, proposals_;
  std::vector<double> log_rewards_;
  std::vector<uint8_t> proposed_, accepted_now_;  // per chain, last step()
  std::vector<Scratch> scratch_;                  // one per thread; grown once, so steps allocate nothing
  int64_t reward_calls_ = 0, accepted_ = 0;
};

class UniformGuessing {
 public:
  UniformGuessing(const Environment& env, uint64_t seed);

  // Draws n objects (n reward calls) into objects (n x S) and their log rewards.
  void draw(int n, std::vector<int32_t>& objects, std::vector<double>& log_rewards);
  int64_t reward_calls() const { return reward_calls_; }

 private:
  const Environment& env_;
  uint64_t seed_;
  int64_t reward_calls_ = 0;
  std::vector<uint8_t> mask_;
};

// The end of a uniform random walk from s0 (uniform over the valid forward actions, exit included) into
// `state` (S int32): a terminal object.
void uniform_random_walk(const Environment& env, Rng& rng, int32_t* state, std::vector<uint8_t>& mask);
// One object of uniform random guessing (the rule above) into `object` (S int32), drawn from `rng`.
void draw_uniform_object(const Environment& env, Rng& rng, int32_t* object, std::vector<uint8_t>& mask);

}  // namespace gfn
