// `gfn info` end to end (needs the gfn binary, GFN_CLI_PATH): the JSON keys and values for
// hypergrid 20^4, grid and bitseq, and one-line usage errors with exit code 2 on bad input.
// Skipped when the suite is built without the command (GFN_BUILD_CLI=OFF).
#include <doctest/doctest.h>

#ifdef GFN_CLI_PATH

#include <string>
#include <utility>
#include <vector>

#include "support/cli_runner.hpp"

namespace {

using namespace gfn::testing;
using Result = CliResult;

TEST_CASE("cli: gfn info --json reports hypergrid 20^4 standard") {
  const Result result = run_gfn("info --env hypergrid --ndim 4 --height 20 --reward standard --json");
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "\"env\": \"hypergrid\""));
  CHECK(contains(result.out, "\"n_states\": 160000"));
  CHECK(contains(result.out, "\"log_z\": 8.6432"));
  CHECK(contains(result.out, "\"n_modes\": 256"));
  CHECK(contains(result.out, "\"n_actions\": 5"));
  CHECK(contains(result.out, "\"obs_dim\": 80"));
  CHECK(result.out.find('\n') == result.out.size() - 1);  // one JSON object, one line
}

TEST_CASE("cli: gfn info on grid, bitseq, bitseq-ar and the impossible preset") {
  const Result grid = run_gfn("info --env grid --json");
  CHECK(contains(grid.out, "\"obs_dim\": 256"));
  CHECK(contains(grid.out, "\"log_z\": 3.7509"));
  const Result bitseq = run_gfn("info --env bitseq --json");
  CHECK(contains(bitseq.out, "\"n_states\": null"));
  CHECK(contains(bitseq.out, "\"log_z\": null"));
  CHECK(contains(bitseq.out, "\"n_modes\": 60"));
  CHECK(contains(bitseq.out, "\"n_actions\": 3840"));
  CHECK(contains(bitseq.out, "\"obs_dim\": 3855"));
  const Result small = run_gfn("info --env bitseq-ar --n 8 --k 2");
  CHECK(small.exit_code == 0);
  CHECK(contains(small.out, "341"));
  CHECK(contains(small.out, "log Z"));
  const Result impossible = run_gfn("info --env hypergrid --reward impossible");
  CHECK(contains(impossible.out, "log-reward floor"));
}

TEST_CASE("cli: gfn info --json reports ising 3x3 (19683 states, log Z 16.5417)") {
  const Result ising = run_gfn("info --env ising --ising-size 3 --json");
  CHECK(ising.exit_code == 0);
  CHECK(contains(ising.out, "\"n_states\": 19683"));
  CHECK(contains(ising.out, "\"log_z\": 16.5416"));
  CHECK(contains(ising.out, "\"n_actions\": 18"));
  CHECK(contains(ising.out, "\"obs_dim\": 27"));
  const Result bad = run_gfn("info --env hypergrid --ising-size 3");
  CHECK(bad.exit_code == 2);
  check_one_line_error(bad, "--ising-size does not apply to --env hypergrid");
}

TEST_CASE("cli: gfn info rejects bad input with one error line and exit code 2") {
  for (const auto& [arguments, message] : std::vector<std::pair<std::string, std::string>>{
           {"info --env maze", "gfn: error: --env: unknown value 'maze'"},
           {"info --env bitseq --n 120 --k 7", "--k 7 does not divide --n 120"},
           {"info --env grid --ndim 3", "--ndim does not apply to --env grid"},
           {"info --env hypergrid --height 1", "--height"}}) {
    CAPTURE(arguments);
    const Result result = run_gfn(arguments);
    CHECK(result.exit_code == 2);
    check_one_line_error(result, message);
  }
}

}  // namespace

#endif  // GFN_CLI_PATH
