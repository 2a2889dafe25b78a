// The settings of a training run, described once. Each row of run_settings_table() is one setting: its
// key (config.json and checkpoint text; the flag is --key with '-' for '_'), where it lives in
// RunSettings, its default, its check, its help, its role and the runs it applies to. Flags (cli/),
// validation, key=value text, config.json and the resume identity check are all derived from the
// table, so adding a row adds the setting everywhere.
//
// Defaults that depend on the environment or the objective (the log-reward floor, epsilon, the
// Munchausen lambda) are "auto" (NaN) in the table and resolved by resolve_defaults().
//
//   RunSettings settings;                 // the table's defaults
//   settings.loss = "db";
//   validate(settings);                   // std::invalid_argument naming the flag
//   std::string text = to_text(settings); // key=value lines; from_text(text) gives them back
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/training/trainer.hpp"
#include "envs/factory.hpp"
#include "util/json.hpp"

namespace gfn {

struct RunSettings {
  // Environment (see envs/factory.hpp). r0, r1, r2: NaN keeps the preset's value.
  std::string env;
  int ndim, height;
  std::string reward;
  double r0, r1, r2;
  int n, k;
  double beta;
  int ising_size;
  double ising_j, alpha;
  // Objective. NaN: the default of the environment and objective (resolve_defaults).
  std::string loss;
  double subtb_lambda, log_reward_floor, lambda, munchausen_alpha, target_tau;
  int replay_capacity, replay_batch;
  // Model.
  std::string policy, activation, pb;
  int hidden, layers;
  bool tied;
  // Optimisation and exploration.
  int batch, block_size;  // block_size 0 until resolve_defaults: from the batch
  int64_t iters;
  double lr, lr_logz, weight_decay, max_grad_norm;
  std::string lr_schedule;
  double lr_end;
  int64_t lr_period;
  double temperature, epsilon, sf_bias;
  std::string explore_schedule;
  double explore_end;
  int64_t explore_period;
  // Replay of terminal objects and local search (every objective but the soft-DQN ones).
  double replay_ratio, replay_alpha, uniform_ratio;
  std::string replay_policy;
  bool replay_dedup;
  int ls_backtrack, ls_rounds;
  std::string ls_accept;
  uint64_t seed;
  // Evaluation.
  int eval_every, exact_every, corr_every;
  int64_t window;
  // How a run is executed; not part of its identity (but recompute_logprobs changes rounding: kept on resume).
  int threads, checkpoint_every;
  bool recompute_logprobs;
  double max_memory;  // GiB; NaN: the available memory (core/run/memory_estimate.hpp)

  RunSettings();  // every field at the table's default

  EnvConfig env_config() const;
  ModelConfig model_config() const;
  TrainConfig train_config() const;  // call resolve_defaults first: NaN settings are an error here
};

// Identity: stored, and a run continued with --resume must keep it. Extendable: stored, but --resume
// may change it (iters). Local: how a run is executed, never stored (threads).
enum class SettingRole { Identity, Extendable, Local };

// Which runs a setting applies to; a setting that does not apply is neither accepted nor stored.
struct SettingScope {
  std::string label;  // e.g. "hypergrid", "soft-dqn, munchausen-dqn"; empty for every run
  bool (*applies)(const RunSettings&);
};

// A check on one value: numbers against [low, high] (open ends as stated), strings against choices.
struct SettingCheck {
  double low = -INFINITY, high = INFINITY;
  bool low_open = false, high_open = false;
  bool finite = true;       // reject NaN and infinities (NaN still allowed when auto_allowed)
  bool auto_allowed = false;
  std::vector<std::string> choices;
};

using SettingField = std::variant<int RunSettings::*, int64_t RunSettings::*, uint64_t RunSettings::*,
                                  double RunSettings::*, bool RunSettings::*, std::string RunSettings::*>;

struct Setting {
  Setting(std::string key, SettingField field, std::string default_text, SettingCheck check, std::string help,
          SettingRole role, SettingScope scope)
      : key(std::move(key)), field(field), default_text(std::move(default_text)), check(std::move(check)),
        help(std::move(help)), role(role), scope(std::move(scope)) {}

  std::string key;
  SettingField field;
  std::string default_text;  // as in key=value text; "auto" for NaN
  SettingCheck check;
  std::string help;
  SettingRole role = SettingRole::Identity;
  SettingScope scope;
  std::string group;  // e.g. "Environment", for help pages

  std::string flag() const;                          // "--lr-logz" for key "lr_logz"
  std::string value_text(const RunSettings& settings) const;
  void set_from_text(RunSettings& settings, const std::string& text) const;  // throws std::invalid_argument
  bool applies(const RunSettings& settings) const { return scope.applies == nullptr || scope.applies(settings); }
};

using SettingsTable = std::vector<Setting>;

const SettingsTable& run_settings_table();
const Setting& find_setting(const SettingsTable& table, const std::string& key);  // throws when unknown

// Every check of the table, then the checks across settings; throws std::invalid_argument naming the flag.
void validate(const RunSettings& settings, const SettingsTable& table = run_settings_table());

// key=value lines of the stored settings (identity and extendable) that apply, in table order.
std::string to_text(const RunSettings& settings, const SettingsTable& table = run_settings_table());
// The identity settings only: two runs with the same identity text are the same run.
std::string identity_text(const RunSettings& settings, const SettingsTable& table = run_settings_table());
// The inverse of to_text: a key missing from the text keeps its default (a setting added since the text was
// written); an unknown key or a malformed value throws std::runtime_error.
RunSettings from_text(const std::string& text, const SettingsTable& table = run_settings_table());
// The stored settings that apply, as JSON fields (NaN as null).
JsonObject to_json(const RunSettings& settings, const SettingsTable& table = run_settings_table());

// Settings given explicitly (by key) that do not apply to the run: throws naming the first, e.g.
// "--ndim does not apply to --env bitseq".
void reject_inapplicable(const RunSettings& settings, const std::set<std::string>& given,
                         const SettingsTable& table = run_settings_table());

// The settings of a run continued from `saved`: every identity setting in `given` must equal the saved
// one ("--lr 1e-07 does not match the checkpoint (2e-07)"); extendable and local ones are taken from
// `given` when given. Throws std::invalid_argument.
RunSettings resume_settings(const RunSettings& saved, const RunSettings& requested, const std::set<std::string>& given,
                            const SettingsTable& table = run_settings_table());

// Defaults that depend on the environment and the objective, filled in where a setting is NaN:
//   log_reward_floor  the environment's floor for TB and SubTB (HyperGrid: -12), else none (-inf)
//   epsilon           the environment's exploration share (see Environment::training_defaults)
//   uniform_ratio     the environment's share of uniformly drawn objects for the trajectory objectives, else 0
//   lambda            1 / (1 - munchausen_alpha) for munchausen-dqn, else 1
//   lr_period         0 means iters
void resolve_defaults(RunSettings& settings, const Environment& env);
double default_log_reward_floor(const Environment& env, const std::string& loss);
double default_dqn_lambda(const std::string& loss, double munchausen_alpha);

// The shortest of 15 or 17 significant digits that reads back as the same double ("auto" for NaN).
std::string format_setting(double value);

// Reads `text` as a T (int, int64_t, uint64_t; double, with "auto" for NaN) for `flag`, the parser of
// every numeric setting. Throws std::invalid_argument: "--flag: malformed value 'x'", or for a number T
// cannot hold, "--flag: x is out of range (an integer from 1 to 2^63 - 1)", giving what `check` accepts.
// A double typed as NaN ("nan", any spelling strtod reads) is refused ("--flag: nan is not a number
// (...)"), never read as auto; an infinity is refused as out of range unless `check.finite` is false.
// The value is not checked against `check` here (validate() does); parse_number_within also refuses a
// value outside `check`'s interval with that same range error.
template <typename T>
T parse_number(const std::string& flag, const std::string& text, const SettingCheck& check);
template <typename T>
T parse_number_within(const std::string& flag, const std::string& text, const SettingCheck& check);

}  // namespace gfn
