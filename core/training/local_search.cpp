// LocalSearch implementation: per round, backward walks from the current objects, rebuilds from the
// junctions, candidate trajectories stitched from the two, and the acceptance rule.
#include "core/training/local_search.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "util/parallel.hpp"

namespace gfn {

LocalSearchAcceptance local_search_acceptance_from_name(const std::string& name) {
  if (name == "greedy") return LocalSearchAcceptance::Greedy;
  if (name == "mh") return LocalSearchAcceptance::MetropolisHastings;
  throw std::invalid_argument("unknown local search acceptance '" + name + "' (greedy, mh)");
}

std::string local_search_acceptance_name(LocalSearchAcceptance acceptance) {
  return acceptance == LocalSearchAcceptance::Greedy ? "greedy" : "mh";
}

LocalSearch::LocalSearch(const Model<float>& model, int block_size)
    : model_(model), block_size_(block_size), sampler_(model, block_size), backward_(model, block_size) {}

void LocalSearch::segment_log_probabilities(const TrajectoryBatch& batch, const std::vector<int>& from_rows,
                                            std::vector<double>& log_forward, std::vector<double>& log_backward) {
  const Environment& env = model_.env();
  const int n = batch.n_trajectories();
  log_forward.assign(n, 0.0);
  log_backward.assign(n, 0.0);
  scratch_.resize(max_threads());
  const int n_blocks = (n + block_size_ - 1) / block_size_;
  parallel_for(n_blocks, [&](int64_t block) {
    BlockScratch& scratch = scratch_[thread_id()];
    const int first = int(block) * block_size_, last = std::min(n, first + block_size_);
    const int first_row = batch.offsets[first];
    scratch.tape.clear();
    const ModelOutputs outputs = model_.evaluate(scratch.tape, nullptr, {batch.state(first_row), batch.offsets[last] - first_row}, scratch.model);
    const auto forward = scratch.tape.value(outputs.forward_logprobs);    // rows x A
    const auto backward = scratch.tape.value(outputs.backward_logprobs);  // rows x A_b
    for (int i = first; i < last; ++i)
      for (int r = batch.offsets[i] + from_rows[i]; r < batch.offsets[i + 1]; ++r) {
        const int action = batch.actions[r];
        if (action < 0) continue;  // a final last row
        log_forward[i] += double(forward(r - first_row, action));
        if (action != env.exit_action())
          log_backward[i] += double(backward(r + 1 - first_row, env.backward_action_of(batch.state(r), action)));
      }
  });
}

int64_t LocalSearch::run(const TrajectoryBatch& fresh, const LocalSearchConfig& config, uint64_t seed,
                         uint64_t iteration, uint64_t first_stream, TrajectoryBatch& result) {
  if (config.backtrack < 1) throw std::invalid_argument("local search needs at least one backtrack step");
  if (config.rounds < 1) throw std::invalid_argument("local search needs at least one round");
  const Environment& env = model_.env();
  const int width = env.state_width();
  const int n = fresh.n_trajectories();
  objects_.resize(size_t(n) * width);
  log_rewards_.assign(fresh.log_rewards.begin(), fresh.log_rewards.end());
  for (int i = 0; i < n; ++i) std::copy(fresh.terminal_state(i), fresh.terminal_state(i) + width, objects_.begin() + size_t(i) * width);
  scored_.clear();
  accepted_ = 0;
  junctions_.resize(n);
  starts_.resize(size_t(n) * width);
  zero_rows_.assign(n, 0);

  for (int round = 0; round < config.rounds; ++round) {
    const uint64_t walk_streams = first_stream + uint64_t(3 * round) * n;
    backward_.sample(objects_.data(), n, seed, iteration, walk_streams, walks_);
    for (int i = 0; i < n; ++i) {
      // The walk's rows 0..m are s0..x (m moves; an exit row at x is not a move).
      const int moves = walks_.offsets[i + 1] - walks_.offsets[i] - 1;
      junctions_[i] = std::max(0, moves - config.backtrack);
      const int32_t* junction = walks_.state(walks_.offsets[i] + junctions_[i]);
      std::copy(junction, junction + width, starts_.begin() + size_t(i) * width);
    }
    sampler_.sample_from(starts_.data(), n, seed, iteration, walk_streams + n, SamplingOptions{}, rebuilt_);
    for (int i = 0; i < n; ++i) {
      const int32_t* object = rebuilt_.terminal_state(i);
      scored_.insert(scored_.end(), object, object + width);
    }
    if (config.acceptance == LocalSearchAcceptance::MetropolisHastings) {
      segment_log_probabilities(walks_, junctions_, walk_forward_, walk_backward_);
      segment_log_probabilities(rebuilt_, zero_rows_, rebuilt_forward_, rebuilt_backward_);
    }
    clear_batch(next_);
    for (int i = 0; i < n; ++i) {
      const double log_reward = rebuilt_.log_rewards[i];
      bool accept;
      if (config.acceptance == LocalSearchAcceptance::Greedy) {
        accept = log_reward >= log_rewards_[i];
      } else {
        const double log_ratio = (log_reward + rebuilt_backward_[i] + walk_forward_[i]) -
                                 (log_rewards_[i] + walk_backward_[i] + rebuilt_forward_[i]);
        Rng coin = Rng::stream(seed, iteration, walk_streams + 2 * uint64_t(n) + i);
        accept = log_rewards_[i] == -INFINITY || coin.uniform() < std::exp(std::min(0.0, log_ratio));
      }
      const int walk_begin = walks_.offsets[i];
      if (accept) {  // s0..s from the walk (s excluded), then the rebuilt s..x'
        append_rows(next_, walks_, walk_begin, walk_begin + junctions_[i]);
        append_rows(next_, rebuilt_, rebuilt_.offsets[i], rebuilt_.offsets[i + 1]);
        close_trajectory(next_, log_reward);
        std::copy(rebuilt_.terminal_state(i), rebuilt_.terminal_state(i) + width, objects_.begin() + size_t(i) * width);
        log_rewards_[i] = log_reward;
        ++accepted_;
      } else {
        append_rows(next_, walks_, walk_begin, walks_.offsets[i + 1]);
        close_trajectory(next_, log_rewards_[i]);
      }
    }
  }
  std::swap(result, next_);
  return int64_t(n) * config.rounds;
}

}  // namespace gfn
