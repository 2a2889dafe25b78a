// register_environment: a registered environment is built by make_environment from its name (with the
// options passed through) and listed after the built-in ones; taken and empty names are refused.
// The same path through the whole gfn command line is exercised by examples/motif_gfn.cpp in CI
// (scripts/check-install).
#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>

#include "envs/factory.hpp"
#include "envs/hypergrid.hpp"

namespace gfn {
namespace {

TEST_CASE("envs: a registered environment is made by name, after the built-in ones; taken names are refused") {
  register_environment("line-for-registry-test", [](const EnvConfig& config) {
    return std::make_unique<HyperGrid>(1, config.height, "easy");  // the options reach the maker
  });
  const std::vector<std::string>& names = environment_names();
  CHECK(names.front() == "grid");
  CHECK(names.back() == "line-for-registry-test");
  EnvConfig config;
  config.env = "line-for-registry-test";
  config.height = 5;
  CHECK(make_environment(config)->name() == HyperGrid(1, 5, "easy").name());
  auto maker = [](const EnvConfig&) { return std::unique_ptr<Environment>(); };
  CHECK_THROWS_AS(register_environment("hypergrid", maker), std::invalid_argument);
  CHECK_THROWS_AS(register_environment("line-for-registry-test", maker), std::invalid_argument);
  CHECK_THROWS_AS(register_environment("", maker), std::invalid_argument);
  config.env = "not-registered";
  CHECK_THROWS_AS(make_environment(config), std::invalid_argument);
}

}  // namespace
}  // namespace gfn
