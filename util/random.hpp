// Random numbers for gflownet.cpp: a small, fast generator (xoshiro256++) whose independent streams
// are keyed by (seed, stream id), so every trajectory owns its stream and a run gives the same
// numbers on 1 thread and on 16. Not cryptographic; not Eigen's Random() (never call that in a
// parallel region). In util/, below envs/ and core/: both draw from it (a reward's test set, rollouts).
//
// Thread contract: an Rng is thread-compatible (one owner at a time); streams never share state.
//
//   Rng rng = Rng::stream(seed, iteration, trajectory);   // one stream per (seed, a, b)
//   int a = rng.categorical(logp, A);                      // draw from log-probabilities
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace gfn {

// splitmix64: mixes a 64-bit counter into a well-distributed 64-bit value (used to derive seeds).
inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  // An independent stream keyed by (seed, a, b): e.g. (seed, iteration, trajectory index).
  static Rng stream(uint64_t seed, uint64_t a, uint64_t b = 0) {
    uint64_t x = seed;
    uint64_t key = splitmix64(x);
    x = key ^ (a * 0xd1342543de82ef95ULL);
    key = splitmix64(x);
    x = key ^ (b * 0xaf251af3b0f025b5ULL + 0x632be59bd9b4e019ULL);
    return Rng(splitmix64(x));
  }

  void reseed(uint64_t seed) {
    uint64_t x = seed;
    for (auto& word : state_) word = splitmix64(x);
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(state_[0] + state_[3], 23) + state_[0];
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-32 for n < 2^32).
  uint32_t uniform_int(uint32_t n) {
    return static_cast<uint32_t>(((next_u64() >> 32) * static_cast<uint64_t>(n)) >> 32);
  }

  // Draws an index from log-probabilities logp[0..n) (entries may be -inf; they are never drawn).
  // The logp need not be normalised exactly: the draw uses their own total mass. Returns -1 when no
  // entry can be drawn (n == 0 or every entry -inf).
  template <typename Scalar>
  int categorical(const Scalar* logp, int n) {
    double max_logp = -std::numeric_limits<double>::infinity();
    for (int i = 0; i < n; ++i) max_logp = std::max(max_logp, static_cast<double>(logp[i]));
    double total = 0;
    for (int i = 0; i < n; ++i) total += std::exp(static_cast<double>(logp[i]) - max_logp);
    double u = uniform() * total;
    int last_valid = -1;
    for (int i = 0; i < n; ++i) {
      if (logp[i] == -std::numeric_limits<Scalar>::infinity()) continue;
      last_valid = i;
      u -= std::exp(static_cast<double>(logp[i]) - max_logp);
      if (u < 0) return i;
    }
    return last_valid;  // rounding left u >= 0: the last valid entry
  }

  // The whole state, for checkpoints.
  const uint64_t* state() const { return state_; }
  void set_state(const uint64_t* words) {
    for (int i = 0; i < 4; ++i) state_[i] = words[i];
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

}  // namespace gfn
