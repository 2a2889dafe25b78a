// `gfn info`: describes an environment built from the --env options: what it is, its widths and
// action counts, its number of states, log Z (by exhaustive enumeration when small enough), its
// number of modes, and the memory that `gfn train` with the same flags would need (estimated, see
// core/run/memory_estimate.hpp), as text or as one JSON object (--json). Not a trainer: nothing is sampled.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/settings_flags.hpp"
#include "core/run/memory_estimate.hpp"
#include "envs/enumeration.hpp"
#include "envs/factory.hpp"
#include "envs/hypergrid.hpp"
#include "util/json.hpp"
#include "util/parallel.hpp"

namespace gfn::cli {

namespace {

struct InfoOptions {
  RunSettings settings;
  bool json = false;
};

// Everything `info` prints, gathered once for both output formats.
struct InfoReport {
  std::string env, name, description, encoding;
  int state_width = 0, encoding_width = 0, n_actions = 0, n_backward_actions = 0, exit_action = -1;
  int max_trajectory_length = 0;
  int64_t n_states = -1, n_modes = -1;
  bool enumerable = false, log_reward_floor_required = false;
  std::string not_enumerable_reason;
  std::vector<std::pair<std::string, double>> reward_constants;
  double log_z = 0;
  MemoryEstimate memory;  // of `gfn train` with the same flags
  int threads = 1;          // what --threads 0 uses
  std::string wait_policy;  // OpenMP's, see util/parallel.hpp
};

InfoReport make_report(RunSettings settings) {
  const EnvConfig config = settings.env_config();
  const std::unique_ptr<Environment> environment = make_environment(config);
  InfoReport report;
  report.env = config.env;
  report.name = environment->name();
  report.description = environment->description();  // what the environment declares, maybe nothing
  const Encoding encoding = environment->default_encoding();
  report.encoding = encoding_name(encoding);
  report.state_width = environment->state_width();
  report.encoding_width = environment->encoding_width(encoding);
  report.n_actions = environment->n_actions();
  report.n_backward_actions = environment->n_backward_actions();
  report.exit_action = environment->exit_action();
  report.max_trajectory_length = environment->max_trajectory_length();
  report.n_states = environment->n_states();
  report.n_modes = environment->n_modes();
  report.reward_constants = environment->reward_constants();
  resolve_defaults(settings, *environment);
  report.memory = estimate_memory(settings, *environment);
  report.threads = max_threads();
  report.wait_policy = openmp_wait_policy();
  if (const auto* hypergrid = dynamic_cast<const HyperGrid*>(environment.get()))
    report.log_reward_floor_required = hypergrid->reward().r0 == 0;
  if (report.n_states < 0) {
    report.not_enumerable_reason = "more than 2^63 states";
  } else if (report.n_states > Enumeration::kDefaultLimit) {
    report.not_enumerable_reason = "above the enumeration limit of " + std::to_string(Enumeration::kDefaultLimit);
  } else {
    report.enumerable = true;
    report.log_z = Enumeration(*environment).log_z();
  }
  return report;
}

void print_text(const InfoReport& report) {
  std::printf("environment   %s\n", report.name.c_str());
  if (!report.description.empty()) std::printf("              %s\n", report.description.c_str());
  std::string constants;
  for (const auto& [name, value] : report.reward_constants) constants += (constants.empty() ? "" : ", ") + name + " " + format_setting(value);
  if (!constants.empty()) std::printf("reward        %s\n", constants.c_str());
  std::printf("state width   %d (S)\n", report.state_width);
  std::printf("encoding      %s, width %d (obs_dim)\n", report.encoding.c_str(), report.encoding_width);
  if (report.exit_action >= 0)
    std::printf("actions       %d forward (exit = %d), %d backward\n", report.n_actions, report.exit_action,
                report.n_backward_actions);
  else
    std::printf("actions       %d forward (no exit), %d backward\n", report.n_actions, report.n_backward_actions);
  std::printf("trajectory    at most %d transitions\n", report.max_trajectory_length);
  if (report.n_states >= 0)
    std::printf("states        %lld%s%s%s\n", static_cast<long long>(report.n_states),
                report.enumerable ? "" : " (not enumerable: ", report.not_enumerable_reason.c_str(),
                report.enumerable ? "" : ")");
  else
    std::printf("states        not enumerable (%s)\n", report.not_enumerable_reason.c_str());
  if (report.enumerable) std::printf("log Z         %.6f (Z = %.8g)\n", report.log_z, std::exp(report.log_z));
  if (report.n_modes >= 0) std::printf("modes         %lld\n", static_cast<long long>(report.n_modes));
  else std::printf("modes         more than 2^63\n");
  const MemoryPart& largest = report.memory.largest();
  std::printf("memory        %s to train with these flags (estimated; largest part: %s, %s, from %s)\n",
              format_bytes(report.memory.total_bytes()).c_str(), largest.name.c_str(),
              format_bytes(largest.bytes).c_str(), largest.flags.empty() ? "no flag" : largest.flags.c_str());
  if (report.log_reward_floor_required)
    std::printf("note          R0 = 0 gives log R = -inf off the bonus regions: training needs a log-reward floor "
                "(e.g. -12)\n");
  std::printf("threads       %d by default (OpenMP wait policy: %s)\n", report.threads, report.wait_policy.c_str());
}

std::string json_string(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

std::string json_count(int64_t count) { return count >= 0 ? std::to_string(count) : "null"; }

// Whole bytes (a double only beyond 2^63).
JsonObject& add_bytes(JsonObject& json, const std::string& key, double bytes) {
  return bytes < 9e18 ? json.add(key, (long long)std::llround(bytes)) : json.add(key, bytes);
}

// {"total_bytes": ..., "parts": {"program": ..., "block_tapes": ...}}
std::string memory_json(const MemoryEstimate& memory) {
  JsonObject parts;
  for (const MemoryPart& part : memory.parts) {
    std::string key = part.name;
    for (char& c : key)
      if (c == ' ') c = '_';
    add_bytes(parts, key, part.bytes);
  }
  JsonObject json;
  add_bytes(json, "total_bytes", memory.total_bytes());
  json.raw("parts", parts.str());
  return json.str();
}

std::string constants_json(const InfoReport& report) {
  JsonObject json;
  for (const auto& [name, value] : report.reward_constants) json.add(name, value);
  return json.str();
}

void print_json(const InfoReport& report) {
  char log_z[32] = "null";
  if (report.enumerable) std::snprintf(log_z, sizeof log_z, "%.17g", report.log_z);
  std::printf(
      "{\"env\": %s, \"name\": %s, \"description\": %s, \"state_width\": %d, \"encoding\": %s, \"obs_dim\": %d, "
      "\"n_actions\": %d, \"n_backward_actions\": %d, \"exit_action\": %d, \"max_trajectory_length\": %d, "
      "\"n_states\": %s, \"enumerable\": %s, \"log_z\": %s, \"n_modes\": %s, \"log_reward_floor_required\": %s, "
      "\"reward_constants\": %s, \"memory_estimate\": %s, \"threads\": %d, \"openmp_wait_policy\": %s}\n",
      json_string(report.env).c_str(), json_string(report.name).c_str(),
      report.description.empty() ? "null" : json_string(report.description).c_str(),
      report.state_width, json_string(report.encoding).c_str(), report.encoding_width, report.n_actions,
      report.n_backward_actions, report.exit_action, report.max_trajectory_length, json_count(report.n_states).c_str(),
      report.enumerable ? "true" : "false", log_z, json_count(report.n_modes).c_str(),
      report.log_reward_floor_required ? "true" : "false", constants_json(report).c_str(),
      memory_json(report.memory).c_str(), report.threads, json_string(report.wait_policy).c_str());
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App* command = app.add_subcommand(
      "info", "Describe an environment: sizes, actions, log Z, modes, and the memory `gfn train` with these flags needs");
  add_setting_flags(command, options->settings);
  command->add_flag("--json", options->json, "Print one JSON object");
  command->callback([options, command] {
    reject_inapplicable(options->settings, given_settings(*command));
    validate(options->settings);
    const InfoReport report = make_report(options->settings);
    if (options->json) print_json(report);
    else print_text(report);
  });
}

}  // namespace gfn::cli
