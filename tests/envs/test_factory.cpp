// make_environment: each environment name builds the right thing, and each kind of bad input throws
// std::invalid_argument with one line naming the offending option.
// State counts that overflow int64 give n_states() = -1, not undefined behaviour.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include "envs/factory.hpp"
#include "envs/hypergrid.hpp"

namespace gfn {
namespace {

std::string invalid_argument_message(const EnvConfig& config) {
  try {
    make_environment(config);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "(no error)";
}

bool mentions(const std::string& message, const std::string& option) {
  return message.find(option) != std::string::npos && message.find('\n') == std::string::npos;
}

TEST_CASE("envs: factory builds grid, hypergrid, bitseq, bitseq-ar and ising") {
  EnvConfig config;
  CHECK(make_environment(config)->name() == "hypergrid(D=2,H=8,standard)");
  config.env = "grid";
  CHECK(make_environment(config)->name() == "grid");
  config.env = "hypergrid";
  config.ndim = 4;
  config.height = 20;
  config.reward = "hard";
  CHECK(make_environment(config)->n_states() == 160000);
  config.r0 = 0.01;
  const auto overridden = make_environment(config);
  CHECK(overridden->name() == "hypergrid(D=4,H=20,R0=0.01,R1=1,R2=3)");
  CHECK(dynamic_cast<const HyperGrid&>(*overridden).reward().r0 == 0.01);
  config = EnvConfig{};
  config.env = "bitseq";
  CHECK(make_environment(config)->n_actions() == 3840);
  config.env = "bitseq-ar";
  config.n = 8;
  config.k = 2;
  CHECK(make_environment(config)->n_states() == 341);
  config = EnvConfig{};
  config.reward = "impossible";
  CHECK(make_environment(config)->n_modes() == 4);  // R0 = 0 is allowed: log R = -inf off the bonuses
  config = EnvConfig{};
  config.env = "ising";
  CHECK(make_environment(config)->name() == "ising(L=3,J=0.44,alpha=1)");  // torchgfn's J and alpha, L = 3
  config.ising_size = 2;
  config.ising_j = -0.1;
  config.alpha = 2;
  CHECK(make_environment(config)->name() == "ising(L=2,J=-0.1,alpha=2)");
}

TEST_CASE("envs: factory errors name the option") {
  EnvConfig config;
  config.env = "maze";
  CHECK(mentions(invalid_argument_message(config), "--env 'maze'"));
  config = EnvConfig{};
  config.reward = "nope";
  CHECK(mentions(invalid_argument_message(config), "--reward 'nope'"));
  config = EnvConfig{};
  config.height = 1;
  CHECK(mentions(invalid_argument_message(config), "--height"));
  config = EnvConfig{};
  config.ndim = 0;
  CHECK(mentions(invalid_argument_message(config), "--ndim"));
  config = EnvConfig{};
  config.ndim = 1 << 20;
  config.height = 1 << 12;
  CHECK(mentions(invalid_argument_message(config), "--ndim times --height"));
  config = EnvConfig{};
  config.r0 = -1.0;
  CHECK(mentions(invalid_argument_message(config), "--R0"));
  config = EnvConfig{};
  config.r2 = std::numeric_limits<double>::quiet_NaN();
  CHECK(mentions(invalid_argument_message(config), "--R2"));
  config = EnvConfig{};
  config.r0 = config.r1 = config.r2 = 0.0;
  CHECK(mentions(invalid_argument_message(config), "all 0"));
  config = EnvConfig{};
  config.env = "grid";
  config.r1 = 1.0;
  CHECK(mentions(invalid_argument_message(config), "--env grid"));

  for (const char* env : {"bitseq", "bitseq-ar"}) {
    config = EnvConfig{};
    config.env = env;
    config.k = 7;
    CHECK(mentions(invalid_argument_message(config), "--k 7 does not divide --n 120"));
    config.k = 0;
    CHECK(mentions(invalid_argument_message(config), "--k"));
    config.k = 17;
    CHECK(mentions(invalid_argument_message(config), "--k"));
    config.k = 8;
    config.n = 0;
    CHECK(mentions(invalid_argument_message(config), "--n"));
    config.n = 1 << 20;
    CHECK(mentions(invalid_argument_message(config), "--n"));
    config.n = 120;
    config.beta = -1;
    CHECK(mentions(invalid_argument_message(config), "--beta"));
  }

  config = EnvConfig{};
  config.env = "ising";
  config.ising_size = 1;
  CHECK(mentions(invalid_argument_message(config), "--ising-size"));
  config.ising_size = 65;
  CHECK(mentions(invalid_argument_message(config), "--ising-size"));
  config.ising_size = 3;
  config.ising_j = std::numeric_limits<double>::infinity();
  CHECK(mentions(invalid_argument_message(config), "--ising-j"));
  config.ising_j = 0.44;
  config.alpha = -1;
  CHECK(mentions(invalid_argument_message(config), "--alpha"));
}

TEST_CASE("envs: factory handles state counts that overflow int64") {
  EnvConfig config;
  config.ndim = 100;
  config.height = 20;
  const auto env = make_environment(config);
  CHECK(env->n_states() == -1);
  CHECK(env->encoding_width(Encoding::KHot) == 2000);
  config = EnvConfig{};
  config.env = "bitseq";
  config.n = 4096;
  config.k = 16;
  CHECK(make_environment(config)->n_states() == -1);
}

}  // namespace
}  // namespace gfn
