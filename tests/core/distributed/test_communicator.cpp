// Communicator (core/distributed/communicator.hpp) without MPI: threads stand in for processes (ThreadGroup, a
// barrier around one shared array of parts), so these run in every build.
//   - exchange() gives every member every part in rank order;
//   - a member that failed makes every member throw at the same exchange: itself its own exception,
//     the others the same kind with "rank r: " and its message;
//   - require_same_everywhere names the first rank whose fingerprint differs from rank 0's;
//   - data-parallel training on 2 and 3 members (batch 48, blocks of 16: 3 blocks) is bit-identical
//     to one trainer: loss history and parameters, for TB, ZVar (two phases) and a tabular DB (lazy
//     Adam: only the rows each block touched are sent).
// The MPI build runs the same through mpirun on the real `gfn` (tests/mpi/).
#include <doctest/doctest.h>

#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/distributed/communicator.hpp"
#include "core/network/training_diverged.hpp"
#include "core/training/trainer.hpp"
#include "envs/hypergrid.hpp"
#include "support/core_fixtures.hpp"

namespace gfn {
namespace {

// `size` members, one per thread; all_gather waits until every member has posted its part, copies
// them all, and waits again until every member has copied before any part may change.
class ThreadGroup {
 public:
  explicit ThreadGroup(int size) : size_(size), parts_(size_t(size)) {}
  int size() const { return size_; }

  void all_gather(int rank, const std::vector<char>& mine, std::vector<char>& all, std::vector<size_t>& offsets) {
    std::unique_lock<std::mutex> lock(mutex_);
    parts_[size_t(rank)] = &mine;
    wait_for_all(lock);
    all.clear();
    offsets = {0};
    for (const std::vector<char>* part : parts_) {
      all.insert(all.end(), part->begin(), part->end());
      offsets.push_back(all.size());
    }
    wait_for_all(lock);
  }

 private:
  void wait_for_all(std::unique_lock<std::mutex>& lock) {
    const uint64_t generation = generation_;
    if (++arrived_ == size_) {
      arrived_ = 0;
      ++generation_;
      everyone_.notify_all();
    } else {
      everyone_.wait(lock, [&] { return generation_ != generation; });
    }
  }

  int size_;
  std::vector<const std::vector<char>*> parts_;
  std::mutex mutex_;
  std::condition_variable everyone_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
};

class ThreadMember final : public Communicator {
 public:
  ThreadMember(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return group_.size(); }
  void all_gather(const std::vector<char>& mine, std::vector<char>& all, std::vector<size_t>& offsets) override {
    group_.all_gather(rank_, mine, all, offsets);
  }

 private:
  ThreadGroup& group_;
  int rank_;
};

// Runs body(member) on `size` threads, one member each; returns each member's exception (or null).
std::vector<std::exception_ptr> run_members(int size, const std::function<void(ThreadMember&)>& body) {
  ThreadGroup group(size);
  std::vector<std::exception_ptr> failures(static_cast<size_t>(size));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r)
    threads.emplace_back([&, r] {
      ThreadMember member(group, r);
      try {
        body(member);
      } catch (...) {
        failures[size_t(r)] = std::current_exception();
      }
    });
  for (std::thread& thread : threads) thread.join();
  return failures;
}

std::string message_of(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& error) {
    return error.what();
  }
}

TEST_CASE("communicator: exchange gives every member every part in rank order") {
  std::vector<std::vector<int64_t>> received(3);
  const auto failures = run_members(3, [&](ThreadMember& member) {
    Packet mine;
    const int64_t values[2] = {10 * member.rank(), 10 * member.rank() + 1};
    mine.put(values, member.rank() == 1 ? 2 : 1);  // parts of different lengths
    std::vector<Packet::Reader> parts = exchange(member, mine, nullptr);
    for (int r = 0; r < 3; ++r)
      for (int i = 0; i < (r == 1 ? 2 : 1); ++i) received[size_t(member.rank())].push_back(parts[size_t(r)].take<int64_t>());
  });
  for (int r = 0; r < 3; ++r) {
    CHECK(!failures[size_t(r)]);
    CHECK(received[size_t(r)] == std::vector<int64_t>{0, 10, 11, 20});
  }
}

TEST_CASE("communicator: a failing member makes every member throw its message at the same exchange") {
  const auto failures = run_members(3, [](ThreadMember& member) {
    Packet mine;
    mine.put(int64_t(7));
    std::exception_ptr failure;
    if (member.rank() == 1) failure = std::make_exception_ptr(TrainingDiverged("the loss is nan"));
    exchange(member, mine, failure);
  });
  for (int r = 0; r < 3; ++r) {
    CAPTURE(r);
    REQUIRE(failures[size_t(r)]);
    CHECK_THROWS_AS(std::rethrow_exception(failures[size_t(r)]), TrainingDiverged);
    CHECK(message_of(failures[size_t(r)]) == (r == 1 ? "the loss is nan" : "rank 1: the loss is nan"));
  }
}

TEST_CASE("communicator: require_same_everywhere names the first rank that differs from rank 0") {
  const auto failures = run_members(3, [](ThreadMember& member) {
    require_same_everywhere(member, {{"configuration", 1}, {"gfn binary", member.rank() == 2 ? 3u : 2u}}, nullptr);
  });
  for (int r = 0; r < 3; ++r) {
    REQUIRE(failures[size_t(r)]);
    CHECK_THROWS_AS(std::rethrow_exception(failures[size_t(r)]), std::invalid_argument);
    CHECK(message_of(failures[size_t(r)]) == "rank 2 runs with another gfn binary than rank 0");
  }
  CHECK(run_members(2, [](ThreadMember& member) { require_same_everywhere(member, {{"configuration", 5}}, nullptr); }) ==
        std::vector<std::exception_ptr>(2));
}

struct Run {
  std::vector<double> losses;
  FlatVector<float> parameters;
};

Run train(const ModelConfig& model_config, const TrainConfig& config, Communicator& processes) {
  const HyperGrid env(2, 8, "medium");
  Trainer trainer(env, model_config, config);
  trainer.set_communicator(processes);
  Run run;
  for (int i = 0; i < 6; ++i) run.losses.push_back(trainer.step().loss);
  run.parameters = trainer.model().store().values();
  return run;
}

TEST_CASE("communicator: data-parallel training on 2 and 3 members is bit-identical to one trainer") {
  for (const char* loss : {"tb", "zvar", "db"}) {
    ModelConfig model_config;
    model_config.hidden = {32, 32};
    model_config.tabular = std::string(loss) == "db";
    TrainConfig config = testing::train_config(loss, 48, 5);
    config.block_size = 16;
    const Run alone = train(model_config, config, single_process());
    for (int size : {2, 3}) {
      CAPTURE(loss);
      CAPTURE(size);
      std::vector<Run> runs(static_cast<size_t>(size));
      const auto failures =
          run_members(size, [&](ThreadMember& member) { runs[size_t(member.rank())] = train(model_config, config, member); });
      for (int r = 0; r < size; ++r) {
        REQUIRE(!failures[size_t(r)]);
        CHECK(runs[size_t(r)].losses == alone.losses);
        REQUIRE(runs[size_t(r)].parameters.size() == alone.parameters.size());
        CHECK(std::memcmp(runs[size_t(r)].parameters.data(), alone.parameters.data(),
                          sizeof(float) * alone.parameters.size()) == 0);
      }
    }
  }
}

}  // namespace
}  // namespace gfn
