// TrajectoryBatch: a batch of complete trajectories in flat arrays, the unit that rollout produces
// and every objective consumes.
//
// Trajectory b visits the states in rows [offsets[b], offsets[b+1]) of `states` (R rows in all,
// row-major R x S): s_0, s_1, ..., s_m. actions[r] is the forward action taken at row r: a move to
// row r+1, or the exit action at the last row; it is -1 at a last row that is final (no exit, e.g.
// BitSeq). A transition is a row with actions[r] >= 0, so a trajectory has m+1 transitions when it
// exits and m when it ends in a final state. log_rewards[b] is log R of its terminal state (the last
// row). Buffers keep their capacity between batches (no allocation after warm-up).
#pragma once

#include <cstdint>
#include <vector>

namespace gfn {

struct TrajectoryBatch {
  int state_width = 0;              // S
  std::vector<int32_t> states;      // R x S
  std::vector<int> actions;         // R
  std::vector<int> offsets;         // B + 1
  std::vector<double> log_rewards;  // B

  int n_trajectories() const { return offsets.empty() ? 0 : int(offsets.size()) - 1; }
  int n_rows() const { return offsets.empty() ? 0 : offsets.back(); }
  const int32_t* state(int row) const { return states.data() + int64_t(row) * state_width; }
  const int32_t* terminal_state(int trajectory) const { return state(offsets[trajectory + 1] - 1); }
  int n_transitions() const {
    int count = 0;
    for (int r = 0; r < n_rows(); ++r) count += actions[r] >= 0;
    return count;
  }
};

// Appends rows [begin, end) of `from` (offsets into its rows) to `to` as the start or the whole of one
// trajectory; close_trajectory() then ends it with a log reward. An empty `to` gets from's state width.
inline void append_rows(TrajectoryBatch& to, const TrajectoryBatch& from, int begin, int end) {
  if (to.offsets.empty()) {
    to.state_width = from.state_width;
    to.offsets.push_back(0);
  }
  to.states.insert(to.states.end(), from.states.begin() + int64_t(begin) * from.state_width,
                   from.states.begin() + int64_t(end) * from.state_width);
  to.actions.insert(to.actions.end(), from.actions.begin() + begin, from.actions.begin() + end);
}
inline void close_trajectory(TrajectoryBatch& to, double log_reward) {
  to.offsets.push_back(int(to.actions.size()));
  to.log_rewards.push_back(log_reward);
}
// Appends every trajectory of `from` to `to`.
inline void append_batch(TrajectoryBatch& to, const TrajectoryBatch& from) {
  for (int b = 0; b < from.n_trajectories(); ++b) {
    append_rows(to, from, from.offsets[b], from.offsets[b + 1]);
    close_trajectory(to, from.log_rewards[b]);
  }
}
// Empties a batch, keeping its buffers' capacity.
inline void clear_batch(TrajectoryBatch& batch) {
  batch.states.clear();
  batch.actions.clear();
  batch.offsets.clear();
  batch.log_rewards.clear();
}

}  // namespace gfn
