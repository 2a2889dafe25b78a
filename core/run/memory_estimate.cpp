// Memory estimate: the sizes of the run's buffers, counted from the settings and the environment's
// widths in doubles (no overflow for absurd flags), without building the model.
#include "core/run/memory_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/training/objectives.hpp"
#include "util/parallel.hpp"
#include "core/evaluation/terminal_likelihood.hpp"
#include "envs/enumeration.hpp"

namespace gfn {

namespace {

constexpr double kFloat = 4, kInt = 4, kIndex = 8, kDouble = 8;
// The binary, its libraries, the embedded BitSeq data and the allocator's own overhead, measured as the
// peak resident memory of a run with a tiny model (about 6 MiB on Linux x86-64), rounded up.
constexpr double kProgramBytes = 8.0 * (1 << 20);
// Rows of a chunk of the exact evaluation (core/evaluation/evaluation.cpp) and of one model call of the test-set
// rank correlation (core/evaluation/terminal_likelihood.cpp).
constexpr double kExactChunkRows = 1024, kLikelihoodChunkRows = 1024;
// A tape's arena grows by chunks that at least double it: an evaluation tape, filled to the same size
// at every call, can hold twice its content.
constexpr double kArenaGrowth = 2;

// Width of the first layer's input, the trunk and the heads of one network.
struct NetworkShape {
  double input = 0;             // I
  std::vector<double> hidden;   // H per layer
  double heads = 0;             // sum of the heads' widths
  double parameters() const {
    double count = 0, width = input;
    for (double h : hidden) {
      count += width * h + h;
      width = h;
    }
    return count + width * heads + heads;
  }
  // Floats one evaluated row puts on a tape: the first layer's gather (or GEMM), bias and activation,
  // then a linear node and an activation per further layer, then the heads.
  double row_floats() const {
    double floats = heads;
    for (size_t l = 0; l < hidden.size(); ++l) floats += (l == 0 ? 3 : 2) * hidden[l];
    return floats;
  }
};

std::string flag_value(const RunSettings& settings, const std::string& key) {
  const Setting& setting = find_setting(run_settings_table(), key);
  return setting.flag() + " " + setting.value_text(settings);
}

// The integer environment settings of the run ("--ndim 4, --height 20"): what sets its number of states.
std::string size_flags(const RunSettings& settings) {
  std::string flags;
  for (const Setting& setting : run_settings_table())
    if (setting.group == "Environment" && setting.applies(settings) &&
        std::holds_alternative<int RunSettings::*>(setting.field))
      flags += (flags.empty() ? "" : ", ") + flag_value(settings, setting.key);
  return flags.empty() ? flag_value(settings, "env") : flags;
}

}  // namespace

double MemoryEstimate::total_bytes() const {
  double total = 0;
  for (const MemoryPart& part : parts) total += part.bytes;
  return total;
}

const MemoryPart& MemoryEstimate::largest() const {
  return *std::max_element(parts.begin(), parts.end(),
                           [](const MemoryPart& a, const MemoryPart& b) { return a.bytes < b.bytes; });
}

MemoryEstimate estimate_memory(const RunSettings& settings, const Environment& env) {
  ModelConfig model = settings.model_config();
  require_estimators(settings.loss, model);
  const ObjectiveSpec& objective = objective_spec(settings.loss);
  const bool dqn = objective.learner != Learner::Blocks;
  const int64_t n_states = env.n_states();
  const bool enumerable = n_states >= 0 && n_states <= Enumeration::kDefaultLimit;

  const double actions = env.n_actions(), backward_actions = env.n_backward_actions();
  const double state_width = env.state_width();
  const double rows_per_trajectory = double(env.max_trajectory_length()) + 1;
  const Encoding encoding = model.tabular ? Encoding::OneHotState : env.default_encoding();
  const double dense_input = encoding == Encoding::Dense ? env.encoding_width(encoding) : 0;

  // The networks of the model: one trunk per estimator, or one shared trunk when tied.
  NetworkShape trunk;
  trunk.input = model.tabular ? double(std::max<int64_t>(n_states, 1)) : env.encoding_width(encoding);
  if (!model.tabular)
    for (int h : model.hidden) trunk.hidden.push_back(h);
  const bool learned_backward = model.backward == BackwardPolicy::Learned;
  const bool backward_network = model.backward == BackwardPolicy::Tlm || model.backward == BackwardPolicy::Pessimistic;
  std::vector<NetworkShape> networks;
  auto add_head = [&](double width) {
    if (model.tied && !networks.empty()) {
      networks.front().heads += width;
      return;
    }
    NetworkShape network = trunk;
    network.heads = width;
    networks.push_back(network);
  };
  add_head(actions);
  if (learned_backward) add_head(backward_actions);
  if (model.state_flow) add_head(1);
  NetworkShape backward = trunk;
  backward.heads = backward_actions;

  double parameters = model.log_z ? 1 : 0, forward_row_floats = 2 * actions + dense_input;
  double row_floats = dense_input + 2 * actions + 8;  // masks, log-softmax, the objective's gathers
  for (const NetworkShape& network : networks) {
    parameters += network.parameters();
    row_floats += network.row_floats();
  }
  forward_row_floats += networks.front().row_floats();
  if (learned_backward) row_floats += 2 * backward_actions;
  else if (backward_network) row_floats += backward.row_floats() + 2 * backward_actions;
  else row_floats += backward_actions;
  const double backward_parameters = backward_network ? backward.parameters() : 0;

  const double block_size = settings.block_size > 0 ? settings.block_size : default_block_size(settings.batch);
  const double trained_trajectories = double(settings.batch) * (settings.ls_backtrack > 0 ? 2 : 1);
  const double blocks = dqn ? 1 : std::ceil(trained_trajectories / block_size);
  const double threads = settings.threads > 0 ? settings.threads : max_threads();
  const double batch_rows = trained_trajectories * rows_per_trajectory;
  const double row_bytes = state_width * kInt + kInt;  // a state and its action

  MemoryEstimate estimate;
  const std::string hidden = flag_value(settings, "hidden") + ", " + flag_value(settings, "layers");
  const std::string batch = flag_value(settings, "batch");
  estimate.parts.push_back({"program", "", kProgramBytes});
  // Values, two Adam moments; a target copy for the DQN learners; P_B's values, target, moments, gradient.
  estimate.parts.push_back(
      {"parameters and Adam moments", hidden,
       kFloat * (3 * parameters + (dqn ? parameters : 0) + 5 * backward_parameters)});
  estimate.parts.push_back({"block gradients", batch + ", " + hidden, kFloat * blocks * parameters});

  // Each block's tape holds values and gradients of every node over its rows, counted at the longest
  // trajectories (an untrained policy's are often shorter). Rollout tapes (one per thread) hold values only.
  double tape_floats = 2 * blocks * std::min(block_size, trained_trajectories) * rows_per_trajectory * row_floats;
  if (dqn) {  // the learner's tape over M sampled transitions and their successors, the target's over 2M
    const double transitions = settings.replay_batch;
    tape_floats = 2 * 2 * transitions * row_floats + 2 * transitions * forward_row_floats;
  }
  if (backward_network) tape_floats += 2 * batch_rows * (backward.row_floats() + 2 * backward_actions);
  tape_floats += threads * block_size * forward_row_floats;
  estimate.parts.push_back({"block tapes", batch + ", " + hidden, kFloat * tape_floats});

  // The sampler's staged rows and the batch's (twice when local search or replay append to it); the
  // pessimistic P_B keeps the last 20 batches.
  double rollout = 2 * batch_rows * row_bytes;
  if (settings.replay_ratio > 0) rollout += batch_rows * row_bytes;
  if (model.backward == BackwardPolicy::Pessimistic) rollout += 20 * batch_rows * row_bytes;
  // One pass per step: the rollout's record of the P_F network's layer values (core/training/forward_record.hpp).
  if (!dqn && !settings.recompute_logprobs) rollout += kFloat * settings.batch * rows_per_trajectory * forward_row_floats;
  estimate.parts.push_back({"rollout", batch, rollout});

  if (enumerable) {
    const double n = double(n_states);
    // States, order, rewards, true distribution, path counts; P_F of every state and the DP's sums;
    // per-thread evaluation tapes; the window's counts and ring.
    const double states = n * (state_width * kInt + kIndex + 1 + 3 * kDouble + kInt);
    const double exact = n * (actions * kFloat + 2 * kDouble) +
                         kArenaGrowth * threads * std::min(kExactChunkRows, n) * forward_row_floats * kFloat;
    const double window = n * kIndex + std::min<double>(double(settings.window), 1e12) * kIndex;
    estimate.parts.push_back({"enumeration and exact evaluation", size_flags(settings), states + exact});
    estimate.parts.push_back({"visit window", flag_value(settings, "window"), window});
  }

  if (has_test_set_rank_correlation(env)) {
    // K fill orders of each of the M test states (backward actions, length, weight), and per thread a
    // value tape over a chunk of rows (the P_F network's layers and logits).
    const double pairs = double(env.test_states().rows()) * kDefaultBackwardSamples;
    const double pair_bytes = double(env.max_trajectory_length()) * kInt + kInt + kDouble;
    const double tapes = kArenaGrowth * threads * kLikelihoodChunkRows * networks.front().row_floats() * kFloat;
    estimate.parts.push_back({"test-set rank correlation", size_flags(settings), pairs * pair_bytes + tapes});
  }

  // Replay: transitions (state, next state, action, done, reward, priority, sum tree) for the DQN
  // learners; terminal objects (object, reward, draw weight, de-duplication key) otherwise.
  const double capacity = settings.replay_capacity;
  if (dqn)
    estimate.parts.push_back({"replay", flag_value(settings, "replay_capacity"),
                              capacity * (2 * state_width * kInt + kInt + 1 + 4 * kDouble)});
  else if (settings.replay_ratio > 0)
    estimate.parts.push_back({"replay", flag_value(settings, "replay_capacity"),
                              capacity * (2 * state_width * kInt + 2 * kDouble + 64)});
  return estimate;
}

MemoryPart sampling_memory(const Environment& env, double n, const std::string& flags) {
  const double rows_per_trajectory = double(env.max_trajectory_length()) + 1;
  const double row_bytes = env.state_width() * kInt + kInt;  // a state and its action
  // Staged rows at a fixed stride and the batch's rows (counted at the longest trajectories), the
  // lengths, offsets and log rewards, then each terminal state as its own vector (with the allocator's
  // header).
  const double per_trajectory = 2 * rows_per_trajectory * row_bytes + 2 * (kInt + kDouble) +
                                env.state_width() * kInt + 3 * kIndex + 16;
  return {"sampled trajectories", flags, n * per_trajectory};
}

double available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    std::istringstream fields(line);
    std::string key;
    double kib = 0;
    if (fields >> key >> kib && key == "MemAvailable:") return kib * 1024;
  }
  return std::numeric_limits<double>::infinity();
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 6) {
    bytes /= 1024;
    ++unit;
  }
  char text[64];
  std::snprintf(text, sizeof text, bytes < 10 ? "%.2f %s" : bytes < 100 ? "%.1f %s" : "%.0f %s", bytes, units[unit]);
  return text;
}

void check_memory(const MemoryEstimate& estimate, double max_memory_gib) {
  const bool automatic = std::isnan(max_memory_gib);
  const double limit = automatic ? available_memory_bytes() : max_memory_gib * double(1 << 30);
  const double total = estimate.total_bytes();
  if (total <= limit) return;
  const MemoryPart& largest = estimate.largest();
  const std::string limit_text =
      automatic ? "the " + format_bytes(limit) + " available (MemAvailable)" : "--max-memory " + format_bytes(limit);
  throw MemoryExceeded("this run needs an estimated " + format_bytes(total) + ", more than " + limit_text +
                       "; the largest part, " + largest.name + " (" + format_bytes(largest.bytes) +
                       "), grows with " + largest.flags + " (see --max-memory)");
}

}  // namespace gfn
