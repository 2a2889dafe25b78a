// TerminalReplayBuffer: draw frequencies match the stated probabilities (R^alpha / sum R^alpha for the
// reward policy, hand-computed; uniform otherwise) within 5 binomial sigmas; the keep rules (fifo keeps
// the newest, reward the best, reservoir each offered object with probability capacity / k, checked
// over many seeds); de-duplication; the buffer against a direct, scanning implementation of the stated
// rules over a long stream with ties and repeats; a full buffer adds and draws without allocating; a
// saved and restored buffer continues bit-identically.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/training/terminal_replay_buffer.hpp"
#include "support/allocation_counter.hpp"
#include "support/statistics.hpp"

namespace gfn {
namespace {

using testing::check_binomial;

// One-coordinate objects {0}, {1}, ... with the given log rewards.
void fill(TerminalReplayBuffer& buffer, const std::vector<double>& log_rewards, Rng& rng) {
  for (size_t i = 0; i < log_rewards.size(); ++i) {
    const int32_t object = int32_t(i);
    buffer.add(&object, log_rewards[i], rng);
  }
}

// Draw counts per object value over n draws.
std::vector<int> draw_counts(TerminalReplayBuffer& buffer, int n, int n_values, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> objects;
  buffer.draw(n, rng, objects);
  std::vector<int> counts(n_values, 0);
  for (int32_t value : objects) ++counts[value];
  return counts;
}

TEST_CASE("core: reward-prioritized replay draws x with probability R^alpha / sum R^alpha (5 sigma)") {
  const std::vector<double> rewards = {1, 2, 4, 0.5, 0.5};
  std::vector<double> log_rewards;
  for (double reward : rewards) log_rewards.push_back(std::log(reward));
  for (double alpha : {1.0, 0.5, 0.0}) {
    CAPTURE(alpha);
    TerminalReplayBuffer buffer({10, ReplayPolicy::Reward, alpha, false}, 1);
    Rng rng(1);
    fill(buffer, log_rewards, rng);
    double total = 0;
    for (double reward : rewards) total += std::pow(reward, alpha);
    constexpr int n = 40000;
    const std::vector<int> counts = draw_counts(buffer, n, 5, 7);
    for (int i = 0; i < 5; ++i) {
      const double expected = std::pow(rewards[i], alpha) / total;  // alpha = 1: 1/8, 2/8, 4/8, 1/16, 1/16
      CHECK(buffer.draw_probability(i) == doctest::Approx(expected).epsilon(1e-12));
      check_binomial(counts[i], n, expected);
    }
  }
  // alpha = 1 by hand: total 8.
  TerminalReplayBuffer buffer({10, ReplayPolicy::Reward, 1.0, false}, 1);
  Rng rng(1);
  fill(buffer, log_rewards, rng);
  CHECK(buffer.draw_probability(2) == doctest::Approx(0.5));
  CHECK(buffer.draw_probability(3) == doctest::Approx(1.0 / 16));
}

TEST_CASE("core: fifo and uniform replay draw every stored object equally often (5 sigma)") {
  for (ReplayPolicy policy : {ReplayPolicy::Fifo, ReplayPolicy::Uniform}) {
    CAPTURE(replay_policy_name(policy));
    TerminalReplayBuffer buffer({4, policy, 1.0, false}, 1);
    Rng rng(2);
    fill(buffer, {0.0, 3.0, -5.0, 1.0}, rng);  // rewards must not matter
    constexpr int n = 40000;
    const std::vector<int> counts = draw_counts(buffer, n, 4, 9);
    for (int i = 0; i < 4; ++i) {
      CHECK(buffer.draw_probability(i) == doctest::Approx(0.25));
      check_binomial(counts[i], n, 0.25);
    }
  }
}

TEST_CASE("core: replay keep rules: fifo keeps the newest, reward the best, reservoir capacity/k each") {
  Rng rng(3);
  SUBCASE("fifo") {
    TerminalReplayBuffer buffer({3, ReplayPolicy::Fifo, 1.0, false}, 1);
    fill(buffer, {0, 0, 0, 0, 0}, rng);  // objects 0..4: 3 and 4 overwrite 0 and 1
    CHECK(*buffer.object(0) == 3);
    CHECK(*buffer.object(1) == 4);
    CHECK(*buffer.object(2) == 2);
    CHECK(buffer.n_offered() == 5);
  }
  SUBCASE("reward") {
    TerminalReplayBuffer buffer({3, ReplayPolicy::Reward, 1.0, false}, 1);
    fill(buffer, {1.0, -2.0, 3.0, 0.5, -7.0, 2.0}, rng);  // keeps objects 0, 2, 5 (log R 1, 3, 2)
    std::vector<int> kept;
    for (int slot = 0; slot < buffer.size(); ++slot) kept.push_back(*buffer.object(slot));
    std::sort(kept.begin(), kept.end());
    CHECK(kept == std::vector<int>{0, 2, 5});
  }
  SUBCASE("uniform (reservoir): each of 10 objects offered to 3 slots is kept with probability 0.3") {
    constexpr int trials = 4000;
    std::vector<int> kept(10, 0);
    for (int trial = 0; trial < trials; ++trial) {
      TerminalReplayBuffer buffer({3, ReplayPolicy::Uniform, 1.0, false}, 1);
      Rng trial_rng = Rng::stream(5, uint64_t(trial));
      fill(buffer, std::vector<double>(10, 0.0), trial_rng);
      REQUIRE(buffer.size() == 3);
      for (int slot = 0; slot < 3; ++slot) ++kept[*buffer.object(slot)];
    }
    for (int i = 0; i < 10; ++i) {
      CAPTURE(i);
      check_binomial(kept[i], trials, 0.3);
    }
  }
}

TEST_CASE("core: replay de-duplication stores an object once; without it, twice") {
  Rng rng(4);
  const int32_t object[2] = {1, 2};
  const int32_t other[2] = {2, 1};
  TerminalReplayBuffer unique({5, ReplayPolicy::Fifo, 1.0, true}, 2);
  TerminalReplayBuffer repeated({5, ReplayPolicy::Fifo, 1.0, false}, 2);
  for (TerminalReplayBuffer* buffer : {&unique, &repeated}) {
    buffer->add(object, 0.0, rng);
    buffer->add(other, 0.0, rng);
    buffer->add(object, 0.0, rng);
  }
  CHECK(unique.size() == 2);
  CHECK(unique.n_offered() == 2);
  CHECK(repeated.size() == 3);
  // An evicted object can come back: capacity 1, fifo.
  TerminalReplayBuffer single({1, ReplayPolicy::Fifo, 1.0, true}, 2);
  single.add(object, 0.0, rng);
  single.add(other, 0.0, rng);
  single.add(object, 0.0, rng);
  CHECK(single.size() == 1);
  CHECK(single.object(0)[0] == 1);
  CHECK(single.n_offered() == 3);
}

TEST_CASE("core: a restored replay buffer continues bit-identically; bad input is refused") {
  for (ReplayPolicy policy : {ReplayPolicy::Fifo, ReplayPolicy::Uniform, ReplayPolicy::Reward}) {
    CAPTURE(replay_policy_name(policy));
    const ReplayConfig config{4, policy, 0.7, true};
    TerminalReplayBuffer original(config, 1);
    Rng rng(6);
    std::vector<double> log_rewards;
    for (int i = 0; i < 9; ++i) log_rewards.push_back(std::sin(1.0 + i));
    fill(original, log_rewards, rng);
    Checkpoint checkpoint;
    original.save(checkpoint, "replay.");
    TerminalReplayBuffer restored(config, 1);
    restored.restore(checkpoint, "replay.");
    Rng rng_a = rng, rng_b = rng;
    for (int i = 9; i < 20; ++i) {
      const int32_t object = i;
      original.add(&object, std::cos(double(i)), rng_a);
      restored.add(&object, std::cos(double(i)), rng_b);
    }
    std::vector<int32_t> drawn_a, drawn_b;
    original.draw(50, rng_a, drawn_a);
    restored.draw(50, rng_b, drawn_b);
    CHECK(drawn_a == drawn_b);
    CHECK(original.n_offered() == restored.n_offered());
    TerminalReplayBuffer smaller({2, policy, 0.7, true}, 1);
    CHECK_THROWS_AS(smaller.restore(checkpoint, "replay."), std::runtime_error);
  }
  TerminalReplayBuffer empty({4, ReplayPolicy::Fifo, 1.0, true}, 1);
  Rng rng(0);
  std::vector<int32_t> objects;
  CHECK_THROWS_AS(empty.draw(1, rng, objects), std::logic_error);
  CHECK_THROWS_AS(TerminalReplayBuffer({0, ReplayPolicy::Fifo, 1.0, true}, 1), std::invalid_argument);
  CHECK_THROWS_AS(TerminalReplayBuffer({4, ReplayPolicy::Reward, -1.0, true}, 1), std::invalid_argument);
  CHECK_THROWS_AS(replay_policy_from_name("lifo"), std::invalid_argument);
}

// The keep rules as the header states them, written directly: linear searches and a full scan.
struct ScanningBuffer {
  ReplayConfig config;
  std::vector<std::vector<int32_t>> objects;
  std::vector<double> log_rewards;
  int next_fifo = 0;
  int64_t n_offered = 0;

  void add(const std::vector<int32_t>& object, double log_reward, Rng& rng) {
    if (config.deduplicate && std::find(objects.begin(), objects.end(), object) != objects.end()) return;
    ++n_offered;
    if (int(objects.size()) < config.capacity) {
      objects.push_back(object);
      log_rewards.push_back(log_reward);
    } else if (config.policy == ReplayPolicy::Fifo) {
      objects[next_fifo] = object;
      log_rewards[next_fifo] = log_reward;
      next_fifo = (next_fifo + 1) % config.capacity;
    } else if (config.policy == ReplayPolicy::Uniform) {
      const uint64_t pick = rng.next_u64() % uint64_t(n_offered);
      if (pick < uint64_t(config.capacity)) {
        objects[pick] = object;
        log_rewards[pick] = log_reward;
      }
    } else {
      int lowest = 0;  // the lowest log R, first slot among ties
      for (int slot = 1; slot < int(objects.size()); ++slot)
        if (log_rewards[slot] < log_rewards[lowest]) lowest = slot;
      if (log_reward > log_rewards[lowest]) {
        objects[lowest] = object;
        log_rewards[lowest] = log_reward;
      }
    }
  }
};

TEST_CASE("core: replay keep rules equal a direct scan of the stated rules (ties, repeats, -inf)") {
  for (ReplayPolicy policy : {ReplayPolicy::Fifo, ReplayPolicy::Uniform, ReplayPolicy::Reward})
    for (bool deduplicate : {true, false}) {
      CAPTURE(replay_policy_name(policy));
      CAPTURE(deduplicate);
      const ReplayConfig config{7, policy, 1.0, deduplicate};
      TerminalReplayBuffer buffer(config, 2);
      ScanningBuffer reference{config, {}, {}, 0, 0};
      Rng stream(21), rng(22), reference_rng(22);
      for (int step = 0; step < 3000; ++step) {
        // Objects from a 6 x 6 domain (many repeats); rewards in {-inf, 0, 1, 2} (many ties).
        const std::vector<int32_t> object = {int32_t(stream.uniform_int(6)), int32_t(stream.uniform_int(6))};
        const int level = int(stream.uniform_int(4));
        const double log_reward = level == 0 ? -std::numeric_limits<double>::infinity() : double(level - 1);
        buffer.add(object.data(), log_reward, rng);
        reference.add(object, log_reward, reference_rng);
        REQUIRE(buffer.size() == int(reference.objects.size()));
        REQUIRE(buffer.n_offered() == reference.n_offered);
        for (int slot = 0; slot < buffer.size(); ++slot) {
          CAPTURE(step);
          CAPTURE(slot);
          REQUIRE(std::vector<int32_t>(buffer.object(slot), buffer.object(slot) + 2) == reference.objects[slot]);
          REQUIRE(buffer.log_reward(slot) == reference.log_rewards[slot]);
        }
      }
    }
}

TEST_CASE("core: a full replay buffer adds (new objects and repeats) and draws without allocating") {
  if (!testing::allocation_counting_available()) {
    MESSAGE("skipped: allocation counting is not available in this build (sanitizer owns malloc)");
    return;
  }
  for (ReplayPolicy policy : {ReplayPolicy::Fifo, ReplayPolicy::Uniform, ReplayPolicy::Reward}) {
    CAPTURE(replay_policy_name(policy));
    TerminalReplayBuffer buffer({64, policy, 1.0, true}, 4);
    Rng stream(31), rng(32);
    std::vector<int32_t> objects(size_t(4000) * 4);
    std::vector<double> log_rewards(4000);
    for (int i = 0; i < 4000; ++i) {
      for (int c = 0; c < 4; ++c) objects[size_t(i) * 4 + c] = int32_t(stream.uniform_int(5));  // 625 objects
      log_rewards[i] = stream.uniform();
    }
    for (int i = 0; i < 2000; ++i) buffer.add(&objects[size_t(i) * 4], log_rewards[i], rng);
    REQUIRE(buffer.size() == 64);
    std::vector<int32_t> drawn;
    buffer.draw(32, rng, drawn);  // sizes the draw buffers once
    const int64_t before = testing::allocation_count();
    for (int i = 2000; i < 4000; ++i) {
      buffer.add(&objects[size_t(i) * 4], log_rewards[i], rng);
      if (i % 100 == 0) buffer.draw(32, rng, drawn);
    }
    CHECK(testing::allocation_count() - before == 0);
  }
}

}  // namespace
}  // namespace gfn
