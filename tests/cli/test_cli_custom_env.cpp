// A gfn of one's own (tests/programs/custom_gfn.cpp: gflownet::cli with the motif environment of
// examples/ registered, and a bare copy without enumeration or description) through the whole
// command line: --policy tabular trains on an environment that enumerates and is refused in one line
// on one that does not, `info` describes an environment by what it declares, and idle OpenMP threads
// sleep as in `gfn`.
#include <doctest/doctest.h>

#ifdef GFN_CUSTOM_GFN_PATH

#include <cstdlib>
#include <string>

#include "support/cli_runner.hpp"

namespace {

using namespace gfn::testing;
using Result = CliResult;

TEST_CASE("cli: --policy tabular on custom environments: trains where they enumerate, one line where they do not") {
  const Result run =
      run_custom_gfn("train --env motif --policy tabular --lr 0.01 --iters 2000 --threads 1 --quiet --json");
  REQUIRE(run.exit_code == 0);
  CHECK(std::stod(json_value(run.out, "l1_exact")) < 0.05);  // measured: 0.0076
  const Result refused = run_custom_gfn("train --env motif-bare --policy tabular --iters 10");
  CHECK(refused.exit_code == 2);
  check_one_line_error(refused, "--policy tabular needs enumeration (n_states, state_index, state_from_index), which "
                                "motif-bare does not provide");
}

TEST_CASE("cli: info describes a registered environment by what it declares, never by a built-in's text") {
  const Result motif = run_custom_gfn("info --env motif");
  REQUIRE(motif.exit_code == 0);
  CHECK(contains(motif.out, "environment   motif-sequences(8)\n              binary sequences of length 8"));
  const Result bare = run_custom_gfn("info --env motif-bare");
  REQUIRE(bare.exit_code == 0);
  CHECK(contains(bare.out, "environment   motif-bare\nstate width"));  // no description line
  const Result bare_json = run_custom_gfn("info --env motif-bare --json");
  CHECK(contains(bare_json.out, "\"description\": null"));
  for (const std::string& out : {motif.out, bare.out, bare_json.out}) {
    CHECK(!contains(out, "BitSeq"));
    CHECK(!contains(out, "HyperGrid"));
  }
}

TEST_CASE("cli: a program on gflownet::cli lets idle OpenMP threads sleep unless the caller chose a policy") {
#ifdef _OPENMP
  const char* inherited = std::getenv("OMP_WAIT_POLICY");
  const std::string before = inherited != nullptr ? inherited : "";
  unsetenv("OMP_WAIT_POLICY");
  const Result chosen_for_you = run_custom_gfn("info --env motif --json");
  REQUIRE(chosen_for_you.exit_code == 0);
  CHECK(contains(chosen_for_you.out, "\"openmp_wait_policy\": \"passive\""));
  setenv("OMP_WAIT_POLICY", "active", 1);
  const Result kept = run_custom_gfn("info --env motif --json");
  if (inherited != nullptr) setenv("OMP_WAIT_POLICY", before.c_str(), 1);
  else unsetenv("OMP_WAIT_POLICY");
  REQUIRE(kept.exit_code == 0);
  CHECK(contains(kept.out, "\"openmp_wait_policy\": \"active\""));
#else
  MESSAGE("skipped: built without OpenMP, the command runs serially and sets no wait policy");
#endif
}

}  // namespace

#endif  // GFN_CUSTOM_GFN_PATH
