// Memory estimate: the sizes of the run's buffers, counted from the settings and the environment's
// widths in doubles (no overflow for absurd flags), without building the model.
#include "core/run/memory_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/evaluation/terminal_likelihood.hpp"
#include "core/training/objectives.hpp"
#include "envs/enumeration.hpp"
#include "util/parallel.hpp"

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

// The networks of a run's model and the floats they put on a tape per row.
struct ModelSizes {
  std::vector<NetworkShape> networks;  // one per estimator (P_F's first), or one shared trunk when tied
  NetworkShape backward;               // a P_B network of its own (TLM, pessimistic)
  bool backward_network = false;       // whether P_B has that network
  double parameters = 0, backward_parameters = 0;
  double row_floats = 0;          // a row of a training tape: every network, masks, log-softmax, gathers
  double forward_row_floats = 0;  // a row of a rollout tape: the P_F network, its masks and log-softmax
};

// The model's networks, parameter counts and tape rows, from its configuration and the environment's widths.
ModelSizes model_sizes(const ModelConfig& model, const Environment& env) {
  const double actions = env.n_actions(), backward_actions = env.n_backward_actions();
  const Encoding encoding = model.tabular ? Encoding::OneHotState : env.default_encoding();
  const double dense_input = encoding == Encoding::Dense ? env.encoding_width(encoding) : 0;

  // The networks of the model: one trunk per estimator, or one shared trunk when tied.
  NetworkShape trunk;
  trunk.input = model.tabular ? double(std::max<int64_t>(env.n_states(), 1)) : env.encoding_width(encoding);
  if (!model.tabular)
    for (int h : model.hidden) trunk.hidden.push_back(h);
  const bool learned_backward = model.backward == BackwardPolicy::Learned;
  ModelSizes sizes;
  sizes.backward_network = model.backward == BackwardPolicy::Tlm || model.backward == BackwardPolicy::Pessimistic;
  std::vector<NetworkShape>& networks = sizes.networks;
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
  sizes.backward = trunk;
  sizes.backward.heads = backward_actions;

  sizes.parameters = model.log_z ? 1 : 0;
  sizes.forward_row_floats = 2 * actions + dense_input;
  sizes.row_floats = dense_input + 2 * actions + 8;  // masks, log-softmax, the objective's gathers
  for (const NetworkShape& network : networks) {
    sizes.parameters += network.parameters();
    sizes.row_floats += network.row_floats();
  }
  sizes.forward_row_floats += networks.front().row_floats();
  if (learned_backward) sizes.row_floats += 2 * backward_actions;
  else if (sizes.backward_network) sizes.row_floats += sizes.backward.row_floats() + 2 * backward_actions;
  else sizes.row_floats += backward_actions;
  sizes.backward_parameters = sizes.backward_network ? sizes.backward.parameters() : 0;
  return sizes;
}

// The trajectories a step trains (twice the batch with local search), their blocks and rows, and the threads.
struct BatchShape {
  double rows_per_trajectory = 0, block_size = 0, trained_trajectories = 0, blocks = 0, threads = 0;
  double rows = 0;       // rows of all trained trajectories, at the longest
  double row_bytes = 0;  // a state and its action
};

// The batch's shape from the settings (block size and threads resolved) and the longest trajectory.
BatchShape batch_shape(const RunSettings& settings, const Environment& env, bool dqn) {
  BatchShape batch;
  batch.rows_per_trajectory = double(env.max_trajectory_length()) + 1;
  batch.block_size = settings.block_size > 0 ? settings.block_size : default_block_size(settings.batch);
  batch.trained_trajectories = double(settings.batch) * (settings.ls_backtrack > 0 ? 2 : 1);
  batch.blocks = dqn ? 1 : std::ceil(batch.trained_trajectories / batch.block_size);
  batch.threads = settings.threads > 0 ? settings.threads : max_threads();
  batch.rows = batch.trained_trajectories * batch.rows_per_trajectory;
  batch.row_bytes = env.state_width() * kInt + kInt;
  return batch;
}

// Floats on the tapes of a step. Each block's tape holds values and gradients of every node over its
// rows, counted at the longest trajectories (an untrained policy's are often shorter). Rollout tapes
// (one per thread) hold values only.
double tape_floats(const RunSettings& settings, const Environment& env, const ModelSizes& sizes,
                   const BatchShape& batch, bool dqn) {
  const double backward_actions = env.n_backward_actions();
  double floats = 2 * batch.blocks * std::min(batch.block_size, batch.trained_trajectories) *
                  batch.rows_per_trajectory * sizes.row_floats;
  if (dqn) {  // the learner's tape over M sampled transitions and their successors, the target's over 2M
    const double transitions = settings.replay_batch;
    floats = 2 * 2 * transitions * sizes.row_floats + 2 * transitions * sizes.forward_row_floats;
  }
  if (sizes.backward_network) floats += 2 * batch.rows * (sizes.backward.row_floats() + 2 * backward_actions);
  floats += batch.threads * batch.block_size * sizes.forward_row_floats;
  return floats;
}

// Bytes of the rollout: the sampler's staged rows and the batch's (twice when local search or replay
// append to it); the pessimistic P_B keeps the last 20 batches.
double rollout_bytes(const RunSettings& settings, const ModelConfig& model, const ModelSizes& sizes,
                     const BatchShape& batch, bool dqn) {
  double rollout = 2 * batch.rows * batch.row_bytes;
  if (settings.replay_ratio > 0) rollout += batch.rows * batch.row_bytes;
  if (model.backward == BackwardPolicy::Pessimistic) rollout += 20 * batch.rows * batch.row_bytes;
  // One pass per step: the rollout's record of the P_F network's layer values (core/training/forward_record.hpp).
  if (!dqn && !settings.recompute_logprobs)
    rollout += kFloat * settings.batch * batch.rows_per_trajectory * sizes.forward_row_floats;
  return rollout;
}

// The evaluation's parts: the enumeration, exact P_T and visit window of an enumerable environment,
// and the test-set rank correlation of an environment with test states.
void add_evaluation_parts(MemoryEstimate& estimate, const RunSettings& settings, const Environment& env,
                          const ModelSizes& sizes, double threads) {
  const int64_t n_states = env.n_states();
  const double state_width = env.state_width(), actions = env.n_actions();
  if (n_states >= 0 && n_states <= Enumeration::kDefaultLimit) {
    const double n = double(n_states);
    // States, order, rewards, true distribution, path counts; P_F of every state and the DP's sums;
    // per-thread evaluation tapes; the window's counts and ring.
    const double states = n * (state_width * kInt + kIndex + 1 + 3 * kDouble + kInt);
    const double exact = n * (actions * kFloat + 2 * kDouble) +
                         kArenaGrowth * threads * std::min(kExactChunkRows, n) * sizes.forward_row_floats * kFloat;
    const double window = n * kIndex + std::min<double>(double(settings.window), 1e12) * kIndex;
    estimate.parts.push_back({"enumeration and exact evaluation", size_flags(settings), states + exact});
    estimate.parts.push_back({"visit window", flag_value(settings, "window"), window});
  }

  if (has_test_set_rank_correlation(env)) {
    // K fill orders of each of the M test states (backward actions, length, weight), and per thread a
    // value tape over a chunk of rows (the P_F network's layers and logits).
    const double pairs = double(env.test_states().rows()) * kDefaultBackwardSamples;
    const double pair_bytes = double(env.max_trajectory_length()) * kInt + kInt + kDouble;
    const double tapes = kArenaGrowth * threads * kLikelihoodChunkRows * sizes.networks.front().row_floats() * kFloat;
    estimate.parts.push_back({"test-set rank correlation", size_flags(settings), pairs * pair_bytes + tapes});
  }
}

// Replay: transitions (state, next state, action, done, reward, priority, sum tree) for the DQN
// learners; terminal objects (object, reward, draw weight, de-duplication key) otherwise.
void add_replay_part(MemoryEstimate& estimate, const RunSettings& settings, const Environment& env, bool dqn) {
  const double state_width = env.state_width();
  const double capacity = settings.replay_capacity;
  if (dqn)
    estimate.parts.push_back({"replay", flag_value(settings, "replay_capacity"),
                              capacity * (2 * state_width * kInt + kInt + 1 + 4 * kDouble)});
  else if (settings.replay_ratio > 0)
    estimate.parts.push_back({"replay", flag_value(settings, "replay_capacity"),
                              capacity * (2 * state_width * kInt + 2 * kDouble + 64)});
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
  const bool dqn = objective_spec(settings.loss).learner != Learner::Blocks;
  const ModelSizes sizes = model_sizes(model, env);
  const BatchShape shape = batch_shape(settings, env, dqn);

  MemoryEstimate estimate;
  const std::string hidden = flag_value(settings, "hidden") + ", " + flag_value(settings, "layers");
  const std::string batch = flag_value(settings, "batch");
  estimate.parts.push_back({"program", "", kProgramBytes});
  // Values, two Adam moments; a target copy for the DQN learners; P_B's values, target, moments, gradient.
  estimate.parts.push_back(
      {"parameters and Adam moments", hidden,
       kFloat * (3 * sizes.parameters + (dqn ? sizes.parameters : 0) + 5 * sizes.backward_parameters)});
  estimate.parts.push_back({"block gradients", batch + ", " + hidden, kFloat * shape.blocks * sizes.parameters});
  estimate.parts.push_back(
      {"block tapes", batch + ", " + hidden, kFloat * tape_floats(settings, env, sizes, shape, dqn)});
  estimate.parts.push_back({"rollout", batch, rollout_bytes(settings, model, sizes, shape, dqn)});
  add_evaluation_parts(estimate, settings, env, sizes, shape.threads);
  add_replay_part(estimate, settings, env, dqn);
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
