// The BitSeq reward (docs/environments.md): mode bit strings, log R(x) = -beta * min_m Hamming(x, m) in
// bits, and "x finds mode m" when Hamming(x, m) <= threshold. Shared by both BitSeq environments; not
// an environment. Input: L = n/k words of k bits (most significant first); distances pack them into
// 64-bit chunks and popcount 8 modes at a time (vectorised by the compiler), without allocating.
// Default modes: for n = 120 the 60 embedded ones (bitseq_modes_n120_seed42.txt). For other n: strings
// of ceil(n/8) blocks drawn uniformly with gfn::Rng(42) from {00000000, 11111111, 11110000, 00001111,
// 00111100}, cut to n bits; the first min(60, number of distinct such strings) distinct ones drawn.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gfn {

// The modes used when none are given (see the header comment).
std::vector<std::string> bitseq_default_modes(int n_bits);

class BitSeqReward {
 public:
  static constexpr int kMaxBits = 4096;    // n; bounds the stack buffer of packed chunks
  static constexpr int kMaxWordBits = 16;  // k

  // Throws std::invalid_argument unless 1 <= k <= 16, k divides n, 1 <= n <= kMaxBits, every mode
  // is a string of n '0'/'1', there is at least one mode, beta is finite and >= 0, threshold >= 0.
  BitSeqReward(int n_bits, int word_bits, std::vector<std::string> modes, double beta, int mode_threshold);

  int n_bits() const { return n_bits_; }        // n
  int word_bits() const { return word_bits_; }  // k
  int n_slots() const { return n_slots_; }      // L = n / k
  double beta() const { return beta_; }
  int mode_threshold() const { return mode_threshold_; }
  int64_t n_modes() const { return static_cast<int64_t>(modes_.size()); }
  const std::vector<std::string>& modes() const { return modes_; }

  // All on a full sequence: words[0..L) each in [0, 2^k).
  int distance(const int32_t* words, int mode) const;   // Hamming distance in bits to one mode
  int min_distance(const int32_t* words) const;         // min over the modes
  double log_reward(const int32_t* words) const { return -beta_ * min_distance(words); }
  int64_t mode_of(const int32_t* words) const;          // first mode within the threshold, or -1

  // Bit string <-> words; k '.' stand for an EMPTY slot (word 2^k), so partial states round-trip.
  // words_from_bits throws std::invalid_argument on a malformed string.
  std::string bits_of(const int32_t* words) const;
  void words_from_bits(const std::string& bits, int32_t* words) const;
  std::string word_string(int32_t word) const;  // the k bits of one word, most significant first

  // The test set of the rank-correlation metric: bitseq_testset_n120_seed42.txt (7200 strings) when
  // the modes are the embedded ones; otherwise, for each mode m in order, m itself and then for
  // j = 1..n-1 a copy of m with j distinct positions flipped, drawn with Rng::stream(42, m, j).
  // Computed on each call (n_modes * n strings).
  std::vector<std::string> test_set() const;

 private:
  static constexpr int kMaxChunks = 128;  // enough for n = kMaxBits at any k (worst: k = 13)
  void pack(const int32_t* words, uint64_t* chunks) const;  // chunks[0..n_chunks_)

  int n_bits_;
  int word_bits_;
  int n_slots_;
  int words_per_chunk_;
  int n_chunks_;
  double beta_;
  int mode_threshold_;
  std::vector<std::string> modes_;
  int n_blocks_;
  std::vector<uint64_t> packed_modes_;  // [n_blocks x n_chunks x 8]; the last block padded with mode 0
};

}  // namespace gfn
