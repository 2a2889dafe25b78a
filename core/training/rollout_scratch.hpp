// RolloutScratch: one thread's buffers for stepping a block of trajectories in lockstep, shared by the
// forward sampler (core/training/sampler.hpp) and the backward one (core/training/backward_sampler.hpp).
// Both stage trajectory t's rows at a fixed stride (rows t * max_rows .. t * max_rows + max_rows - 1 of
// a staging array), so that threads write apart; each step evaluates the policy on the last row of every
// live trajectory at once (live_states, live x S) and draws one move per trajectory from its own stream.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "autodiff/tape.hpp"
#include "core/network/model.hpp"
#include "util/random.hpp"

namespace gfn {

struct RolloutScratch {
  Tape<float> tape;
  ModelScratch model;
  std::vector<int32_t> live_states;  // live x S
  std::vector<int> live;             // trajectory index of each live row
  std::vector<Rng> rngs;             // the block's trajectory streams, rngs[t - first]
  std::vector<float> weights;        // A: draw_action's scratch (forward)
  DenseLayers<float> dense;          // the P_F network's dense-layer nodes, when recording (forward)

  // Starts a block of trajectories [first, first + count): no live trajectory yet, and trajectory t's
  // stream keyed by (seed, iteration, first_stream + t), whatever thread runs the block.
  void start_block(int first, int count, uint64_t seed, uint64_t iteration, uint64_t first_stream) {
    rngs.resize(count);
    live.clear();
    for (int j = 0; j < count; ++j) rngs[j] = Rng::stream(seed, iteration, first_stream + uint64_t(first + j));
  }

  // live_states <- the last staged row of every live trajectory; returns the number live.
  // staged: trajectory t's rows at t * max_rows; lengths: rows staged so far per trajectory.
  int gather_live_states(const int32_t* staged, const int* lengths, int max_rows, int state_width) {
    const int n_live = int(live.size());
    live_states.resize(size_t(n_live) * state_width);
    for (int j = 0; j < n_live; ++j) {
      const int trajectory = live[j];
      std::memcpy(live_states.data() + size_t(j) * state_width,
                  staged + (size_t(trajectory) * max_rows + lengths[trajectory] - 1) * state_width,
                  sizeof(int32_t) * state_width);
    }
    return n_live;
  }
};

}  // namespace gfn
