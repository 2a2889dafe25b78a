// BlockReduction: from the loss blocks of one iteration to the one gradient the optimiser takes, and
// everything an iteration needs besides the algorithm, so that Trainer::step reads as the algorithm.
// In one process it is the ordered sum: loss = sum of the blocks' losses, gradient = block 0 + block 1
// + ... for every entry (whatever the thread count), written into block 0's buffer. Behind the same
// calls:
//   - processes (a Communicator, core/distributed/): each one builds a contiguous range of the blocks
//     (assign_blocks), and receives the others' losses and gradients (reduce) and the two-phase
//     objectives' block totals (batch_total), so that every process reduces the same values in the
//     same order: bit-identical to one process;
//   - lazy table updates (core/network/adam.hpp): only the gradient ranges that the blocks' backward
//     wrote are sent, reduced and stepped (support());
//   - failures: a failure on one process before an exchange is kept by guard() and sent with the next
//     exchange, so that every process stops at the same point; in one process, or when the update is
//     replicated on every process (soft DQN), it is thrown at once.
//
// Thread contract: thread-compatible; the trainer's thread calls it, between its parallel regions.
#pragma once

#include <exception>
#include <memory>
#include <vector>

#include "autodiff/tape.hpp"
#include "core/distributed/communicator.hpp"
#include "core/training/objective.hpp"

namespace gfn {

// One block of trajectories: its tape, loss, gradient buffer (the size of the whole parameter store)
// and objective, reused from iteration to iteration.
struct LossBlock {
  Tape<float> tape;
  FlatVector<float> gradient;
  std::unique_ptr<BlockObjective<float>> objective;  // none for the soft-DQN learners
  NodeId loss = -1;
  double forward_seconds = 0, backward_seconds = 0;
};

// The blocks [first_block_of(n, rank, size), first_block_of(n, rank + 1, size)) of n are those that
// process `rank` of `size` builds: contiguous, in rank order.
int first_block_of(int n_blocks, int rank, int size);

class BlockReduction {
 public:
  // lazy: the blocks' gradients are zero outside what backward wrote (lazy table updates);
  // replicated: every process runs the same update, so failures are thrown at once.
  BlockReduction(int64_t flat_size, bool lazy, bool replicated);

  void set_communicator(Communicator& communicator) { communicator_ = &communicator; }
  Communicator& communicator() const { return *communicator_; }

  // Starts an iteration: forgets the last one's failure and exchange time.
  void begin_iteration();
  // Runs work() unless a failure is kept; keeps what it throws (see above) or rethrows it.
  template <typename Work>
  void guard(Work&& work);
  bool failed() const { return failure_ != nullptr; }

  // Of n_blocks, this process builds [first_block(), end_block()): all of them when alone.
  void assign_blocks(int n_blocks);
  int first_block() const { return first_block_; }
  int end_block() const { return end_block_; }

  // Two-phase objectives: the sum of every block's block_total, in block order, over all processes.
  double batch_total(const std::vector<std::unique_ptr<LossBlock>>& blocks);
  // The batch loss; the reduced gradient into blocks[0]->gradient on support(). Throws on every
  // process when one failed.
  double reduce(std::vector<std::unique_ptr<LossBlock>>& blocks);
  // Where this iteration's gradient lives: the whole buffer, or (lazy) the sorted ranges backward wrote.
  const std::vector<FlatRange>& support() const { return support_; }
  // Lazy: zeroes every block's gradient on support(), ready for the next iteration.
  void clear_gradients(std::vector<std::unique_ptr<LossBlock>>& blocks) const;

  bool lazy() const { return lazy_; }
  double exchange_seconds() const { return exchange_seconds_; }  // this iteration's, so far

 private:
  // The other processes' losses and gradients into block_losses_ and block_gradients_.
  void exchange_blocks(std::vector<std::unique_ptr<LossBlock>>& blocks);

  int64_t flat_size_;
  bool lazy_, replicated_;
  Communicator* communicator_ = &single_process();
  std::exception_ptr failure_;
  int n_blocks_ = 0, first_block_ = 0, end_block_ = 0;
  double exchange_seconds_ = 0;
  std::vector<FlatRange> support_;
  Packet packet_;
  std::vector<float> block_losses_;                    // per block, this iteration
  std::vector<const float*> block_gradients_;          // per block: its own buffer or the exchanged copy
  std::vector<std::vector<FlatRange>> block_support_;  // lazy updates: per owned block
};

template <typename Work>
void BlockReduction::guard(Work&& work) {
  if (failure_) return;
  try {
    work();
  } catch (...) {
    if (communicator_->size() == 1 || replicated_) throw;
    failure_ = std::current_exception();
  }
}

}  // namespace gfn
