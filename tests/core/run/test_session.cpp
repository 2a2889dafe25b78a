// Tests of Session (core/run/session.hpp) on an environment defined here, not in envs/: it trains with
// exact metrics, writes its run files, and a session stopped mid-run and restored from its checkpoint
// reaches bit-identically the numbers of one that was never stopped. And a run with every default (a bare
// `gfn train`) learns its grid's modes.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

#include "core/run/session.hpp"

namespace gfn {

namespace {

// A chain 0 -> 1 -> ... -> L-1: move right (action 0) or stop (action 1, the exit) anywhere, with
// R(x) = 1 + x. One coordinate, one parent, one mode (the end of the chain).
class Chain : public Environment {
 public:
  explicit Chain(int length) : length_(length) {}
  std::string name() const override { return "chain(" + std::to_string(length_) + ")"; }
  int state_width() const override { return 1; }
  int n_actions() const override { return 2; }
  int n_backward_actions() const override { return 1; }
  int exit_action() const override { return 1; }
  int max_trajectory_length() const override { return length_; }
  int max_parents() const override { return 1; }
  void initial_state(int32_t* state) const override { state[0] = 0; }
  bool is_initial(const int32_t* state) const override { return state[0] == 0; }
  bool is_final(const int32_t*) const override { return false; }
  void forward_mask(const int32_t* state, uint8_t* mask) const override {
    mask[0] = state[0] + 1 < length_;
    mask[1] = 1;
  }
  void backward_mask(const int32_t* state, uint8_t* mask) const override { mask[0] = state[0] > 0; }
  void step(int32_t* state, int) const override { ++state[0]; }
  void backward_step(int32_t* state, int) const override { --state[0]; }
  int backward_action_of(const int32_t*, int) const override { return 0; }
  int forward_action_of(const int32_t*, int) const override { return 0; }
  double log_reward(const int32_t* state) const override { return std::log(1.0 + state[0]); }
  int parents(const int32_t* state, int32_t* parent_states, int* actions) const override {
    if (state[0] == 0) return 0;
    parent_states[0] = state[0] - 1;
    actions[0] = 0;
    return 1;
  }
  Encoding default_encoding() const override { return Encoding::OneHotState; }
  int encoding_width(Encoding) const override { return length_; }
  int encoding_active(Encoding) const override { return 1; }
  void encode_active(const int32_t* state, Encoding, int32_t* active) const override { active[0] = state[0]; }
  void maxent_backward_logprobs(const int32_t*, double* logp) const override { logp[0] = 0; }
  int64_t n_modes() const override { return 1; }
  int64_t mode_of(const int32_t* state) const override { return state[0] == length_ - 1 ? 0 : -1; }
  int64_t n_states() const override { return length_; }
  int64_t state_index(const int32_t* state) const override { return state[0]; }
  void state_from_index(int64_t index, int32_t* state) const override { state[0] = int32_t(index); }
  std::string action_name(int action) const override { return action == 0 ? "right" : "stop"; }
  std::string state_string(const int32_t* state) const override { return std::to_string(state[0]); }

 private:
  int length_;
};

RunSettings small_run() {
  RunSettings settings;
  settings.hidden = 16;
  settings.batch = 8;
  settings.iters = 150;
  settings.eval_every = 30;
  settings.lr = 1e-2;
  return settings;
}

std::string scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("gfn-session-test-" + std::to_string(getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("session: an environment defined outside envs/ trains with exact metrics and writes its run files") {
  const std::string dir = scratch_dir("chain");
  Session session(std::make_unique<Chain>(6), small_run());
  session.write_to(dir);
  CHECK(session.train());
  const auto& history = session.history();
  REQUIRE(history.size() == 5);  // iterations 30, 60, ..., 150
  CHECK(history.back().iteration == 150);
  CHECK(history.back().trajectories == 150 * 8);
  CHECK(history.back().modes_found == 1);
  // Z = 1 + 2 + ... + 6 = 21; TB on 6 states learns it and P_T within a few percent in 150 steps.
  CHECK(session.enumeration()->log_z() == doctest::Approx(std::log(21.0)).epsilon(1e-12));
  CHECK(history.back().l1_exact < 0.05);
  CHECK(history.back().l1_exact < history.front().l1_exact);
  CHECK(history.back().log_z == doctest::Approx(std::log(21.0)).epsilon(0.02));
  CHECK(std::isnan(history.back().spearman));  // no test set

  // metrics.csv: a header naming the defined metrics and one whole row per evaluation.
  const std::string csv = read_file(dir + "/metrics.csv");
  CHECK(csv.rfind(metrics_csv_header(session.metric_traits()), 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 6);
  CHECK(csv.find("spearman") == std::string::npos);
  CHECK(read_file(dir + "/config.json").find("\"environment\": \"chain(6)\"") != std::string::npos);
  const Checkpoint checkpoint = Checkpoint::load(dir + "/checkpoint.bin");
  CHECK(checkpoint.iteration == 150);
  CHECK(checkpoint.double_array("history.l1_exact").size() == 5);
  std::filesystem::remove_all(dir);
}

TEST_CASE("session: stopped mid-run and restored from its checkpoint, it reaches the same numbers") {
  Session uninterrupted(std::make_unique<Chain>(6), small_run());
  uninterrupted.train();

  const std::string dir = scratch_dir("stopped");
  std::atomic<bool> stop{false};
  {
    Session first(std::make_unique<Chain>(6), small_run());
    first.write_to(dir);
    SessionHooks hooks;
    hooks.stop = &stop;
    hooks.after_iteration = [&stop](const Session& session) { stop = session.trainer().iteration() == 47; };
    first.set_hooks(hooks);
    CHECK_FALSE(first.train());
    CHECK(first.trainer().iteration() == 48);  // the flag is read after the iteration it was set in
  }
  Session resumed(std::make_unique<Chain>(6), small_run());
  resumed.restore(Checkpoint::load(dir + "/checkpoint.bin"));
  CHECK(resumed.trainer().iteration() == 48);
  resumed.write_to(dir);
  CHECK(resumed.train());

  REQUIRE(resumed.history().size() == uninterrupted.history().size());
  for (size_t i = 0; i < resumed.history().size(); ++i)
    for (const Metric& metric : metrics_table()) {
      if (metric.key == "wall_s") continue;
      CAPTURE(metric.key);
      CHECK(metric.text(resumed.history()[i]) == metric.text(uninterrupted.history()[i]));
    }
  CHECK(resumed.trainer().model().store().values() == uninterrupted.trainer().model().store().values());
  // The metrics file holds each evaluation once, however the run was cut.
  const std::string csv = read_file(dir + "/metrics.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 6);
  std::filesystem::remove_all(dir);
}

TEST_CASE("session: a checkpoint written before reward calls were counted restores with one call per trajectory") {
  Session uninterrupted(std::make_unique<Chain>(6), small_run());
  uninterrupted.train();

  std::atomic<bool> stop{false};
  Session first(std::make_unique<Chain>(6), small_run());
  SessionHooks hooks;
  hooks.stop = &stop;
  hooks.after_iteration = [&stop](const Session& session) { stop = session.trainer().iteration() == 69; };
  first.set_hooks(hooks);
  CHECK_FALSE(first.train());
  Checkpoint old_format = first.checkpoint();
  REQUIRE(old_format.integers.erase("session.reward_calls") == 1);
  REQUIRE(old_format.integers.erase("history.reward_calls") == 1);

  Session resumed(std::make_unique<Chain>(6), small_run());
  resumed.restore(old_format);
  CHECK(resumed.train());
  REQUIRE(resumed.history().size() == uninterrupted.history().size());
  for (size_t i = 0; i < resumed.history().size(); ++i) {
    CAPTURE(i);
    CHECK(resumed.history()[i].reward_calls > 0);
    CHECK(resumed.history()[i].reward_calls == uninterrupted.history()[i].reward_calls);
  }
}

TEST_CASE("session: a bare run (the defaults: HyperGrid 8x8, TB, 1000 iterations) learns all 4 modes") {
  // What a bare `gfn train` does, at two seeds. modes_found also counts the uniform draws, so the exact
  // L1 is what shows the sampler itself learned every corner (one missed corner alone costs L1 > 0.4).
  // Measured at seeds 0-9 with the defaults: L1 at most 0.016; on-policy TB ended near 1.0 at 4 of 10.
  for (uint64_t seed : {0, 1}) {
    CAPTURE(seed);
    RunSettings settings;
    settings.seed = seed;
    settings.eval_every = settings.iters;
    Session session(settings);
    session.train();
    CHECK(session.history().back().modes_found == 4);
    CHECK(session.history().back().l1_exact < 0.05);
  }
}

TEST_CASE("session: an output directory holding another run is refused unless forced") {
  const std::string dir = scratch_dir("claim");
  RunSettings settings = small_run();
  settings.iters = 4;
  settings.eval_every = 2;
  {
    Session session(settings);
    claim_output_directory(dir, session.settings(), false, false);  // empty: fine
    session.write_to(dir);
    session.train();
  }
  Session same(settings);
  CHECK_THROWS_WITH_AS(claim_output_directory(dir, same.settings(), false, false),
                       doctest::Contains("continue it with --resume"), std::invalid_argument);
  claim_output_directory(dir, same.settings(), /*resuming=*/true, false);
  RunSettings other = settings;
  other.lr = 0.5;
  Session different(other);
  CHECK_THROWS_WITH_AS(claim_output_directory(dir, different.settings(), true, false),
                       doctest::Contains("another configuration"), std::invalid_argument);
  claim_output_directory(dir, different.settings(), false, /*force=*/true);
  CHECK_FALSE(std::filesystem::exists(dir + "/checkpoint.bin"));
  std::filesystem::remove_all(dir);
}

}  // namespace gfn
