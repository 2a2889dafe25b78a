// ForwardRecord: the rollout's forward pass, kept for the loss (one-pass training).
//
// A training step evaluates P_F twice on the same states at the same parameters: the rollout, to
// draw actions, and the loss, to differentiate. The sampler records the outputs of the P_F network's
// dense layers (its GEMMs, see DenseLayers in core/network/mlp.hpp) for every row it drew an action at; the
// objective then copies those rows instead of multiplying again (Tape::linear with given rows) and
// backward runs on the loss's own tape as usual. A step then costs about one forward and one backward
// pass per state (3 GEMM passes) instead of two forwards and a backward (4). Rows the rollout did not
// evaluate (a final state without an exit action; replayed, refined or uniformly drawn trajectories)
// are computed in the loss as before.
//
// Rounding: a recorded row was computed in a GEMM of the rollout's shape (the live states of a block)
// instead of the loss's (all rows of a block), so a loss built on a record agrees with a recomputed one
// (TrainConfig::recompute_logprobs) to rounding, not bit for bit. Both are deterministic on any thread
// count: the rollout's blocks do not depend on it.
//
// Layout: per dense layer k, row t of trajectory i at (i * max_rows + t) * width_k. Fixed strides let
// the rollout's blocks write their own trajectories in parallel.
//
// Thread contract: reset() on one thread; then store() from many threads on distinct (trajectory,
// row) pairs; then row() from many threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "autodiff/tape.hpp"

namespace gfn {

template <typename Scalar>
class ForwardRecord {
 public:
  // Prepares for n trajectories of at most max_rows rows, dense layers of the given widths; forgets
  // earlier rows. Reuses its buffers (no allocation once the largest batch has been seen).
  void reset(const std::vector<int>& widths, int n_trajectories, int max_rows) {
    widths_ = widths;
    n_trajectories_ = n_trajectories;
    max_rows_ = max_rows;
    layers_.resize(widths.size());
    for (size_t k = 0; k < widths.size(); ++k) layers_[k].resize(size_t(n_trajectories) * max_rows * widths[k]);
    recorded_.assign(size_t(n_trajectories) * max_rows, 0);
  }

  int n_layers() const { return int(widths_.size()); }
  int n_trajectories() const { return n_trajectories_; }
  int n_recorded_rows() const { return int(std::count(recorded_.begin(), recorded_.end(), 1)); }

  // Records row t of trajectory i: row `tape_row` of each dense layer node in `nodes`.
  void store(const Tape<Scalar>& tape, const std::vector<NodeId>& nodes, int tape_row, int trajectory, int t) {
    const size_t slot = size_t(trajectory) * max_rows_ + t;
    for (size_t k = 0; k < layers_.size(); ++k)
      std::memcpy(layers_[k].data() + slot * widths_[k], tape.value(nodes[k]).row(tape_row).data(),
                  sizeof(Scalar) * widths_[k]);
    recorded_[slot] = 1;
  }

  // Dense layer k's values at row t of trajectory i (width_k values), or nullptr if not recorded.
  const Scalar* row(int layer, int trajectory, int t) const {
    if (trajectory >= n_trajectories_) return nullptr;
    const size_t slot = size_t(trajectory) * max_rows_ + t;
    return recorded_[slot] ? layers_[layer].data() + slot * widths_[layer] : nullptr;
  }

  // given[k][r] for the rows of trajectories first, first + 1, ... whose rows in a block start at
  // row_offsets[0..count] (local rows); rows from row_offsets[count] to n_rows get nullptr (computed).
  void given_rows(int first, const int* row_offsets, int count, int n_rows,
                  std::vector<std::vector<const Scalar*>>& given) const {
    given.resize(layers_.size());
    for (size_t k = 0; k < layers_.size(); ++k) {
      given[k].assign(n_rows, nullptr);
      for (int b = 0; b < count; ++b)
        for (int r = row_offsets[b]; r < row_offsets[b + 1]; ++r)
          given[k][r] = row(int(k), first + b, r - row_offsets[b]);
    }
  }

 private:
  std::vector<int> widths_;
  int n_trajectories_ = 0, max_rows_ = 0;
  std::vector<FlatVector<Scalar>> layers_;  // per dense layer: n x max_rows x width
  std::vector<uint8_t> recorded_;           // n x max_rows
};

}  // namespace gfn
