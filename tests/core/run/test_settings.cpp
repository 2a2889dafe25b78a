// Tests of the settings table (core/run/settings.hpp): every default passes its own check, text round-trips
// exactly, a row added to a table appears in text, JSON, validation and the resume check with no other
// edit, and the defaults that depend on the environment come from the environment.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "core/run/settings.hpp"

namespace gfn {

TEST_CASE("settings: the defaults pass every check and round-trip through text") {
  const RunSettings defaults;
  CHECK_NOTHROW(validate(defaults));
  CHECK(defaults.loss == "tb");
  CHECK(defaults.height == EnvConfig{}.height);  // environment defaults come from envs/factory.hpp
  CHECK(std::isnan(defaults.epsilon));           // auto
  RunSettings changed;
  changed.lr = 0.1 + 0.2;  // not a short decimal: the text must keep every bit
  changed.seed = std::numeric_limits<uint64_t>::max();
  changed.tied = true;
  changed.r0 = 1e-5;
  changed.iters = int64_t(1) << 40;
  const RunSettings back = from_text(to_text(changed));
  CHECK(back.lr == changed.lr);
  CHECK(back.seed == changed.seed);
  CHECK(back.tied);
  CHECK(back.r0 == 1e-5);
  CHECK(back.iters == changed.iters);
  CHECK(to_text(back) == to_text(changed));
}

// The message of the std::invalid_argument that reading `text` into `setting` throws ("" when it reads).
std::string refusal(const Setting& setting, const std::string& text) {
  RunSettings settings;
  try {
    setting.set_from_text(settings, text);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

TEST_CASE("settings: nan and infinities typed for a real-valued setting are refused as typed, never read as auto") {
  int rows = 0;
  std::vector<std::string> taking_infinity;
  for (const Setting& setting : run_settings_table()) {
    if (!std::holds_alternative<double RunSettings::*>(setting.field)) continue;
    ++rows;
    CAPTURE(setting.key);
    for (const std::string text : {"nan", "NaN", "-nan", "NAN", "nan(0x1)"})
      CHECK(refusal(setting, text).rfind(setting.flag() + ": " + text + " is not a number (", 0) == 0);
    if (!setting.check.finite) taking_infinity.push_back(setting.key);
    for (const std::string text : {"inf", "-inf", "Infinity", "-infinity", "+INF"}) {
      CAPTURE(text);
      if (setting.check.finite) {
        CHECK(refusal(setting, text).rfind(setting.flag() + ": " + text + " is out of range (a finite number", 0) == 0);
        continue;
      }
      RunSettings settings;  // the row reads it as the infinity typed
      setting.set_from_text(settings, text);
      CHECK(std::isinf(settings.*std::get<double RunSettings::*>(setting.field)));
      CHECK(setting.value_text(settings) == (text[0] == '-' ? "-inf" : "inf"));
    }
    if (setting.check.auto_allowed) {  // "auto" itself still means auto
      RunSettings settings;
      setting.set_from_text(settings, "auto");
      CHECK(std::isnan(settings.*std::get<double RunSettings::*>(setting.field)));
    }
  }
  CHECK(rows >= 20);
  CHECK(taking_infinity == std::vector<std::string>{"log_reward_floor"});  // -inf: no floor
  RunSettings floorless;
  find_setting(run_settings_table(), "log_reward_floor").set_from_text(floorless, "-inf");
  CHECK(floorless.log_reward_floor == -INFINITY);
  CHECK_NOTHROW(validate(floorless));
}

TEST_CASE("settings: text holds only the stored settings that apply to the run") {
  RunSettings settings;
  const std::string text = to_text(settings);
  CHECK(text.find("ndim=2\n") != std::string::npos);
  CHECK(text.find("\nn=") == std::string::npos);             // BitSeq's, not HyperGrid's
  CHECK(text.find("subtb_lambda") == std::string::npos);     // --loss subtb only
  CHECK(text.find("threads") == std::string::npos);          // local: how, not what
  settings.env = "bitseq";
  settings.loss = "subtb";
  CHECK(to_text(settings).find("subtb_lambda=0.9\n") != std::string::npos);
  CHECK(to_text(settings).find("ndim") == std::string::npos);
  CHECK_THROWS_WITH_AS(reject_inapplicable(settings, {"ndim"}), "--ndim does not apply to --env bitseq (only to hypergrid)",
                       std::invalid_argument);
  CHECK_THROWS_AS(from_text("no_such_setting=1\n"), std::runtime_error);
  CHECK_THROWS_AS(from_text("lr=fast\n"), std::runtime_error);
  CHECK(from_text("lr=0.5\n").batch == RunSettings().batch);  // a missing key keeps its default
}

TEST_CASE("settings: a row added to the table reaches text, JSON, validation and the resume check") {
  // Move sf_bias under a new key with its own check; nothing else is edited.
  SettingsTable table;
  for (const Setting& setting : run_settings_table())
    if (setting.key != "sf_bias") table.push_back(setting);
  Setting knob = find_setting(run_settings_table(), "sf_bias");
  knob.key = "test_knob";
  knob.check.low = 0;
  knob.check.high = 1;
  table.push_back(knob);

  RunSettings settings;
  settings.sf_bias = 0.25;
  CHECK(knob.flag() == "--test-knob");
  CHECK(to_text(settings, table).find("test_knob=0.25\n") != std::string::npos);
  CHECK(to_text(settings, table).find("sf_bias") == std::string::npos);
  CHECK(to_json(settings, table).str().find("\"test_knob\": 0.25") != std::string::npos);
  CHECK(from_text("test_knob=0.75\n", table).sf_bias == 0.75);
  settings.sf_bias = 2;
  CHECK_THROWS_WITH_AS(validate(settings, table), "--test-knob must be in [0, 1] (got 2)", std::invalid_argument);
  RunSettings saved, requested;
  saved.sf_bias = 0.25;
  requested.sf_bias = 0.5;
  CHECK_THROWS_WITH_AS(resume_settings(saved, requested, {"test_knob"}, table),
                       "--test-knob 0.5 does not match the checkpoint (0.25)", std::invalid_argument);
  requested.sf_bias = 0.25;
  CHECK(resume_settings(saved, requested, {"test_knob"}, table).sf_bias == 0.25);
}

TEST_CASE("settings: resuming keeps the identity and takes the extendable and local settings given") {
  RunSettings saved;
  saved.iters = 100;
  RunSettings requested;
  requested.iters = 300;
  requested.threads = 1;
  requested.lr = 0.5;  // not given: ignored
  const RunSettings resumed = resume_settings(saved, requested, {"iters", "threads"});
  CHECK(resumed.iters == 300);
  CHECK(resumed.threads == 1);
  CHECK(resumed.lr == saved.lr);
  CHECK_THROWS_WITH_AS(resume_settings(saved, requested, {"lr"}), "--lr 0.5 does not match the checkpoint (0.001)",
                       std::invalid_argument);
}

TEST_CASE("settings: defaults that depend on the environment and the objective are resolved from them") {
  RunSettings settings;
  const auto hypergrid = make_environment(settings.env_config());
  RunSettings tb = settings;
  resolve_defaults(tb, *hypergrid);
  CHECK(tb.log_reward_floor == -12);
  CHECK(tb.epsilon == hypergrid->training_defaults().epsilon);
  CHECK(tb.lambda == 1);
  CHECK(tb.uniform_ratio == hypergrid->training_defaults().uniform_ratio);
  CHECK(tb.uniform_ratio > 0);
  RunSettings db = settings;
  db.loss = "db";
  resolve_defaults(db, *hypergrid);
  CHECK(db.log_reward_floor == -std::numeric_limits<double>::infinity());
  CHECK(db.uniform_ratio == hypergrid->training_defaults().uniform_ratio);
  RunSettings munchausen = settings;
  munchausen.loss = "munchausen-dqn";
  munchausen.munchausen_alpha = 0.2;
  resolve_defaults(munchausen, *hypergrid);
  CHECK(munchausen.lambda == doctest::Approx(1.25));
  CHECK(munchausen.uniform_ratio == 0);  // the soft-DQN learners take no uniform draws

  RunSettings bitseq = settings;
  bitseq.env = "bitseq";
  const auto bitseq_env = make_environment(bitseq.env_config());
  resolve_defaults(bitseq, *bitseq_env);
  CHECK(bitseq.epsilon == 0.001);
  CHECK(bitseq.uniform_ratio == 0);
  CHECK(bitseq.log_reward_floor == -std::numeric_limits<double>::infinity());
  RunSettings given = settings;
  given.epsilon = 0.3;
  resolve_defaults(given, *hypergrid);
  CHECK(given.epsilon == 0.3);  // a setting given is never replaced
}

}  // namespace gfn
