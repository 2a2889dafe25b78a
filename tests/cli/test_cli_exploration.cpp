// `gfn experiment exploration` through the real binary, shrunk to seconds (HyperGrid 8x8, 640 reward
// calls, one seed): every method runs, training runs spend the budget at the calls per iteration their
// settings imply (hand-counted below), the random baseline inside the experiment matches `gfn baseline
// random`, and the summary and the chart are written.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "support/cli_runner.hpp"

namespace {

using namespace gfn::testing;
using Result = CliResult;

// summary.csv line of (method, at_calls): the fields, or empty.
std::vector<std::string> summary_row(const std::string& csv, const std::string& method, const std::string& at_calls) {
  for (const std::vector<std::string>& fields : csv_lines(csv))
    if (fields.size() > 4 && fields[1] == method && fields[4] == at_calls) return fields;
  return {};
}

}  // namespace

TEST_CASE("cli: experiment exploration, shrunk: every method, budgets in reward calls, summary and chart") {
  const std::string dir = scratch_dir("exploration");
  const Result run = run_gfn("experiment exploration --envs hypergrid-8x8 --budget 640 --eval-every 160 --seeds 0 "
                             "--threads 1 --out " + dir);
  REQUIRE(run.exit_code == 0);
  const std::string csv = read_file(dir + "/summary.csv");
  // environment,method,seed,n_modes,at_calls,reward_calls,iteration,modes_found,l1_empirical,l1_exact,wall_s
  REQUIRE(csv.rfind("environment,method,seed,n_modes,at_calls,reward_calls,iteration,modes_found,", 0) == 0);
  // Calls per iteration with 16 trajectories, 4 of them uniform draws (HyperGrid's default): tb and db 16
  // (40 iterations); tb-ls 12 fresh + 12 proposals + 4 draws (23 iterations, 644 calls); tb-replay 4 fresh
  // + 4 draws once the buffer is filled, 16 in the first iteration (80 iterations: 16 + 79 x 8 = 648 calls). Baselines: random 40 draws of 16; mcmc 16 starting objects, then 39 steps of
  // 16 chains (every 8x8 state has a neighbour, so every chain proposes).
  for (const auto& [method, calls, iterations] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"tb", "640", "40"}, {"db", "640", "40"}, {"tb-ls", "644", "23"}, {"tb-replay", "648", "80"},
           {"random", "640", "40"}, {"mcmc", "640", "39"}}) {
    CAPTURE(method);
    const std::vector<std::string> last = summary_row(csv, method, "640");
    REQUIRE(last.size() == 11);
    CHECK(last[3] == "4");
    CHECK(last[5] == calls);
    CHECK(last[6] == iterations);
    CHECK(!summary_row(csv, method, "64").empty());
    CHECK(!summary_row(csv, method, "192").empty());
  }
  // The random baseline inside the experiment is `gfn baseline random` with the same seed.
  const Result baseline = run_gfn("baseline random --env hypergrid --ndim 2 --height 8 --R0 0.001 --budget 640 "
                                  "--eval-every 160 --seed 0 --json");
  REQUIRE(baseline.exit_code == 0);
  CHECK(summary_row(csv, "random", "640")[7] == json_value(baseline.out, "modes_found"));
  const std::string markdown = read_file(dir + "/summary.md");
  for (const char* method : {"| tb |", "| tb-replay |", "| tb-ls |", "| db |", "| mcmc |", "| random |"})
    CHECK(markdown.find(method) != std::string::npos);
  CHECK(std::filesystem::exists(dir + "/hypergrid-8x8.svg"));
  CHECK(std::filesystem::exists(dir + "/hypergrid-8x8-tb-seed0/checkpoint.bin"));
  CHECK(std::filesystem::exists(dir + "/hypergrid-8x8-mcmc-seed0/metrics.csv"));
  const Result unknown = run_gfn("experiment exploration --envs moon --out " + dir);
  check_one_line_error(unknown, "unknown --envs entry 'moon'");
}
