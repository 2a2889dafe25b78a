// BlockReduction implementation: block assignment, the exchanges between processes (losses,
// gradients or their written ranges, two-phase totals), and the ordered reduction.
#include "core/training/block_reduction.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/network/adam.hpp"

namespace gfn {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }
}  // namespace

int first_block_of(int n_blocks, int rank, int size) { return int(int64_t(n_blocks) * rank / size); }

BlockReduction::BlockReduction(int64_t flat_size, bool lazy, bool replicated)
    : flat_size_(flat_size), lazy_(lazy), replicated_(replicated) {
  if (!lazy_) support_.push_back({0, flat_size_});
}

void BlockReduction::begin_iteration() {
  failure_ = nullptr;
  exchange_seconds_ = 0;
}

void BlockReduction::assign_blocks(int n_blocks) {
  n_blocks_ = n_blocks;
  first_block_ = first_block_of(n_blocks, communicator_->rank(), communicator_->size());
  end_block_ = first_block_of(n_blocks, communicator_->rank() + 1, communicator_->size());
}

double BlockReduction::batch_total(const std::vector<std::unique_ptr<LossBlock>>& blocks) {
  double total = 0;  // in block order, whatever the thread count and the number of processes
  if (communicator_->size() == 1) {
    for (int b = 0; b < n_blocks_; ++b) total += blocks[b]->objective->block_total(blocks[b]->tape);
    return total;
  }
  const auto start = Clock::now();
  packet_.clear();
  if (!failure_)
    for (int b = first_block_; b < end_block_; ++b) packet_.put(blocks[b]->objective->block_total(blocks[b]->tape));
  std::vector<Packet::Reader> parts = exchange(*communicator_, packet_, failure_);
  const int size = communicator_->size();
  for (int r = 0; r < size; ++r)
    for (int b = first_block_of(n_blocks_, r, size); b < first_block_of(n_blocks_, r + 1, size); ++b)
      total += parts[size_t(r)].take<double>();
  exchange_seconds_ += seconds_since(start);
  return total;
}

void BlockReduction::exchange_blocks(std::vector<std::unique_ptr<LossBlock>>& blocks) {
  block_losses_.assign(size_t(n_blocks_), 0.0f);
  block_gradients_.assign(size_t(n_blocks_), nullptr);
  for (int b = 0; b < n_blocks_; ++b) block_gradients_[size_t(b)] = blocks[b]->gradient.data();
  if (!failure_)
    for (int b = first_block_; b < end_block_; ++b) block_losses_[size_t(b)] = blocks[b]->tape.scalar(blocks[b]->loss);
  const int rank = communicator_->rank(), size = communicator_->size();
  if (size == 1) return;
  // This process's part: per block, its loss, then its gradient: whole, or (lazy updates) the ranges
  // its backward wrote and their values, the rest of the block's gradient being zero.
  const auto start = Clock::now();
  packet_.clear();
  if (!failure_)
    for (int b = first_block_; b < end_block_; ++b) {
      packet_.put(block_losses_[size_t(b)]);
      const float* values = blocks[b]->gradient.data();
      if (!lazy_) {
        packet_.put(values, size_t(flat_size_));
        continue;
      }
      const std::vector<FlatRange>& ranges = block_support_[size_t(b - first_block_)];
      packet_.put(int64_t(ranges.size()));
      packet_.put(ranges.data(), ranges.size());
      for (const FlatRange& range : ranges) packet_.put(values + range.begin, size_t(range.end - range.begin));
    }
  std::vector<Packet::Reader> parts = exchange(*communicator_, packet_, failure_);
  for (int r = 0; r < size; ++r) {
    if (r == rank) continue;
    Packet::Reader& part = parts[size_t(r)];
    for (int b = first_block_of(n_blocks_, r, size); b < first_block_of(n_blocks_, r + 1, size); ++b) {
      block_losses_[size_t(b)] = part.take<float>();
      if (!lazy_) {
        block_gradients_[size_t(b)] = part.take<float>(size_t(flat_size_));
        continue;
      }
      const size_t n_ranges = size_t(part.take<int64_t>());
      const FlatRange* ranges = part.take<FlatRange>(n_ranges);
      for (size_t i = 0; i < n_ranges; ++i) {
        const int64_t length = ranges[i].end - ranges[i].begin;
        std::memcpy(blocks[b]->gradient.data() + ranges[i].begin, part.take<float>(size_t(length)),
                    sizeof(float) * size_t(length));
        support_.push_back(ranges[i]);
      }
    }
  }
  exchange_seconds_ += seconds_since(start);
}

double BlockReduction::reduce(std::vector<std::unique_ptr<LossBlock>>& blocks) {
  if (lazy_) {  // where the blocks' backward wrote: the rows of the tables they read, the rest whole
    support_.clear();
    block_support_.resize(size_t(std::max(end_block_ - first_block_, 0)));
    for (int b = first_block_; b < end_block_ && !failure_; ++b) {
      std::vector<FlatRange>& ranges = block_support_[size_t(b - first_block_)];
      ranges.clear();
      blocks[b]->tape.gradient_support(blocks[b]->gradient, ranges);
      support_.insert(support_.end(), ranges.begin(), ranges.end());
    }
  }
  exchange_blocks(blocks);  // other processes' blocks; their support too
  if (lazy_) merge_ranges(support_);
  // Ordered reduction into block 0: block 0 + block 1 + ... for every entry, whatever the thread count.
  double loss = 0;
  for (int b = 0; b < n_blocks_; ++b) loss += double(block_losses_[size_t(b)]);
  FlatVector<float>& gradient = blocks[0]->gradient;
  constexpr int64_t chunk = 1 << 14;
  const int n_blocks = n_blocks_;
  for (const FlatRange& range : support_) {
#pragma omp parallel for schedule(static) if (n_blocks > 1 && range.end - range.begin > chunk)
    for (int64_t first = range.begin; first < range.end; first += chunk) {
      const int64_t length = std::min(chunk, range.end - first);
      Eigen::Map<Eigen::ArrayXf> total(gradient.data() + first, length);
      if (block_gradients_[0] != gradient.data()) total = Eigen::Map<const Eigen::ArrayXf>(block_gradients_[0] + first, length);
      for (int b = 1; b < n_blocks; ++b) total += Eigen::Map<const Eigen::ArrayXf>(block_gradients_[size_t(b)] + first, length);
    }
  }
  return loss;
}

void BlockReduction::clear_gradients(std::vector<std::unique_ptr<LossBlock>>& blocks) const {
  for (int b = 0; b < n_blocks_; ++b)
    for (const FlatRange& range : support_)
      std::fill(blocks[b]->gradient.begin() + range.begin, blocks[b]->gradient.begin() + range.end, 0.0f);
}

}  // namespace gfn
