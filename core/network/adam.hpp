// Adam with PyTorch's semantics (bias correction, eps added after the square root), decoupled weight
// decay (AdamW), one learning rate and weight decay per parameter group, exponential learning-rate
// decay; plus the flat-buffer helpers every trainer needs: global-norm gradient clipping, Polyak
// averaging and hard copy between two parameter stores (target networks).
//
// Works on a ParameterStore and a gradient buffer of the same layout. Not thread-safe; call it once
// per step after the per-block gradients have been reduced.
//
// Lazy update (step with a support, for tabular models whose tables are read one row per state): only
// the elements in the support change, parameters, moments and weight decay alike; everything else,
// moments included, is left exactly as it was. This is PyTorch's SparseAdam rule (rows absent from
// a sparse gradient are skipped; the step count, and so the bias correction, is global), not dense
// Adam with a zero gradient, under which m and v of an unread row would decay and its parameters keep
// moving with the remaining momentum. Chosen over a "catch-up" variant (replaying the skipped steps'
// decay when a row is next read) because that replay has no closed form (each skipped step moves the
// parameter by m b1^j / (sqrt(v b2^j) + eps) with its own bias correction and learning rate), so it
// would cost one pass per skipped step, and it needs no per-row state: a checkpoint holds the same
// fields as for dense Adam. On the elements it updates, the arithmetic is dense Adam's.
#pragma once

#include <vector>

#include "autodiff/parameters.hpp"

namespace gfn {

struct AdamGroup {
  double learning_rate = 1e-3;
  double weight_decay = 0;  // decoupled: p -= lr * weight_decay * p before the Adam update
};

struct AdamSettings {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
};

template <typename Scalar>
class Adam {
 public:
  Adam() = default;
  // groups[g] configures every parameter whose entry has group g.
  Adam(const ParameterStore<Scalar>& store, std::vector<AdamGroup> groups, AdamSettings settings = {});

  // One update of every parameter from `gradient` (same layout as the store).
  void step(ParameterStore<Scalar>& store, const FlatVector<Scalar>& gradient);
  // The lazy update: the same step on the elements of `support` only (sorted, disjoint ranges of the
  // flat layout, e.g. whole parameters and the rows of a table the batch read; see above).
  void step(ParameterStore<Scalar>& store, const FlatVector<Scalar>& gradient, const std::vector<FlatRange>& support);
  // Multiplies every group's learning rate by `factor` (exponential decay: call once per step).
  void decay_learning_rates(double factor);

  const std::vector<AdamGroup>& groups() const { return groups_; }
  int64_t steps() const { return steps_; }

  // State, for checkpoints.
  FlatVector<Scalar>& first_moment() { return first_moment_; }
  FlatVector<Scalar>& second_moment() { return second_moment_; }
  const FlatVector<Scalar>& first_moment() const { return first_moment_; }
  const FlatVector<Scalar>& second_moment() const { return second_moment_; }
  std::vector<AdamGroup>& mutable_groups() { return groups_; }
  void set_steps(int64_t steps) { steps_ = steps; }

 private:
  // Moves elements [begin, end) of parameter entry `entry` after ++steps_.
  void update(ParameterStore<Scalar>& store, const FlatVector<Scalar>& gradient, int entry, int64_t begin,
              int64_t end);

  std::vector<AdamGroup> groups_;
  AdamSettings settings_;
  FlatVector<Scalar> first_moment_;   // m, same layout as the store
  FlatVector<Scalar> second_moment_;  // v
  int64_t steps_ = 0;
};

// Scales `gradient` so its global L2 norm is at most max_norm; returns the norm before clipping.
template <typename Scalar>
double clip_gradient_norm(FlatVector<Scalar>& gradient, double max_norm);
// The same when `gradient` is zero outside `support` (sorted, disjoint): reads and scales only there.
template <typename Scalar>
double clip_gradient_norm(FlatVector<Scalar>& gradient, double max_norm, const std::vector<FlatRange>& support);

// Sorts `ranges` and merges overlapping or touching ones: sorted, disjoint ranges with the same union.
void merge_ranges(std::vector<FlatRange>& ranges);

// target = (1 - tau) target + tau source, for stores with the same layout.
template <typename Scalar>
void polyak_update(ParameterStore<Scalar>& target, const ParameterStore<Scalar>& source, double tau);

// target = source, for stores with the same layout.
template <typename Scalar>
void copy_parameters(ParameterStore<Scalar>& target, const ParameterStore<Scalar>& source);

}  // namespace gfn
