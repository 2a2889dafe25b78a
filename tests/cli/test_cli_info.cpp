// `gfn info` end to end (needs the gfn binary, GFN_CLI_PATH): the JSON keys and values for
// hypergrid 20^4, grid and bitseq, and one-line usage errors with exit code 2 on bad input.
// Skipped when the suite is built without the command (GFN_BUILD_CLI=OFF).
#include <doctest/doctest.h>

#ifdef GFN_CLI_PATH

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace gfn {
namespace {

struct CommandResult {
  std::string output;  // stdout and stderr
  int exit_code;
};

CommandResult run_gfn(const std::string& arguments) {
  const std::string command = std::string(GFN_CLI_PATH) + " " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  CommandResult result;
  char buffer[4096];
  while (size_t read = std::fread(buffer, 1, sizeof buffer, pipe)) result.output.append(buffer, read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("envs: gfn info --json reports hypergrid 20^4 standard") {
  const CommandResult result = run_gfn("info --env hypergrid --ndim 4 --height 20 --reward standard --json");
  CHECK(result.exit_code == 0);
  CHECK(contains(result.output, "\"env\": \"hypergrid\""));
  CHECK(contains(result.output, "\"n_states\": 160000"));
  CHECK(contains(result.output, "\"log_z\": 8.6432"));
  CHECK(contains(result.output, "\"n_modes\": 256"));
  CHECK(contains(result.output, "\"n_actions\": 5"));
  CHECK(contains(result.output, "\"obs_dim\": 80"));
  CHECK(result.output.find('\n') == result.output.size() - 1);  // one JSON object, one line
}

TEST_CASE("envs: gfn info on grid, bitseq, bitseq-ar and the impossible preset") {
  const CommandResult grid = run_gfn("info --env grid --json");
  CHECK(contains(grid.output, "\"obs_dim\": 256"));
  CHECK(contains(grid.output, "\"log_z\": 3.7509"));
  const CommandResult bitseq = run_gfn("info --env bitseq --json");
  CHECK(contains(bitseq.output, "\"n_states\": null"));
  CHECK(contains(bitseq.output, "\"log_z\": null"));
  CHECK(contains(bitseq.output, "\"n_modes\": 60"));
  CHECK(contains(bitseq.output, "\"n_actions\": 3840"));
  CHECK(contains(bitseq.output, "\"obs_dim\": 3855"));
  const CommandResult small = run_gfn("info --env bitseq-ar --n 8 --k 2");
  CHECK(small.exit_code == 0);
  CHECK(contains(small.output, "341"));
  CHECK(contains(small.output, "log Z"));
  const CommandResult impossible = run_gfn("info --env hypergrid --reward impossible");
  CHECK(contains(impossible.output, "log-reward floor"));
}

TEST_CASE("envs: gfn info rejects bad input with one error line and exit code 2") {
  const CommandResult unknown = run_gfn("info --env maze");
  CHECK(unknown.exit_code == 2);
  CHECK(contains(unknown.output, "gfn: error: --env: unknown value 'maze'"));
  const CommandResult divide = run_gfn("info --env bitseq --n 120 --k 7");
  CHECK(divide.exit_code == 2);
  CHECK(contains(divide.output, "--k 7 does not divide --n 120"));
  const CommandResult foreign = run_gfn("info --env grid --ndim 3");
  CHECK(foreign.exit_code == 2);
  CHECK(contains(foreign.output, "--ndim does not apply to --env grid"));
  CHECK(run_gfn("info --env hypergrid --height 1").exit_code != 0);
}

}  // namespace
}  // namespace gfn

#endif  // GFN_CLI_PATH
