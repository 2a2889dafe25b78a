// The settings table and everything derived from it: defaults, checks, text, JSON, resume identity.
#include "core/run/settings.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "envs/hypergrid.hpp"
#include "envs/ising.hpp"
#include "util/json.hpp"

namespace gfn {

namespace {

// ---------------------------------------------------------------------------------------------
// Scopes and checks used by the table

bool on_hypergrid(const RunSettings& s) { return s.env == "hypergrid"; }
bool on_bitseq(const RunSettings& s) { return s.env == "bitseq" || s.env == "bitseq-ar"; }
bool on_ising(const RunSettings& s) { return s.env == "ising"; }
bool on_rank_correlated(const RunSettings& s) { return s.env == "bitseq"; }
bool with_subtb(const RunSettings& s) { return s.loss == "subtb"; }
bool with_dqn(const RunSettings& s) { return s.loss == "soft-dqn" || s.loss == "munchausen-dqn"; }
bool with_munchausen(const RunSettings& s) { return s.loss == "munchausen-dqn"; }
bool with_network(const RunSettings& s) { return s.policy == "mlp"; }
bool with_schedule(const RunSettings& s) { return s.lr_schedule != "constant"; }
bool with_explore_schedule(const RunSettings& s) { return s.explore_schedule != "constant"; }
bool with_trajectory_loss(const RunSettings& s) { return s.loss != "soft-dqn" && s.loss != "munchausen-dqn"; }
bool with_replay(const RunSettings& s) { return with_trajectory_loss(s) && s.replay_ratio > 0; }
bool with_local_search(const RunSettings& s) { return with_trajectory_loss(s) && s.ls_backtrack > 0; }
bool with_replay_buffer(const RunSettings& s) { return with_dqn(s) || with_replay(s); }

const SettingScope kEveryRun{"", nullptr};
const SettingScope kHyperGrid{"hypergrid", on_hypergrid};
const SettingScope kBitSeq{"bitseq, bitseq-ar", on_bitseq};
const SettingScope kIsing{"ising", on_ising};
const SettingScope kRankCorrelated{"bitseq", on_rank_correlated};
const SettingScope kSubTb{"--loss subtb", with_subtb};
const SettingScope kDqn{"--loss soft-dqn, munchausen-dqn", with_dqn};
const SettingScope kMunchausen{"--loss munchausen-dqn", with_munchausen};
const SettingScope kNetwork{"--policy mlp", with_network};
const SettingScope kSchedule{"--lr-schedule linear, exponential, cosine", with_schedule};
const SettingScope kExploreSchedule{"--explore-schedule linear, exponential, cosine", with_explore_schedule};
const SettingScope kTrajectoryLoss{"every --loss but soft-dqn, munchausen-dqn", with_trajectory_loss};
const SettingScope kReplay{"--replay-ratio > 0", with_replay};
const SettingScope kLocalSearch{"--ls-backtrack > 0", with_local_search};
const SettingScope kReplayBuffer{"--replay-ratio > 0, or --loss soft-dqn, munchausen-dqn", with_replay_buffer};

SettingCheck interval(double low, double high, bool low_open = false, bool high_open = false) {
  SettingCheck check;
  check.low = low;
  check.high = high;
  check.low_open = low_open;
  check.high_open = high_open;
  return check;
}
SettingCheck at_least(double low) { return interval(low, INFINITY); }
SettingCheck between(double low, double high) { return interval(low, high); }
SettingCheck positive() { return interval(0, INFINITY, /*low_open=*/true); }
SettingCheck any_finite() { return SettingCheck{}; }
SettingCheck any_number() {  // infinities allowed
  SettingCheck check;
  check.finite = false;
  return check;
}
SettingCheck one_of(std::vector<std::string> choices) {
  SettingCheck check;
  check.choices = std::move(choices);
  return check;
}
SettingCheck automatic(SettingCheck check) {
  check.auto_allowed = true;
  return check;
}

std::vector<std::string> backward_policy_names() {
  std::vector<std::string> names;
  for (int policy = 0; policy <= int(BackwardPolicy::Pessimistic); ++policy)
    names.push_back(backward_policy_name(BackwardPolicy(policy)));
  return names;
}

// "hypergrid 0.1, bitseq 0.001, ...": a training default of each environment (built with its
// defaults), for the help of the automatic settings.
std::string environment_defaults_help(double (*pick)(const TrainingDefaults&)) {
  std::string text;
  for (const std::string& name : environment_names()) {
    if (name == "grid") continue;  // a HyperGrid preset
    EnvConfig config;
    config.env = name;
    text += (text.empty() ? "" : ", ") + name + " " + format_setting(pick(make_environment(config)->training_defaults()));
  }
  return text;
}

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) text += (i ? ", " : "") + names[i];
  return text;
}

// "standard (R0 0.001, R1 0.5, R2 2), hard (...)" for --reward's help.
std::string reward_presets_help() {
  std::string text;
  for (const std::string& preset : hypergrid_reward_preset_names()) {
    const HyperGridReward reward = hypergrid_reward_preset(preset);
    text += (text.empty() ? "" : ", ") + preset + " (R0 " + format_setting(reward.r0) + ", R1 " +
            format_setting(reward.r1) + ", R2 " + format_setting(reward.r2) + ")";
  }
  return text;
}

template <typename T>
std::string text_of(T value) {
  if constexpr (std::is_same_v<T, double>) return format_setting(value);
  else if constexpr (std::is_same_v<T, bool>) return value ? "1" : "0";
  else if constexpr (std::is_same_v<T, std::string>) return value;
  else return std::to_string(value);
}

// "must be in [0, 1]": what a check accepts, as check_value and the range errors word it.
std::string check_rule(const SettingCheck& check) {
  if (check.low == 0 && check.low_open && check.high == INFINITY) return "positive";
  if (check.high == INFINITY && check.low == -INFINITY) return "finite";
  if (check.high == INFINITY) return check.low == 0 ? "non-negative" : "at least " + format_setting(check.low);
  return std::string("in ") + (check.low_open ? "(" : "[") + format_setting(check.low) + ", " +
         format_setting(check.high) + (check.high_open ? ")" : "]");
}

// An integer type's limit as a power of two ("2^63 - 1"), any other value in digits.
template <typename T>
std::string integer_text(T value) {
  const std::string bits = std::to_string(std::numeric_limits<T>::digits);
  if (value == std::numeric_limits<T>::max()) return "2^" + bits + " - 1";
  if (std::is_signed_v<T> && value == std::numeric_limits<T>::min()) return "-2^" + bits;
  return std::to_string(value);
}

// The values a setting of type T with `check` accepts, for a number its parser cannot hold:
// "an integer from 1 to 2^63 - 1", "an integer from 1 to 1048576", "a finite number, positive".
template <typename T>
std::string accepted_values(const SettingCheck& check) {
  if constexpr (std::is_floating_point_v<T>) {
    const std::string rule = check_rule(check);
    return rule == "finite" ? "a finite number" : "a finite number, " + rule;
  } else {
    T low = std::numeric_limits<T>::min(), high = std::numeric_limits<T>::max();
    if (check.low > double(low)) low = T(std::ceil(check.low)) + T(check.low_open && std::ceil(check.low) == check.low);
    if (check.high < double(high))
      high = T(std::floor(check.high)) - T(check.high_open && std::floor(check.high) == check.high);
    return "an integer from " + integer_text(low) + " to " + integer_text(high);
  }
}

}  // namespace

std::string format_setting(double value) {
  if (std::isnan(value)) return "auto";
  for (const int digits : {15, 17}) {
    std::ostringstream out;
    out.precision(digits);
    out << value;
    if (digits == 17 || std::strtod(out.str().c_str(), nullptr) == value) return out.str();
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// The table

const SettingsTable& run_settings_table() {
  using S = RunSettings;
  using R = SettingRole;
  const EnvConfig env;  // the environments' own defaults (envs/factory.hpp)
  // Each row: key, field, default, check, help, role, scope.
  static const SettingsTable table = [&] {
    SettingsTable rows;
    auto group = [&rows](const std::string& name, std::vector<Setting> members) {
      for (Setting& setting : members) {
        setting.group = name;
        rows.push_back(std::move(setting));
      }
    };
    group("Environment", {
        {"env", &S::env, env.env, one_of(environment_names()), "Environment", R::Identity, kEveryRun},
        {"ndim", &S::ndim, text_of(env.ndim), between(1, 1 << 20), "dimensions D", R::Identity, kHyperGrid},
        {"height", &S::height, text_of(env.height), between(2, 1 << 20), "side H", R::Identity, kHyperGrid},
        {"reward", &S::reward, env.reward, one_of(hypergrid_reward_preset_names()),
         "reward preset: " + reward_presets_help(), R::Identity, kHyperGrid},
        {"R0", &S::r0, "auto", automatic(at_least(0)), "base reward (auto: the preset's)", R::Identity,
         kHyperGrid},
        {"R1", &S::r1, "auto", automatic(at_least(0)), "outer-region bonus (auto: the preset's)",
         R::Identity, kHyperGrid},
        {"R2", &S::r2, "auto", automatic(at_least(0)), "band bonus (auto: the preset's)", R::Identity,
         kHyperGrid},
        {"n", &S::n, text_of(env.n), between(1, 4096), "length in bits", R::Identity, kBitSeq},
        {"k", &S::k, text_of(env.k), between(1, 16), "bits per word (divides n)", R::Identity, kBitSeq},
        {"beta", &S::beta, format_setting(env.beta), at_least(0), "log R = -beta * Hamming distance to the nearest mode",
         R::Identity, kBitSeq},
        {"ising_size", &S::ising_size, text_of(env.ising_size), between(2, Ising::kMaxSize), "lattice side L (D = L*L spins)",
         R::Identity, kIsing},
        {"ising_j", &S::ising_j, format_setting(env.ising_j), any_finite(),
         "coupling J: E = -J s^T A s, A the 4-neighbour torus adjacency", R::Identity, kIsing},
        {"alpha", &S::alpha, format_setting(env.alpha), at_least(0), "log R = -alpha * E", R::Identity, kIsing}
    });
    group("Objective", {
        {"loss", &S::loss, "tb", one_of(objective_names()), "Objective", R::Identity, kEveryRun},
        {"subtb_lambda", &S::subtb_lambda, "0.9", positive(), "SubTB geometric weight", R::Identity, kSubTb},
        {"log_reward_floor", &S::log_reward_floor, "auto", automatic(any_number()),
         "log R is clipped below at this (-inf: no floor; auto: none, but for tb and subtb the environment's: " +
             environment_defaults_help([](const TrainingDefaults& d) { return d.log_reward_floor; }) + ")",
         R::Identity, kEveryRun},
        {"lambda", &S::lambda, "auto", automatic(positive()),
         "Soft DQN entropy temperature (auto: 1, or 1/(1 - alpha) for munchausen-dqn)", R::Identity, kDqn},
        {"munchausen_alpha", &S::munchausen_alpha, "0.15", interval(0, 1, false, true), "Munchausen bonus weight",
         R::Identity, kMunchausen},
        {"target_tau", &S::target_tau, "0.25", interval(0, 1, true, false), "Soft DQN target network Polyak rate",
         R::Identity, kDqn},
        {"replay_capacity", &S::replay_capacity, "100000", between(1, 1 << 29),
         "Replay buffer capacity (terminal objects with --replay-ratio, transitions for soft DQN)", R::Identity,
         kReplayBuffer},
        {"replay_batch", &S::replay_batch, "256", at_least(1), "Soft DQN transitions per update", R::Identity, kDqn}
    });
    group("Model", {
        {"policy", &S::policy, "mlp", one_of({"mlp", "tabular"}), "Policy: an MLP, or tables indexed by state",
         R::Identity, kEveryRun},
        {"hidden", &S::hidden, "256", between(1, 1 << 20), "Hidden units per layer", R::Identity, kNetwork},
        {"layers", &S::layers, "2", between(1, 64), "Hidden layers", R::Identity, kNetwork},
        {"activation", &S::activation, "relu", one_of({"relu", "leaky-relu", "tanh"}), "Hidden-layer activation",
         R::Identity, kNetwork},
        {"tied", &S::tied, "0", any_finite(), "One MLP trunk shared by every head", R::Identity, kNetwork},
        {"pb", &S::pb, "uniform", one_of(backward_policy_names()), "Backward policy P_B", R::Identity, kEveryRun}
    });
    group("Optimisation and exploration", {
        {"batch", &S::batch, "16", between(1, 1 << 24), "Trajectories per iteration", R::Identity, kEveryRun},
        {"block_size", &S::block_size, "0", between(0, 1 << 24),
         "Trajectories per parallel block (0: from --batch: 16 up to 64, then batch/4 as a power of two up to "
         "128); changes rounding, not results' meaning, and never depends on --threads",
         R::Identity, kTrajectoryLoss},
        {"iters", &S::iters, "1000", at_least(1), "Iterations (with --resume: train on up to this many)",
         R::Extendable, kEveryRun},
        {"lr", &S::lr, "0.001", positive(), "Adam learning rate of the networks", R::Identity, kEveryRun},
        {"lr_logz", &S::lr_logz, "0.1", positive(), "Adam learning rate of log Z", R::Identity, kEveryRun},
        {"weight_decay", &S::weight_decay, "0", at_least(0), "Decoupled weight decay of the networks", R::Identity,
         kEveryRun},
        {"max_grad_norm", &S::max_grad_norm, "0", at_least(0),
         "Clip the networks' gradient to this Euclidean norm before Adam (0: no clipping)", R::Identity, kEveryRun},
        {"lr_schedule", &S::lr_schedule, "constant", one_of(schedule_kind_names()),
         "Learning-rate schedule of both rates: from the rate given to --lr-end times it over --lr-period iterations",
         R::Identity, kEveryRun},
        {"lr_end", &S::lr_end, "0.01", interval(0, 1, true, false),
         "Final learning rates as a fraction of the initial ones", R::Identity, kSchedule},
        {"lr_period", &S::lr_period, "0", at_least(0), "Iterations of the schedule (0: --iters)", R::Identity,
         kSchedule},
        {"temperature", &S::temperature, "1", positive(), "Training rollouts sample P_F^(1/temperature)", R::Identity,
         kEveryRun},
        {"epsilon", &S::epsilon, "auto", automatic(between(0, 1)),
         "Share of uniformly random actions in training rollouts (auto: the environment's: " +
             environment_defaults_help([](const TrainingDefaults& d) { return d.epsilon; }) + ")", R::Identity,
         kEveryRun},
        {"sf_bias", &S::sf_bias, "0", any_finite(), "Subtracted from the exit logit in training rollouts", R::Identity,
         kEveryRun},
        {"explore_schedule", &S::explore_schedule, "constant", one_of(schedule_kind_names()),
         "Exploration decay: epsilon times f(t), temperature 1 + (temperature - 1) f(t), f from 1 to --explore-end",
         R::Identity, kEveryRun},
        {"explore_end", &S::explore_end, "0.01", interval(0, 1, true, false),
         "Final exploration factor f of --explore-schedule", R::Identity, kExploreSchedule},
        {"explore_period", &S::explore_period, "0", at_least(0), "Iterations of --explore-schedule (0: --iters)",
         R::Identity, kExploreSchedule},
        {"seed", &S::seed, "0", any_finite(), "Random seed", R::Identity, kEveryRun}
    });
    group("Replay and local search", {
        {"replay_ratio", &S::replay_ratio, "0", interval(0, 1, false, true),
         "Share of each batch regenerated by backward sampling from replayed terminal objects", R::Identity,
         kTrajectoryLoss},
        {"replay_policy", &S::replay_policy, "reward", one_of({"fifo", "uniform", "reward"}),
         "Replay buffer: fifo (newest kept), uniform (reservoir), reward (best kept, drawn by R^alpha)", R::Identity,
         kReplay},
        {"replay_alpha", &S::replay_alpha, "1", at_least(0), "Reward replay draws objects with probability R^alpha / sum",
         R::Identity, kReplay},
        {"replay_dedup", &S::replay_dedup, "1", any_finite(), "Replay stores each object once", R::Identity, kReplay},
        {"uniform_ratio", &S::uniform_ratio, "auto", automatic(interval(0, 1, false, true)),
         "Share of each batch drawn uniformly among terminal objects, trajectories sampled backward by P_B (decays "
         "with --explore-schedule; auto: the environment's: " +
             environment_defaults_help([](const TrainingDefaults& d) { return d.uniform_ratio; }) + ")",
         R::Identity, kTrajectoryLoss},
        {"ls_backtrack", &S::ls_backtrack, "0", between(0, 1 << 20),
         "Local search: moves destroyed (P_B) and rebuilt (P_F) per round (0: no local search)", R::Identity,
         kTrajectoryLoss},
        {"ls_rounds", &S::ls_rounds, "1", between(1, 1 << 10), "Local search rounds per iteration", R::Identity,
         kLocalSearch},
        {"ls_accept", &S::ls_accept, "greedy", one_of({"greedy", "mh"}),
         "Local search acceptance: greedy (R(x') >= R(x)) or mh (Metropolis-Hastings)", R::Identity, kLocalSearch}
    });
    group("Evaluation", {
        {"eval_every", &S::eval_every, "100", at_least(1), "Iterations between evaluations (a metrics row)",
         R::Identity, kEveryRun},
        {"exact_every", &S::exact_every, "0", at_least(0),
         "Iterations between exact (DP) evaluations on enumerable environments (0: at every evaluation)",
         R::Identity, kEveryRun},
        {"corr_every", &S::corr_every, "2000", at_least(1), "Iterations between test-set rank correlations",
         R::Identity, kRankCorrelated},
        {"window", &S::window, "200000", at_least(1), "Visited terminal states kept for the empirical L1",
         R::Identity, kEveryRun}
    });
    group("Execution", {
        {"threads", &S::threads, "0", between(0, 4096), "OpenMP threads (0: all cores)", R::Local, kEveryRun},
        {"recompute_logprobs", &S::recompute_logprobs, "0", any_finite(),
         "Evaluate P_F afresh in the loss instead of reusing the rollout's forward pass (a reference for A/B "
         "benchmarks: one more forward pass, same values to rounding)",
         R::Identity, kTrajectoryLoss},
        {"checkpoint_every", &S::checkpoint_every, "0", at_least(0),
         "With --out: iterations between checkpoints (0: at every evaluation)", R::Local, kEveryRun},
        {"max_memory", &S::max_memory, "auto", automatic(positive()),
         "Refuse a run whose estimated memory exceeds this many GiB (auto: MemAvailable of /proc/meminfo)",
         R::Local, kEveryRun}
    });
    return rows;
  }();
  return table;
}

const Setting& find_setting(const SettingsTable& table, const std::string& key) {
  for (const Setting& setting : table)
    if (setting.key == key) return setting;
  throw std::invalid_argument("unknown setting '" + key + "'");
}

RunSettings::RunSettings() {
  for (const Setting& setting : run_settings_table()) setting.set_from_text(*this, setting.default_text);
}

// ---------------------------------------------------------------------------------------------
// One setting

std::string Setting::flag() const {
  std::string flag = "--" + key;
  for (char& c : flag)
    if (c == '_') c = '-';
  return flag;
}

std::string Setting::value_text(const RunSettings& settings) const {
  return std::visit([&](auto member) { return text_of(settings.*member); }, field);
}

template <typename T>
T parse_number(const std::string& flag, const std::string& text, const SettingCheck& check) {
  auto out_of_range = [&] {
    return std::invalid_argument(flag + ": " + text + " is out of range (" + accepted_values<T>(check) + ")");
  };
  char* end = nullptr;
  errno = 0;
  T value;
  if constexpr (std::is_same_v<T, double>) value = text == "auto" ? NAN : std::strtod(text.c_str(), &end);
  else if constexpr (std::is_same_v<T, uint64_t>) value = std::strtoull(text.c_str(), &end, 10);
  else {
    const long long wide = std::strtoll(text.c_str(), &end, 10);
    if (wide < std::numeric_limits<T>::min() || wide > std::numeric_limits<T>::max()) errno = ERANGE;
    value = T(wide);
  }
  const bool automatic = std::is_same_v<T, double> && text == "auto";
  const bool whole = !text.empty() && end != nullptr && *end == '\0';
  const bool negative_unsigned = std::is_same_v<T, uint64_t> && whole && text[0] == '-';
  if (!automatic && whole && (errno == ERANGE || negative_unsigned)) throw out_of_range();
  if (!automatic && (!whole || errno != 0)) throw std::invalid_argument(flag + ": malformed value '" + text + "'");
  if constexpr (std::is_same_v<T, double>) {
    // NaN is the table's "auto": a NaN typed by the user (nan, NaN, -nan(...)) is never taken for it.
    if (!automatic && std::isnan(value))
      throw std::invalid_argument(flag + ": " + text + " is not a number (" + accepted_values<T>(check) +
                                  (check.auto_allowed ? ", or auto" : "") + ")");
    if (std::isinf(value) && check.finite) throw out_of_range();  // inf, -infinity, ... where not accepted
  }
  return value;
}

template <typename T>
T parse_number_within(const std::string& flag, const std::string& text, const SettingCheck& check) {
  const T value = parse_number<T>(flag, text, check);
  const double number = double(value);
  if ((check.low_open ? number > check.low : number >= check.low) &&
      (check.high_open ? number < check.high : number <= check.high))
    return value;
  throw std::invalid_argument(flag + ": " + text + " is out of range (" + accepted_values<T>(check) + ")");
}

#define GFN_PARSE_NUMBER(T)                                                              \
  template T parse_number<T>(const std::string&, const std::string&, const SettingCheck&); \
  template T parse_number_within<T>(const std::string&, const std::string&, const SettingCheck&);
GFN_PARSE_NUMBER(int)
GFN_PARSE_NUMBER(int64_t)
GFN_PARSE_NUMBER(uint64_t)
GFN_PARSE_NUMBER(double)
#undef GFN_PARSE_NUMBER

void Setting::set_from_text(RunSettings& settings, const std::string& text) const {
  std::visit(
      [&](auto member) {
        using T = std::decay_t<decltype(settings.*member)>;
        if constexpr (std::is_same_v<T, std::string>) {
          settings.*member = text;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (text != "0" && text != "1" && text != "true" && text != "false")
            throw std::invalid_argument(flag() + ": malformed value '" + text + "'");
          settings.*member = text == "1" || text == "true";
        } else {
          settings.*member = parse_number<T>(flag(), text, check);
        }
      },
      field);
}

// ---------------------------------------------------------------------------------------------
// Derived: checks, text, JSON, resume

namespace {

void check_value(const Setting& setting, const RunSettings& settings) {
  const SettingCheck& check = setting.check;
  const std::string text = setting.value_text(settings);
  if (!check.choices.empty()) {
    for (const std::string& choice : check.choices)
      if (text == choice) return;
    throw std::invalid_argument(setting.flag() + ": unknown value '" + text + "' (" + join(check.choices) + ")");
  }
  double value = 0;
  std::visit(
      [&](auto member) {
        using T = std::decay_t<decltype(settings.*member)>;
        if constexpr (!std::is_same_v<T, std::string>) value = double(settings.*member);
      },
      setting.field);
  if (std::holds_alternative<std::string RunSettings::*>(setting.field)) return;
  if (std::isnan(value) && check.auto_allowed) return;
  const bool ok = !(check.finite && !std::isfinite(value)) && !std::isnan(value) &&
                  (check.low_open ? value > check.low : value >= check.low) &&
                  (check.high_open ? value < check.high : value <= check.high);
  if (ok) return;
  throw std::invalid_argument(setting.flag() + " must be " + check_rule(check) + " (got " + text + ")");
}

}  // namespace

void validate(const RunSettings& settings, const SettingsTable& table) {
  for (const Setting& setting : table) check_value(setting, settings);
  if (on_bitseq(settings) && settings.n % settings.k != 0)
    throw std::invalid_argument("--k " + std::to_string(settings.k) + " does not divide --n " +
                                std::to_string(settings.n));
}

std::string to_text(const RunSettings& settings, const SettingsTable& table) {
  std::string text;
  for (const Setting& setting : table)
    if (setting.role != SettingRole::Local && setting.applies(settings))
      text += setting.key + "=" + setting.value_text(settings) + "\n";
  return text;
}

std::string identity_text(const RunSettings& settings, const SettingsTable& table) {
  std::string text;
  for (const Setting& setting : table)
    if (setting.role == SettingRole::Identity && setting.applies(settings))
      text += setting.key + "=" + setting.value_text(settings) + "\n";
  return text;
}

RunSettings from_text(const std::string& text, const SettingsTable& table) {
  RunSettings settings;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t equals = line.find('=');
    if (equals == std::string::npos) throw std::runtime_error("malformed run configuration line '" + line + "'");
    const std::string key = line.substr(0, equals);
    try {
      find_setting(table, key).set_from_text(settings, line.substr(equals + 1));
    } catch (const std::invalid_argument& error) {
      throw std::runtime_error(std::string("run configuration: ") + error.what());
    }
  }
  try {
    validate(settings, table);
  } catch (const std::invalid_argument& error) {
    throw std::runtime_error(std::string("run configuration: ") + error.what());
  }
  return settings;
}

JsonObject to_json(const RunSettings& settings, const SettingsTable& table) {
  JsonObject json;
  for (const Setting& setting : table) {
    if (setting.role == SettingRole::Local || !setting.applies(settings)) continue;
    std::visit(
        [&](auto member) {
          using T = std::decay_t<decltype(settings.*member)>;
          if constexpr (std::is_same_v<T, uint64_t>) json.add(setting.key, (unsigned long)(settings.*member));
          else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
            json.add(setting.key, (long long)(settings.*member));
          else json.add(setting.key, settings.*member);
        },
        setting.field);
  }
  return json;
}

void reject_inapplicable(const RunSettings& settings, const std::set<std::string>& given, const SettingsTable& table) {
  for (const Setting& setting : table) {
    if (!given.count(setting.key) || setting.applies(settings)) continue;
    const std::string& label = setting.scope.label;
    const std::string run = label.rfind("--loss", 0) == 0     ? "--loss " + settings.loss
                            : label.rfind("--policy", 0) == 0 ? "--policy " + settings.policy
                                                              : "--env " + settings.env;
    throw std::invalid_argument(setting.flag() + " does not apply to " + run + " (only to " + label + ")");
  }
}

RunSettings resume_settings(const RunSettings& saved, const RunSettings& requested, const std::set<std::string>& given,
                            const SettingsTable& table) {
  reject_inapplicable(saved, given, table);
  RunSettings settings = saved;
  for (const Setting& setting : table) {
    if (!given.count(setting.key)) continue;
    const std::string wanted = setting.value_text(requested), stored = setting.value_text(saved);
    if (setting.role == SettingRole::Identity && wanted != stored)
      throw std::invalid_argument(setting.flag() + " " + wanted + " does not match the checkpoint (" + stored + ")");
    setting.set_from_text(settings, wanted);
  }
  return settings;
}

// ---------------------------------------------------------------------------------------------
// Conversions to the library's configurations, and the defaults that depend on the run

EnvConfig RunSettings::env_config() const {
  EnvConfig config;
  config.env = env;
  config.ndim = ndim;
  config.height = height;
  config.reward = reward;
  if (!std::isnan(r0)) config.r0 = r0;
  if (!std::isnan(r1)) config.r1 = r1;
  if (!std::isnan(r2)) config.r2 = r2;
  config.n = n;
  config.k = k;
  config.beta = beta;
  config.ising_size = ising_size;
  config.ising_j = ising_j;
  config.alpha = alpha;
  return config;
}

ModelConfig RunSettings::model_config() const {
  ModelConfig config;
  config.tabular = policy == "tabular";
  config.hidden.assign(layers, hidden);
  config.activation = activation == "tanh"         ? Activation::Tanh
                      : activation == "leaky-relu" ? Activation::LeakyRelu
                                                   : Activation::Relu;
  config.tied = tied;
  config.backward = backward_policy_from_name(pb);
  return config;
}

TrainConfig RunSettings::train_config() const {
  if (std::isnan(log_reward_floor) || std::isnan(lambda) || std::isnan(epsilon) || std::isnan(uniform_ratio))
    throw std::logic_error("RunSettings::train_config: call resolve_defaults first");
  TrainConfig config;
  config.objective.loss = loss;
  config.objective.subtb_lambda = subtb_lambda;
  config.objective.log_reward_floor = log_reward_floor;
  config.dqn.munchausen_alpha = munchausen_alpha;
  config.dqn.lambda = lambda;
  config.dqn.target_tau = target_tau;
  config.dqn.replay_capacity = replay_capacity;
  config.dqn.replay_batch = replay_batch;
  config.batch = batch;
  config.learning_rate = lr;
  config.log_z_learning_rate = lr_logz;
  config.weight_decay = weight_decay;
  config.max_gradient_norm = max_grad_norm;
  config.schedule = LearningRateSchedule{schedule_kind_from_name(lr_schedule), lr_end, std::max<int64_t>(lr_period, 1)};
  config.sampling = SamplingOptions{temperature, epsilon, sf_bias};
  config.exploration_schedule =
      LearningRateSchedule{schedule_kind_from_name(explore_schedule), explore_end, std::max<int64_t>(explore_period, 1)};
  config.replay_ratio = replay_ratio;
  config.uniform_ratio = uniform_ratio;
  config.replay = ReplayConfig{replay_capacity, replay_policy_from_name(replay_policy), replay_alpha, replay_dedup};
  config.local_search = LocalSearchConfig{ls_backtrack, ls_rounds, local_search_acceptance_from_name(ls_accept)};
  config.seed = seed;
  config.recompute_logprobs = recompute_logprobs;
  config.block_size = block_size;
  return config;
}

double default_log_reward_floor(const Environment& env, const std::string& loss) {
  return objective_spec(loss).reward_floor ? env.training_defaults().log_reward_floor
                                           : -std::numeric_limits<double>::infinity();
}

double default_dqn_lambda(const std::string& loss, double munchausen_alpha) {
  return objective_spec(loss).learner == Learner::MunchausenDqn ? 1 / (1 - munchausen_alpha) : 1.0;
}

void resolve_defaults(RunSettings& settings, const Environment& env) {
  const std::string& loss = settings.loss;
  if (std::isnan(settings.log_reward_floor)) settings.log_reward_floor = default_log_reward_floor(env, loss);
  if (std::isnan(settings.lambda)) settings.lambda = default_dqn_lambda(loss, settings.munchausen_alpha);
  if (std::isnan(settings.epsilon)) settings.epsilon = env.training_defaults().epsilon;
  if (std::isnan(settings.uniform_ratio))
    settings.uniform_ratio = with_trajectory_loss(settings) ? env.training_defaults().uniform_ratio : 0;
  if (settings.block_size == 0 && with_trajectory_loss(settings)) settings.block_size = default_block_size(settings.batch);
  if (settings.lr_period == 0) settings.lr_period = settings.iters;
  if (settings.explore_period == 0) settings.explore_period = settings.iters;
}

}  // namespace gfn
