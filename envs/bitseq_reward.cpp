// BitSeqReward: mode parsing and packing, popcount Hamming distances, bit string conversions, the
// default modes and the test set. The per-state paths (distance, log_reward, mode_of) do not allocate.
// Modes are stored in blocks of 8, chunk-major, so one vector instruction serves 8 modes.
#include "envs/bitseq_reward.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <stdexcept>

#include "envs/bitseq_data.hpp"
#include "util/random.hpp"

namespace gfn {

namespace {

const char* const kBlocks[5] = {"00000000", "11111111", "11110000", "00001111", "00111100"};
constexpr int kBlockBits = 8;
constexpr int kDefaultModeCount = 60;
constexpr uint64_t kDataSeed = 42;

// The Hamming kernels. packed holds blocks of 8 modes, chunk-major within a block:
// packed[(block * n_chunks + chunk) * 8 + j]. Chunks > 0 fixes the chunk count at compile time,
// which lets the compiler vectorise across the 8 modes; Chunks = 0 reads n_chunks at run time.
constexpr int kModeBlock = 8;

template <int Chunks>
inline void block_distances(const uint64_t* chunks, const uint64_t* packed_block, int n_chunks, uint64_t* distances) {
  const int count = Chunks > 0 ? Chunks : n_chunks;
  for (int j = 0; j < kModeBlock; ++j) distances[j] = 0;
  for (int chunk = 0; chunk < count; ++chunk)
    for (int j = 0; j < kModeBlock; ++j)
      distances[j] += __builtin_popcountll(chunks[chunk] ^ packed_block[chunk * kModeBlock + j]);
}

// Min distance over all blocks (the last block's padding repeats mode 0, so the min is unchanged).
template <int Chunks>
uint64_t min_over_modes(const uint64_t* chunks, const uint64_t* packed, int n_blocks, int n_chunks) {
  uint64_t best[kModeBlock], distances[kModeBlock];  // lane-wise minimum, reduced once at the end
  for (int j = 0; j < kModeBlock; ++j) best[j] = UINT64_MAX;
  for (int block = 0; block < n_blocks; ++block, packed += n_chunks * kModeBlock) {
    block_distances<Chunks>(chunks, packed, n_chunks, distances);
    for (int j = 0; j < kModeBlock; ++j) best[j] = std::min(best[j], distances[j]);
  }
  return *std::min_element(best, best + kModeBlock);
}

// The first mode (in order) within `threshold`, or -1.
template <int Chunks>
int64_t first_mode_within(const uint64_t* chunks, const uint64_t* packed, int n_blocks, int n_chunks, int64_t n_modes,
                          uint64_t threshold) {
  uint64_t distances[kModeBlock];
  for (int block = 0; block < n_blocks; ++block, packed += n_chunks * kModeBlock) {
    block_distances<Chunks>(chunks, packed, n_chunks, distances);
    for (int j = 0; j < kModeBlock; ++j) {
      const int64_t mode = static_cast<int64_t>(block) * kModeBlock + j;
      if (mode < n_modes && distances[j] <= threshold) return mode;
    }
  }
  return -1;
}

std::vector<std::string> embedded_lines(const char* const* lines, int count) {
  return std::vector<std::string>(lines, lines + count);
}

// Number of distinct strings of the default rule for n bits, capped at `cap`.
int distinct_default_strings(int n_bits, int cap) {
  const int remainder = n_bits % kBlockBits;
  int64_t count = 1;
  for (int block = 0; block < n_bits / kBlockBits && count < cap; ++block) count *= 5;
  if (remainder > 0) {
    std::set<std::string> cut_blocks;
    for (const char* block : kBlocks) cut_blocks.insert(std::string(block, remainder));
    count *= static_cast<int64_t>(cut_blocks.size());
  }
  return static_cast<int>(std::min<int64_t>(count, cap));
}

}  // namespace

std::vector<std::string> bitseq_default_modes(int n_bits) {
  if (n_bits == 120)
    return embedded_lines(data::bitseq_modes_n120_seed42, data::bitseq_modes_n120_seed42_count);
  if (n_bits < 1) throw std::invalid_argument("bitseq: n must be at least 1, got " + std::to_string(n_bits));
  const int wanted = distinct_default_strings(n_bits, kDefaultModeCount);
  const int n_blocks = (n_bits + kBlockBits - 1) / kBlockBits;
  Rng rng(kDataSeed);
  std::vector<std::string> modes;
  std::set<std::string> seen;
  while (static_cast<int>(modes.size()) < wanted) {
    std::string mode;
    for (int block = 0; block < n_blocks; ++block) mode += kBlocks[rng.uniform_int(5)];
    mode.resize(n_bits);
    if (seen.insert(mode).second) modes.push_back(mode);
  }
  return modes;
}

BitSeqReward::BitSeqReward(int n_bits, int word_bits, std::vector<std::string> modes, double beta,
                           int mode_threshold)
    : n_bits_(n_bits), word_bits_(word_bits), beta_(beta), mode_threshold_(mode_threshold), modes_(std::move(modes)) {
  if (word_bits < 1 || word_bits > kMaxWordBits)
    throw std::invalid_argument("bitseq: k must be between 1 and 16, got " + std::to_string(word_bits));
  if (n_bits < 1 || n_bits > kMaxBits)
    throw std::invalid_argument("bitseq: n must be between 1 and " + std::to_string(kMaxBits) + ", got " +
                                std::to_string(n_bits));
  if (n_bits % word_bits != 0)
    throw std::invalid_argument("bitseq: k = " + std::to_string(word_bits) + " does not divide n = " +
                                std::to_string(n_bits));
  if (!std::isfinite(beta) || beta < 0) throw std::invalid_argument("bitseq: beta must be finite and >= 0");
  if (mode_threshold < 0) throw std::invalid_argument("bitseq: the mode threshold must be >= 0");
  if (modes_.empty()) throw std::invalid_argument("bitseq: the mode set is empty");
  for (const std::string& mode : modes_)
    if (static_cast<int>(mode.size()) != n_bits || mode.find_first_not_of("01") != std::string::npos)
      throw std::invalid_argument("bitseq: the mode '" + mode + "' is not a string of n = " + std::to_string(n_bits) +
                                  " bits");

  n_slots_ = n_bits / word_bits;
  words_per_chunk_ = 64 / word_bits;
  n_chunks_ = (n_slots_ + words_per_chunk_ - 1) / words_per_chunk_;
  n_blocks_ = (static_cast<int>(modes_.size()) + kModeBlock - 1) / kModeBlock;
  packed_modes_.resize(static_cast<size_t>(n_blocks_) * n_chunks_ * kModeBlock);
  std::vector<int32_t> words(n_slots_);
  std::vector<uint64_t> chunks(n_chunks_);
  for (int m = 0; m < n_blocks_ * kModeBlock; ++m) {
    words_from_bits(modes_[m < static_cast<int>(modes_.size()) ? m : 0], words.data());
    pack(words.data(), chunks.data());
    for (int chunk = 0; chunk < n_chunks_; ++chunk)
      packed_modes_[(static_cast<size_t>(m / kModeBlock) * n_chunks_ + chunk) * kModeBlock + m % kModeBlock] =
          chunks[chunk];
  }
}

void BitSeqReward::pack(const int32_t* words, uint64_t* chunks) const {
  int slot = 0;
  for (int chunk = 0; chunk < n_chunks_; ++chunk) {
    const int end = std::min(slot + words_per_chunk_, n_slots_);
    uint64_t bits = 0;
    for (; slot < end; ++slot) bits = (bits << word_bits_) | static_cast<uint64_t>(words[slot]);
    chunks[chunk] = bits;
  }
}

int BitSeqReward::distance(const int32_t* words, int mode) const {
  uint64_t chunks[kMaxChunks], distances[kModeBlock];
  pack(words, chunks);
  block_distances<0>(chunks, packed_modes_.data() + static_cast<size_t>(mode / kModeBlock) * n_chunks_ * kModeBlock,
                     n_chunks_, distances);
  return static_cast<int>(distances[mode % kModeBlock]);
}

int BitSeqReward::min_distance(const int32_t* words) const {
  uint64_t chunks[kMaxChunks];
  pack(words, chunks);
  const uint64_t* packed = packed_modes_.data();
  switch (n_chunks_) {  // n = 120, k = 8 packs into 2 chunks
    case 1: return static_cast<int>(min_over_modes<1>(chunks, packed, n_blocks_, 1));
    case 2: return static_cast<int>(min_over_modes<2>(chunks, packed, n_blocks_, 2));
    case 3: return static_cast<int>(min_over_modes<3>(chunks, packed, n_blocks_, 3));
    case 4: return static_cast<int>(min_over_modes<4>(chunks, packed, n_blocks_, 4));
    default: return static_cast<int>(min_over_modes<0>(chunks, packed, n_blocks_, n_chunks_));
  }
}

int64_t BitSeqReward::mode_of(const int32_t* words) const {
  uint64_t chunks[kMaxChunks];
  pack(words, chunks);
  const uint64_t* packed = packed_modes_.data();
  const int64_t n = n_modes();
  const uint64_t threshold = static_cast<uint64_t>(mode_threshold_);
  switch (n_chunks_) {
    case 1: return first_mode_within<1>(chunks, packed, n_blocks_, 1, n, threshold);
    case 2: return first_mode_within<2>(chunks, packed, n_blocks_, 2, n, threshold);
    case 3: return first_mode_within<3>(chunks, packed, n_blocks_, 3, n, threshold);
    case 4: return first_mode_within<4>(chunks, packed, n_blocks_, 4, n, threshold);
    default: return first_mode_within<0>(chunks, packed, n_blocks_, n_chunks_, n, threshold);
  }
}

std::string BitSeqReward::word_string(int32_t word) const {
  std::string bits(word_bits_, '.');
  if (word == (1 << word_bits_)) return bits;
  for (int bit = 0; bit < word_bits_; ++bit) bits[bit] = (word >> (word_bits_ - 1 - bit)) & 1 ? '1' : '0';
  return bits;
}

std::string BitSeqReward::bits_of(const int32_t* words) const {
  std::string bits;
  bits.reserve(n_bits_);
  for (int slot = 0; slot < n_slots_; ++slot) bits += word_string(words[slot]);
  return bits;
}

void BitSeqReward::words_from_bits(const std::string& bits, int32_t* words) const {
  if (static_cast<int>(bits.size()) != n_bits_)
    throw std::invalid_argument("bitseq: a bit string of length " + std::to_string(bits.size()) + " where n = " +
                                std::to_string(n_bits_));
  for (int slot = 0; slot < n_slots_; ++slot) {
    const char* first = bits.data() + static_cast<size_t>(slot) * word_bits_;
    if (std::all_of(first, first + word_bits_, [](char c) { return c == '.'; })) {
      words[slot] = 1 << word_bits_;
      continue;
    }
    int32_t word = 0;
    for (int bit = 0; bit < word_bits_; ++bit) {
      if (first[bit] != '0' && first[bit] != '1')
        throw std::invalid_argument("bitseq: '" + bits + "' is not a bit string ('0', '1', or k '.' per empty slot)");
      word = (word << 1) | (first[bit] == '1');
    }
    words[slot] = word;
  }
}

std::vector<std::string> BitSeqReward::test_set() const {
  if (n_bits_ == 120 && modes_ == bitseq_default_modes(120))
    return embedded_lines(data::bitseq_testset_n120_seed42, data::bitseq_testset_n120_seed42_count);
  std::vector<std::string> strings;
  strings.reserve(modes_.size() * n_bits_);
  std::vector<int> positions(n_bits_);
  for (size_t m = 0; m < modes_.size(); ++m) {
    strings.push_back(modes_[m]);
    for (int flips = 1; flips < n_bits_; ++flips) {
      Rng rng = Rng::stream(kDataSeed, m, flips);
      std::iota(positions.begin(), positions.end(), 0);
      std::string noisy = modes_[m];
      for (int i = 0; i < flips; ++i) {  // partial Fisher-Yates: `flips` distinct positions
        std::swap(positions[i], positions[i + rng.uniform_int(n_bits_ - i)]);
        noisy[positions[i]] = noisy[positions[i]] == '0' ? '1' : '0';
      }
      strings.push_back(noisy);
    }
  }
  return strings;
}

}  // namespace gfn
