// ReplayBuffer: the sum tree's total and every leaf equal brute-force values over random adds,
// updates and ring overwrites; a full buffer overwrites its oldest item; stored fields round-trip;
// sampling frequencies match weight / total within 5 sigma of a binomial count, per item
// |count - n p| <= 5 sqrt(n p (1 - p)) (conservative: stratified draws vary less than independent
// ones); the same seed gives the same draws; invalid priorities and slots are rejected.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/training/replay_buffer.hpp"
#include "support/statistics.hpp"
#include "util/random.hpp"

namespace gfn {
namespace {

using testing::check_binomial;

// |count - n p| <= 5 sqrt(n p (1 - p)) for a binomial count.
// A transition whose fields are all derived from one id, so a slot's contents name the item.
void add_item(ReplayBuffer& buffer, int id, double priority) {
  const int width = buffer.state_width();
  std::vector<int32_t> state(width), next_state(width);
  for (int j = 0; j < width; ++j) {
    state[j] = id * 10 + j;
    next_state[j] = -(id * 10 + j);
  }
  buffer.add(state.data(), id % 7, next_state.data(), id % 3 == 0, -0.5 * id, priority);
}

void check_item(const ReplayBuffer& buffer, int slot, int id) {
  CAPTURE(slot);
  CAPTURE(id);
  for (int j = 0; j < buffer.state_width(); ++j) {
    CHECK(buffer.state(slot)[j] == id * 10 + j);
    CHECK(buffer.next_state(slot)[j] == -(id * 10 + j));
  }
  CHECK(buffer.action(slot) == id % 7);
  CHECK(buffer.done(slot) == (id % 3 == 0));
  CHECK(buffer.log_reward(slot) == (id % 3 == 0 ? -0.5 * id : 0.0));
}

TEST_CASE("core: replay buffer sum tree matches brute-force sums over random adds, updates and overwrites") {
  for (const double alpha : {0.5, 1.0, 0.0}) {
    CAPTURE(alpha);
    const int capacity = 37;  // not a power of two: unused leaves must stay at zero
    ReplayBuffer buffer(capacity, 3, alpha);
    std::vector<double> priorities(capacity, 0.0);  // brute force, clamped
    std::vector<int> ids(capacity, -1);
    Rng rng(2024);
    int next_id = 0, next_slot = 0, size = 0;
    for (int operation = 0; operation < 2000; ++operation) {
      // Priorities across scales, including 0 and values below the floor.
      const double scale = std::pow(10.0, int(rng.uniform_int(9)) - 7);
      const double priority = rng.uniform_int(10) == 0 ? 0.0 : scale * rng.uniform();
      if (size == 0 || rng.uniform() < 0.6) {
        add_item(buffer, next_id, priority);
        priorities[next_slot] = std::max(priority, ReplayBuffer::kMinPriority);
        ids[next_slot] = next_id++;
        next_slot = (next_slot + 1) % capacity;
        size = std::min(size + 1, capacity);
      } else {
        int slots[3];
        double values[3];
        for (int j = 0; j < 3; ++j) {
          slots[j] = int(rng.uniform_int(uint32_t(size)));
          values[j] = j == 2 ? priority : 5 * rng.uniform();
          priorities[slots[j]] = std::max(values[j], ReplayBuffer::kMinPriority);  // the last one wins
        }
        buffer.update_priorities(slots, values, 3);
      }
      REQUIRE(buffer.size() == size);
      REQUIRE(buffer.next_slot() == next_slot);
      double total = 0;
      for (int slot = 0; slot < size; ++slot) {
        const double weight = std::pow(priorities[slot], alpha);
        total += weight;
        REQUIRE(buffer.priority(slot) == priorities[slot]);
        REQUIRE(buffer.weight(slot) == weight);
      }
      REQUIRE(buffer.total_weight() == doctest::Approx(total).epsilon(1e-12));
    }
    CHECK(buffer.n_added() == next_id);
    for (int slot = 0; slot < capacity; ++slot) check_item(buffer, slot, ids[slot]);
  }
}

TEST_CASE("core: replay buffer overwrites its oldest item, in ring order, when full") {
  ReplayBuffer buffer(4, 2, 0.5);
  CHECK(buffer.size() == 0);
  CHECK(buffer.total_weight() == 0);
  for (int id = 0; id < 4; ++id) add_item(buffer, id, 100.0 * (id + 1));
  CHECK(buffer.size() == 4);
  CHECK(buffer.next_slot() == 0);
  CHECK(buffer.total_weight() == doctest::Approx(10 + std::sqrt(200.0) + std::sqrt(300.0) + 20));
  add_item(buffer, 4, 1.0);
  add_item(buffer, 5, 4.0);
  CHECK(buffer.size() == 4);
  CHECK(buffer.n_added() == 6);
  CHECK(buffer.next_slot() == 2);  // items 2 and 3 are now the oldest
  check_item(buffer, 0, 4);
  check_item(buffer, 1, 5);
  check_item(buffer, 2, 2);
  check_item(buffer, 3, 3);
  // The overwritten items' weights are gone: 1 + 2 + sqrt(300) + 20.
  CHECK(buffer.total_weight() == doctest::Approx(3 + std::sqrt(300.0) + 20));

  // gather copies the same fields.
  const int slots[2] = {3, 0};
  std::vector<int32_t> states(4), next_states(4);
  int actions[2];
  uint8_t done[2];
  double log_rewards[2];
  buffer.gather(slots, 2, states.data(), actions, next_states.data(), done, log_rewards);
  CHECK(states == std::vector<int32_t>{30, 31, 40, 41});
  CHECK(next_states == std::vector<int32_t>{-30, -31, -40, -41});
  CHECK(actions[0] == 3);
  CHECK(actions[1] == 4);
  CHECK(done[0] == 1);
  CHECK(done[1] == 0);
  CHECK(log_rewards[0] == -1.5);
  CHECK(log_rewards[1] == 0.0);
}

TEST_CASE("core: replay buffer draws each item with probability weight over total, within 5 sigma") {
  // 10 slots, 7 filled (empty slots must never be drawn), one item at the priority floor.
  ReplayBuffer buffer(10, 1, 0.5);
  const double priorities[7] = {1.0, 4.0, 0.25, 9.0, 0.0, 2.0, 16.0};
  for (int id = 0; id < 7; ++id) add_item(buffer, id, priorities[id]);
  Rng rng(7);
  std::vector<int> indices;
  auto check_frequencies = [&]() {
    std::vector<int64_t> counts(10, 0);
    const int calls = 500, per_call = 256;
    for (int call = 0; call < calls; ++call) {
      buffer.sample(per_call, rng, indices);
      REQUIRE(int(indices.size()) == per_call);
      for (int index : indices) {
        REQUIRE(index >= 0);
        REQUIRE(index < buffer.size());
        ++counts[index];
      }
    }
    const int64_t n = int64_t(calls) * per_call;
    for (int slot = 0; slot < buffer.size(); ++slot) {
      CAPTURE(slot);
      check_binomial(counts[slot], n, buffer.weight(slot) / buffer.total_weight());
    }
    return counts;
  };
  // Weights sqrt(p): 1, 2, 0.5, 3, 1e-3 (floor 1e-6), sqrt 2, 4.
  CHECK(buffer.weight(4) == doctest::Approx(1e-3));
  check_frequencies();

  // After an update the draws follow the new weights.
  const int slots[3] = {6, 4, 0};
  const double new_priorities[3] = {0.01, 25.0, 1.0};
  buffer.update_priorities(slots, new_priorities, 3);
  CHECK(buffer.weight(4) == doctest::Approx(5.0));
  CHECK(buffer.weight(6) == doctest::Approx(0.1));
  check_frequencies();

  // alpha = 0: uniform over the stored items, whatever their priorities.
  ReplayBuffer uniform(64, 1, 0.0);
  for (int id = 0; id < 50; ++id) add_item(uniform, id, 1.0 + id * id);
  std::vector<int64_t> counts(64, 0);
  const int64_t n = 50000;
  uniform.sample(int(n), rng, indices);
  for (int index : indices) ++counts[index];
  for (int slot = 0; slot < 64; ++slot) {
    CAPTURE(slot);
    if (slot < 50)
      check_binomial(counts[slot], n, 1.0 / 50);
    else
      CHECK(counts[slot] == 0);
  }
}

TEST_CASE("core: replay buffer draws are deterministic given the generator") {
  ReplayBuffer buffer(1000, 2, 0.5);
  Rng priorities(3);
  for (int id = 0; id < 2500; ++id) add_item(buffer, id, priorities.uniform() * 10);
  std::vector<int> first, second, other;
  Rng a = Rng::stream(42, 1), b = Rng::stream(42, 1), c = Rng::stream(43, 1);
  buffer.sample(256, a, first);
  buffer.sample(256, b, second);
  buffer.sample(256, c, other);
  CHECK(first == second);
  CHECK(first != other);
  // Stratified: draw j lies in the j-th of 256 equal segments of the total, so slots come out sorted.
  CHECK(std::is_sorted(first.begin(), first.end()));
}

TEST_CASE("core: replay buffer rejects non-finite priorities, empty draws and bad slots") {
  CHECK_THROWS_AS(ReplayBuffer(0, 1, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(ReplayBuffer(10, 0, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(ReplayBuffer(10, 1, 1.5), std::invalid_argument);
  CHECK_THROWS_AS(ReplayBuffer(10, 1, -0.1), std::invalid_argument);
  ReplayBuffer buffer(8, 1, 0.5);
  Rng rng(1);
  std::vector<int> indices;
  CHECK_THROWS_AS(buffer.sample(4, rng, indices), std::logic_error);
  const int32_t state = 0;
  CHECK_THROWS_AS(buffer.add(&state, 0, &state, false, 0, std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(buffer.add(&state, 0, &state, false, 0, std::numeric_limits<double>::infinity()),
                  std::invalid_argument);
  CHECK(buffer.size() == 0);
  buffer.add(&state, 0, &state, false, 0, -3.0);  // negative: clamped to the floor
  CHECK(buffer.priority(0) == ReplayBuffer::kMinPriority);
  const int slot = 1;
  const double priority = 1.0;
  CHECK_THROWS_AS(buffer.update_priorities(&slot, &priority, 1), std::out_of_range);
  buffer.sample(4, rng, indices);
  CHECK(indices == std::vector<int>{0, 0, 0, 0});
}

}  // namespace
}  // namespace gfn
