// The P_B objective of trajectory likelihood maximisation (TLM, pessimistic): over the M moves s -> s'
// of a whole batch, -(1/M) sum log P_B(s | s'). Trained by the Trainer before the forward objective,
// on the P_B network alone. Shapes: R rows of the batch, A_b backward actions.
#pragma once

#include <algorithm>
#include <vector>

#include "autodiff/tape.hpp"
#include "core/training/trajectories.hpp"
#include "envs/environment.hpp"

namespace gfn {

// backward_logprobs: R x A_b over the batch's rows. columns: scratch of R ints (kept until backward).
template <typename Scalar>
NodeId backward_negative_log_likelihood(Tape<Scalar>& tape, NodeId backward_logprobs, const TrajectoryBatch& batch,
                                        const Environment& env, std::vector<int>& columns) {
  columns.resize(batch.n_rows());
  int moves = 0;
  for (int b = 0; b < batch.n_trajectories(); ++b)
    for (int r = batch.offsets[b]; r < batch.offsets[b + 1]; ++r) {
      const bool first = r == batch.offsets[b];
      columns[r] = first ? -1 : env.backward_action_of(batch.state(r - 1), batch.actions[r - 1]);
      moves += !first;
    }
  const NodeId log_likelihood = tape.sum(tape.pick(backward_logprobs, columns.data()));
  return tape.scale(log_likelihood, Scalar(-1) / Scalar(std::max(moves, 1)));
}

}  // namespace gfn
