// Baseline samplers implementation: Metropolis-Hastings chains with environment-built local proposals,
// and uniform random guessing (see baseline_samplers.hpp for the proposal and acceptance rules).
#include "core/training/baseline_samplers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "util/parallel.hpp"

namespace gfn {

void uniform_random_walk(const Environment& env, Rng& rng, int32_t* state, std::vector<uint8_t>& mask) {
  mask.resize(env.n_actions());
  env.initial_state(state);
  while (!env.is_final(state)) {
    env.forward_mask(state, mask.data());
    int n_valid = 0;
    for (uint8_t valid : mask) n_valid += valid;
    if (n_valid == 0) throw std::logic_error("uniform_random_walk: a non-final state without valid actions");
    int pick = int(rng.uniform_int(uint32_t(n_valid)));
    int action = 0;
    while (!mask[action] || pick-- > 0) ++action;
    if (action == env.exit_action()) return;
    env.step(state, action);
  }
}

void draw_uniform_object(const Environment& env, Rng& rng, int32_t* object, std::vector<uint8_t>& mask) {
  // Index draws when every state can exit (HyperGrid); walks otherwise (BitSeq: uniform words).
  const int64_t n_states = env.exit_action() >= 0 ? env.n_states() : -1;
  if (n_states < 0) return uniform_random_walk(env, rng, object, mask);
  do {
    env.state_from_index(int64_t(rng.next_u64() % uint64_t(n_states)), object);
  } while (!env.can_terminate(object));
}

// ---------------------------------------------------------------------------------------------
// Metropolis-Hastings

MetropolisHastings::MetropolisHastings(const Environment& env, int n_chains, uint64_t seed)
    : env_(env), n_chains_(n_chains), sibling_moves_(env.exit_action() < 0) {
  if (n_chains < 1) throw std::invalid_argument("MCMC needs at least one chain");
  const int width = env.state_width();
  states_.resize(size_t(n_chains) * width);
  log_rewards_.resize(n_chains);
  proposed_.assign(n_chains, 1);
  std::vector<uint8_t> mask;
  for (int chain = 0; chain < n_chains; ++chain) {
    rngs_.push_back(Rng::stream(seed, uint64_t(chain)));
    int32_t* state = states_.data() + size_t(chain) * width;
    uniform_random_walk(env, rngs_.back(), state, mask);
    log_rewards_[chain] = env.log_reward(state);
  }
  proposals_ = states_;
  reward_calls_ = n_chains;
}

int MetropolisHastings::terminal_children(const int32_t* parent, const int32_t* except, Scratch& scratch) const {
  const int width = env_.state_width();
  scratch.mask.resize(std::max(env_.n_actions(), env_.n_backward_actions()));
  env_.forward_mask(parent, scratch.mask.data());
  scratch.candidates.clear();
  std::vector<int32_t>& child = scratch.child;
  for (int action = 0; action < env_.n_actions(); ++action) {
    if (!scratch.mask[action] || action == env_.exit_action()) continue;
    child.assign(parent, parent + width);
    env_.step(child.data(), action);
    if (!env_.can_terminate(child.data(), scratch.exit_mask) || std::equal(child.begin(), child.end(), except)) continue;
    scratch.candidates.insert(scratch.candidates.end(), child.begin(), child.end());
  }
  return int(scratch.candidates.size()) / width;
}

int MetropolisHastings::neighbour_count(const int32_t* x, Scratch& scratch) const {
  const int width = env_.state_width();
  scratch.mask.resize(std::max(env_.n_actions(), env_.n_backward_actions()));
  env_.backward_mask(x, scratch.mask.data());
  int n_parents = 0;
  scratch.parent.resize(width);
  std::vector<int32_t>& parents = scratch.parents;
  parents.clear();
  for (int action = 0; action < env_.n_backward_actions(); ++action) {
    if (!scratch.mask[action]) continue;
    if (sibling_moves_) {  // c(x) = number of parents
      ++n_parents;
      continue;
    }
    scratch.parent.assign(x, x + width);
    env_.backward_step(scratch.parent.data(), action);
    if (env_.can_terminate(scratch.parent.data(), scratch.exit_mask)) parents.insert(parents.end(), scratch.parent.begin(), scratch.parent.end());
  }
  if (sibling_moves_) return n_parents;
  // Steps: terminal parents, then terminal children (x itself is never its own child).
  const int n_children = terminal_children(x, x, scratch);
  scratch.candidates.insert(scratch.candidates.end(), parents.begin(), parents.end());
  return n_children + int(parents.size()) / width;
}

int MetropolisHastings::propose(const int32_t* x, int32_t* y, Rng& rng, Scratch& scratch) const {
  const int width = env_.state_width();
  if (!sibling_moves_) {
    const int count = neighbour_count(x, scratch);  // leaves the neighbours in scratch.candidates
    if (count == 0) return 0;
    const int pick = int(rng.uniform_int(uint32_t(count)));
    std::copy(scratch.candidates.begin() + size_t(pick) * width, scratch.candidates.begin() + size_t(pick + 1) * width, y);
    return count;
  }
  const int n_parents = neighbour_count(x, scratch);
  if (n_parents == 0) return 0;
  env_.backward_mask(x, scratch.mask.data());
  int pick = int(rng.uniform_int(uint32_t(n_parents)));
  int backward_action = 0;
  while (!scratch.mask[backward_action] || pick-- > 0) ++backward_action;
  scratch.parent.assign(x, x + width);
  env_.backward_step(scratch.parent.data(), backward_action);
  const int n_siblings = terminal_children(scratch.parent.data(), x, scratch);
  if (n_siblings == 0) return 0;
  const int sibling = int(rng.uniform_int(uint32_t(n_siblings)));
  std::copy(scratch.candidates.begin() + size_t(sibling) * width, scratch.candidates.begin() + size_t(sibling + 1) * width, y);
  return n_parents;
}

void MetropolisHastings::step() {
  const int width = env_.state_width();
  if (int(scratch_.size()) < max_threads()) {  // room for the largest neighbourhood, so steps allocate nothing
    scratch_.resize(max_threads());
    const size_t moves = size_t(env_.n_actions()) + size_t(env_.n_backward_actions());
    for (Scratch& scratch : scratch_) {
      scratch.mask.reserve(moves);
      scratch.candidates.reserve(moves * width);
      scratch.parents.reserve(size_t(env_.n_backward_actions()) * width);
      scratch.parent.reserve(width);
      scratch.exit_mask.reserve(size_t(env_.n_actions()));
      scratch.child.reserve(width);
    }
  }
  accepted_now_.assign(n_chains_, 0);
  parallel_for(n_chains_, [&](int64_t chain) {
    Scratch& scratch = scratch_[thread_id()];
    Rng& rng = rngs_[chain];
    int32_t* x = states_.data() + size_t(chain) * width;
    int32_t* y = proposals_.data() + size_t(chain) * width;
    const int count_x = propose(x, y, rng, scratch);
    proposed_[chain] = count_x > 0;
    if (count_x == 0) return;
    const double log_reward_y = env_.log_reward(y);
    const int count_y = neighbour_count(y, scratch);
    const double log_acceptance = log_rewards_[chain] == -std::numeric_limits<double>::infinity()
                                      ? 0.0
                                      : log_reward_y - log_rewards_[chain] + std::log(double(count_x) / count_y);
    if (rng.uniform() < std::exp(std::min(0.0, log_acceptance))) {
      std::copy(y, y + width, x);
      log_rewards_[chain] = log_reward_y;
      accepted_now_[chain] = 1;
    }
  });
  for (int chain = 0; chain < n_chains_; ++chain) {
    reward_calls_ += proposed_[chain];
    accepted_ += accepted_now_[chain];
  }
}

// ---------------------------------------------------------------------------------------------
// Uniform random guessing

UniformGuessing::UniformGuessing(const Environment& env, uint64_t seed) : env_(env), seed_(seed) {}

void UniformGuessing::draw(int n, std::vector<int32_t>& objects, std::vector<double>& log_rewards) {
  const int width = env_.state_width();
  objects.resize(size_t(n) * width);
  log_rewards.resize(n);
  for (int i = 0; i < n; ++i) {
    Rng rng = Rng::stream(seed_, uint64_t(reward_calls_));
    int32_t* object = objects.data() + size_t(i) * width;
    draw_uniform_object(env_, rng, object, mask_);
    log_rewards[i] = env_.log_reward(object);
    ++reward_calls_;
  }
}

}  // namespace gfn
