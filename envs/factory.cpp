// make_environment: validates EnvConfig with messages that name the command-line option, then
// builds the environment. Sizes are checked before any count is formed, so nothing overflows.
// Not a parser: cli/info.cpp (and the training commands) fill EnvConfig from flags.
#include "envs/factory.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <stdexcept>

#include "envs/bitseq.hpp"
#include "envs/bitseq_autoregressive.hpp"
#include "envs/bitseq_reward.hpp"
#include "envs/hypergrid.hpp"
#include "envs/ising.hpp"
#include "util/format.hpp"

namespace gfn {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) text += (i ? ", " : "") + names[i];
  return text;
}

void check_reward(const std::optional<double>& value, const char* option) {
  if (value && (!std::isfinite(*value) || *value < 0))
    throw std::invalid_argument(std::string(option) + " must be a finite reward >= 0, got " + format_number(*value));
}

std::unique_ptr<Environment> make_hypergrid(const EnvConfig& config) {
  if (config.ndim < 1) throw std::invalid_argument("--ndim must be at least 1, got " + std::to_string(config.ndim));
  if (config.height < 2)
    throw std::invalid_argument("--height must be at least 2, got " + std::to_string(config.height));
  if (static_cast<int64_t>(config.ndim) * config.height > INT_MAX)
    throw std::invalid_argument("--ndim times --height must fit in an int, got " + std::to_string(config.ndim) +
                                " x " + std::to_string(config.height));
  const auto& presets = hypergrid_reward_preset_names();
  if (std::find(presets.begin(), presets.end(), config.reward) == presets.end())
    throw std::invalid_argument("unknown --reward '" + config.reward + "' (expected one of " + join(presets) + ")");
  check_reward(config.r0, "--R0");
  check_reward(config.r1, "--R1");
  check_reward(config.r2, "--R2");
  HyperGridReward reward = hypergrid_reward_preset(config.reward);
  if (!config.r0 && !config.r1 && !config.r2)
    return std::make_unique<HyperGrid>(config.ndim, config.height, config.reward);
  reward.r0 = config.r0.value_or(reward.r0);
  reward.r1 = config.r1.value_or(reward.r1);
  reward.r2 = config.r2.value_or(reward.r2);
  if (reward.r0 == 0 && reward.r1 == 0 && reward.r2 == 0)
    throw std::invalid_argument("--R0, --R1 and --R2 are all 0: every state would have reward 0");
  return std::make_unique<HyperGrid>(config.ndim, config.height, reward);
}

void check_bitseq(const EnvConfig& config) {
  if (config.k < 1 || config.k > BitSeqReward::kMaxWordBits)
    throw std::invalid_argument("--k must be between 1 and 16, got " + std::to_string(config.k));
  if (config.n < 1 || config.n > BitSeqReward::kMaxBits)
    throw std::invalid_argument("--n must be between 1 and " + std::to_string(BitSeqReward::kMaxBits) + ", got " +
                                std::to_string(config.n));
  if (config.n % config.k != 0)
    throw std::invalid_argument("--k " + std::to_string(config.k) + " does not divide --n " + std::to_string(config.n));
  if (!std::isfinite(config.beta) || config.beta < 0)
    throw std::invalid_argument("--beta must be finite and >= 0, got " + format_number(config.beta));
}

std::unique_ptr<Environment> make_ising(const EnvConfig& config) {
  if (config.ising_size < 2 || config.ising_size > Ising::kMaxSize)
    throw std::invalid_argument("--ising-size must be between 2 and " + std::to_string(Ising::kMaxSize) + ", got " +
                                std::to_string(config.ising_size));
  if (!std::isfinite(config.ising_j))
    throw std::invalid_argument("--ising-j must be finite, got " + format_number(config.ising_j));
  if (!std::isfinite(config.alpha) || config.alpha < 0)
    throw std::invalid_argument("--alpha must be finite and >= 0, got " + format_number(config.alpha));
  return std::make_unique<Ising>(config.ising_size, config.ising_j, config.alpha);
}

struct Registered {
  std::string name;
  EnvironmentMaker make;
};

std::vector<Registered>& registered() {
  static std::vector<Registered> environments;
  return environments;
}

std::vector<std::string>& names_list() {
  static std::vector<std::string> names = {"grid", "hypergrid", "bitseq", "bitseq-ar", "ising"};
  return names;
}

}  // namespace

const std::vector<std::string>& environment_names() { return names_list(); }

void register_environment(const std::string& name, EnvironmentMaker make) {
  if (name.empty()) throw std::invalid_argument("register_environment: empty name");
  if (std::find(names_list().begin(), names_list().end(), name) != names_list().end())
    throw std::invalid_argument("register_environment: '" + name + "' is already an environment");
  registered().push_back({name, std::move(make)});
  names_list().push_back(name);
}

std::unique_ptr<Environment> make_environment(const EnvConfig& config) {
  if (config.env == "grid") {
    if (config.r0 || config.r1 || config.r2)
      throw std::invalid_argument("--R0/--R1/--R2 do not apply to --env grid (a fixed preset); use --env hypergrid");
    return std::make_unique<HyperGrid>(HyperGrid::grid());
  }
  if (config.env == "hypergrid") return make_hypergrid(config);
  if (config.env == "bitseq") {
    check_bitseq(config);
    return std::make_unique<BitSeq>(config.n, config.k, config.beta);
  }
  if (config.env == "bitseq-ar") {
    check_bitseq(config);
    return std::make_unique<BitSeqAutoregressive>(config.n, config.k, config.beta);
  }
  if (config.env == "ising") return make_ising(config);
  for (const Registered& environment : registered())
    if (environment.name == config.env) return environment.make(config);
  throw std::invalid_argument("unknown --env '" + config.env + "' (expected one of " + join(environment_names()) + ")");
}

}  // namespace gfn
