// `gfn info`: describes an environment built from the --env options: what it is, its widths and
// action counts, its number of states, log Z (by exhaustive enumeration when small enough) and its
// number of modes, as text or as one JSON object (--json). Not a trainer: nothing is sampled.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "envs/enumeration.hpp"
#include "envs/factory.hpp"
#include "envs/hypergrid.hpp"

namespace gfn::cli {

namespace {

struct InfoOptions {
  EnvConfig config;
  double r0 = 0, r1 = 0, r2 = 0;
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
  double log_z = 0;
};

std::string describe(const std::string& env) {
  if (env == "grid")
    return "the 16x16 Grid demo: HyperGrid D=2, H=16, R = 0.01 + 0.5 [outer] + 2 [band]; one-hot cells; "
           "actions Down, Right, Terminate";
  if (env == "hypergrid")
    return "HyperGrid: D coordinates in 0..H-1 from 0; move +1 along one axis or exit (valid everywhere); "
           "R = R0 + R1 [all outer] + R2 [all in band]";
  if (env == "bitseq")
    return "BitSeq, non-autoregressive: fill any empty k-bit slot with a word, n/k moves, no exit; "
           "log R = -beta * Hamming distance to the nearest mode";
  return "BitSeq, autoregressive: append k-bit words left to right (a tree), n/k moves, no exit; "
         "log R = -beta * Hamming distance to the nearest mode";
}

// Options given on the command line that the chosen --env does not take.
void reject_foreign_options(const CLI::App& command, const std::string& env) {
  const std::vector<std::string>& names = environment_names();
  if (std::find(names.begin(), names.end(), env) == names.end()) return;  // make_environment names it
  const bool is_hypergrid = env == "hypergrid", is_bitseq = env == "bitseq" || env == "bitseq-ar";
  const std::vector<std::pair<std::string, bool>> options = {
      {"--ndim", is_hypergrid}, {"--height", is_hypergrid}, {"--reward", is_hypergrid},
      {"--R0", is_hypergrid},   {"--R1", is_hypergrid},     {"--R2", is_hypergrid},
      {"--n", is_bitseq},       {"--k", is_bitseq},         {"--beta", is_bitseq}};
  for (const auto& [option, applies] : options)
    if (!applies && command.count(option) > 0)
      throw std::invalid_argument(option + " does not apply to --env " + env);
}

InfoReport make_report(const EnvConfig& config) {
  const std::unique_ptr<Environment> environment = make_environment(config);
  InfoReport report;
  report.env = config.env;
  report.name = environment->name();
  report.description = describe(config.env);
  const Encoding encoding = environment->default_encoding();
  report.encoding = encoding == Encoding::KHot ? "k-hot" : "one-hot-state";
  report.state_width = environment->state_width();
  report.encoding_width = environment->encoding_width(encoding);
  report.n_actions = environment->n_actions();
  report.n_backward_actions = environment->n_backward_actions();
  report.exit_action = environment->exit_action();
  report.max_trajectory_length = environment->max_trajectory_length();
  report.n_states = environment->n_states();
  report.n_modes = environment->n_modes();
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
  std::printf("              %s\n", report.description.c_str());
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
  if (report.log_reward_floor_required)
    std::printf("note          R0 = 0 gives log R = -inf off the bonus regions: training needs a log-reward floor "
                "(e.g. -12)\n");
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

void print_json(const InfoReport& report) {
  char log_z[32] = "null";
  if (report.enumerable) std::snprintf(log_z, sizeof log_z, "%.17g", report.log_z);
  std::printf(
      "{\"env\": %s, \"name\": %s, \"description\": %s, \"state_width\": %d, \"encoding\": %s, \"obs_dim\": %d, "
      "\"n_actions\": %d, \"n_backward_actions\": %d, \"exit_action\": %d, \"max_trajectory_length\": %d, "
      "\"n_states\": %s, \"enumerable\": %s, \"log_z\": %s, \"n_modes\": %s, \"log_reward_floor_required\": %s}\n",
      json_string(report.env).c_str(), json_string(report.name).c_str(), json_string(report.description).c_str(),
      report.state_width, json_string(report.encoding).c_str(), report.encoding_width, report.n_actions,
      report.n_backward_actions, report.exit_action, report.max_trajectory_length, json_count(report.n_states).c_str(),
      report.enumerable ? "true" : "false", log_z, json_count(report.n_modes).c_str(),
      report.log_reward_floor_required ? "true" : "false");
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App* command = app.add_subcommand("info", "Describe an environment: sizes, actions, log Z, modes");
  EnvConfig& config = options->config;
  command->add_option("--env", config.env, "grid | hypergrid | bitseq | bitseq-ar")->capture_default_str();
  command->add_option("--ndim", config.ndim, "hypergrid: dimensions D")
      ->check(CLI::Range(1, std::numeric_limits<int>::max()))->capture_default_str();
  command->add_option("--height", config.height, "hypergrid: side H")
      ->check(CLI::Range(2, std::numeric_limits<int>::max()))->capture_default_str();
  command->add_option("--reward", config.reward,
                      "hypergrid reward preset: standard, hard, easy, medium, hard-tgfn, challenging, impossible")
      ->capture_default_str();
  command->add_option("--R0", options->r0, "hypergrid: override the preset's R0");
  command->add_option("--R1", options->r1, "hypergrid: override the preset's R1");
  command->add_option("--R2", options->r2, "hypergrid: override the preset's R2");
  command->add_option("--n", config.n, "bitseq: bits per sequence")->check(CLI::Range(1, 4096))->capture_default_str();
  command->add_option("--k", config.k, "bitseq: bits per word (divides n)")->check(CLI::Range(1, 16))
      ->capture_default_str();
  command->add_option("--beta", config.beta, "bitseq: log R = -beta * distance")->capture_default_str();
  command->add_flag("--json", options->json, "Print one JSON object");
  command->callback([options, command] {
    reject_foreign_options(*command, options->config.env);
    EnvConfig chosen = options->config;
    if (command->count("--R0")) chosen.r0 = options->r0;
    if (command->count("--R1")) chosen.r1 = options->r1;
    if (command->count("--R2")) chosen.r2 = options->r2;
    const InfoReport report = make_report(chosen);
    if (options->json) print_json(report);
    else print_text(report);
  });
}

}  // namespace gfn::cli
