// LocalSearch: local search GFlowNets (LS-GFN, Kim et al., ICLR 2024). Each sampled object x is refined
// by rounds of destroy-and-rebuild: walk back from x to s0 with P_B (core/training/backward_sampler.hpp), cut that
// walk K moves before x at state s, rebuild from s to a new object x' with P_F (Sampler::sample_from),
// and accept the candidate trajectory (the backward walk's prefix s0..s, then the rebuilt s..x') by
//   greedy   R(x') >= R(x);
//   mh       with probability min(1, [R(x') P_B(x' -> s) P_F(s -> x)] / [R(x) P_B(x -> s) P_F(s -> x')]),
//            the products taken over the rebuilt and the cut-off segments (Metropolis-Hastings). When
//            every trajectory has the same length (BitSeq), these rounds leave R/Z invariant; when
//            lengths vary (HyperGrid: the rebuild may exit earlier or later), the cut K moves before x'
//            differs from s and the rule is the paper's heuristic, not an exact MCMC.
// After the last round, trajectory i is the last accepted candidate, or the backward walk to the current
// object when the last round rejected; training uses these together with the fresh ones. Each round
// scores n new objects (n reward calls). Not the trainer; no gradient.
//
// Random streams: round r draws trajectory i's backward walk from Rng::stream(seed, iteration,
// first_stream + 3 r n + i), its rebuild from first_stream + (3 r + 1) n + i and its Metropolis-Hastings
// coin from first_stream + (3 r + 2) n + i, so results are bit-identical on any thread count. Shapes: fresh and result batches hold n trajectories.
//
//   LocalSearch search(model);
//   search.run(fresh, {2, 1, LocalSearchAcceptance::Greedy}, seed, iteration, streams, refined);
//
// Thread contract: thread-compatible (one caller at a time; it parallelises internally).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/training/backward_sampler.hpp"
#include "core/training/sampler.hpp"

namespace gfn {

enum class LocalSearchAcceptance { Greedy, MetropolisHastings };

// Names as in settings: greedy, mh.
LocalSearchAcceptance local_search_acceptance_from_name(const std::string& name);
std::string local_search_acceptance_name(LocalSearchAcceptance acceptance);

struct LocalSearchConfig {
  int backtrack = 0;  // K moves destroyed and rebuilt; 0 turns local search off
  int rounds = 1;
  LocalSearchAcceptance acceptance = LocalSearchAcceptance::Greedy;
};

class LocalSearch {
 public:
  explicit LocalSearch(const Model<float>& model, int block_size = 16);

  // Refines the terminal objects of `fresh` into `result` (n trajectories). Returns the reward calls
  // made (n x rounds). Throws std::invalid_argument when backtrack < 1 or rounds < 1.
  int64_t run(const TrajectoryBatch& fresh, const LocalSearchConfig& config, uint64_t seed, uint64_t iteration,
              uint64_t first_stream, TrajectoryBatch& result);

  // Every object scored by the last run(), rounds x n rows of S (for modes found).
  const std::vector<int32_t>& scored_objects() const { return scored_; }
  int64_t accepted() const { return accepted_; }  // candidates accepted by the last run()

 private:
  // Sums of log P_F and log P_B of each trajectory's transitions from row from_rows[i] on (relative to
  // its first row) to its end; evaluated on-policy in parallel blocks.
  void segment_log_probabilities(const TrajectoryBatch& batch, const std::vector<int>& from_rows,
                                 std::vector<double>& log_forward, std::vector<double>& log_backward);

  const Model<float>& model_;
  int block_size_;
  Sampler sampler_;
  BackwardSampler backward_;
  struct BlockScratch {
    Tape<float> tape;
    ModelScratch model;
  };
  std::vector<BlockScratch> scratch_;
  // Per-round buffers.
  std::vector<int32_t> objects_, starts_, scored_;
  std::vector<double> log_rewards_;
  std::vector<int> junctions_, zero_rows_;
  TrajectoryBatch walks_, rebuilt_, next_;
  std::vector<double> walk_forward_, walk_backward_, rebuilt_forward_, rebuilt_backward_;
  int64_t accepted_ = 0;
};

}  // namespace gfn
