// The exit-code convention of the real `gfn` binary, one case per kind of failure: 2 for usage errors
// (one line naming the command's --help), 1 for runtime failures (one line), 0 for success. 130 after an
// interrupt is tested in test_cli_interrupts.cpp. The convention itself is in cli/command_line.cpp and
// in `gfn --help`.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include <sys/stat.h>

#include "support/cli_runner.hpp"

namespace {

using namespace gfn::testing;
using Result = CliResult;

struct Case {
  std::string arguments, message;
};

void check_exit(const Case& c, int expected_code, const std::string& help_hint) {
  CAPTURE(c.arguments);
  const Result result = run_gfn(c.arguments);
  CHECK(result.exit_code == expected_code);
  check_one_line_error(result, c.message);
  CHECK(contains(result.err, "gfn: error: "));
  if (!help_hint.empty()) CHECK(contains(result.err, help_hint));
  else CHECK(!contains(result.err, "--help"));
}

}  // namespace

TEST_CASE("cli: usage errors exit with 2 and name the command's --help") {
  const Case train_cases[] = {
      {"train --no-such-flag", "--no-such-flag"},
      {"train --lr abc", "--lr: malformed value 'abc'"},
      {"train --lr", "--lr"},
      // Too large for its type: the range the flag accepts, not the type's.
      {"train --hidden 99999999999", "--hidden: 99999999999 is out of range (an integer from 1 to 1048576)"},
      {"train --iters 9223372036854775808", "--iters: 9223372036854775808 is out of range (an integer from 1 to 2^63 - 1)"},
      {"train --seed 18446744073709551616", "--seed: 18446744073709551616 is out of range (an integer from 0 to 2^64 - 1)"},
      {"train --seed -1", "--seed: -1 is out of range (an integer from 0 to 2^64 - 1)"},
      {"train --lr 1e999", "--lr: 1e999 is out of range (a finite number, positive)"},
      // NaN is the table's "auto": typed, it is refused as typed, never read as the default.
      {"train --R0 nan", "--R0: nan is not a number (a finite number, non-negative, or auto)"},
      {"train --lr NaN", "--lr: NaN is not a number (a finite number, positive)"},
      {"train --lr inf", "--lr: inf is out of range (a finite number, positive)"},
      {"train --iters 0", "--iters must be at least 1 (got 0)"},
      {"train --epsilon 2", "--epsilon must be in [0, 1] (got 2)"},
      {"train --loss nope", "--loss: unknown value 'nope'"},
      {"train --env grid --ndim 3", "--ndim does not apply to --env grid"},
      // The largest int64 is a valid --iters; the run stops at the next bad flag instead.
      {"train --iters 9223372036854775807 --lr -1", "--lr must be"},
  };
  for (const Case& c : train_cases) check_exit(c, 2, "(see gfn train --help)");
  check_exit({"info --env maze", "--env: unknown value 'maze'"}, 2, "(see gfn info --help)");
  check_exit({"sample", "--checkpoint is required"}, 2, "(see gfn sample --help)");
  check_exit({"eval --checkpoint x --n 0", "--n: 0 is out of range (an integer from 1 to 100000000)"}, 2,
             "(see gfn eval --help)");
  // Number flags outside the settings table use its parser: never clamped to their type.
  check_exit({"sample --checkpoint x --seed -1", "--seed: -1 is out of range (an integer from 0 to 2^64 - 1)"}, 2,
             "(see gfn sample --help)");
  check_exit({"baseline mcmc --budget 99999999999999999999",
              "--budget: 99999999999999999999 is out of range (an integer from 1 to 2^63 - 1)"},
             2, "(see gfn baseline --help)");
  check_exit({"experiment hypergrid-tlm --seeds 0,18446744073709551616",
              "--seeds: 18446744073709551616 is out of range (an integer from 0 to 2^64 - 1)"},
             2, "(see gfn experiment --help)");
  check_exit({"frobnicate", "unknown command 'frobnicate'"}, 2, "(see gfn --help)");
  check_exit({"", "subcommand"}, 2, "(see gfn --help)");
}

TEST_CASE("cli: runtime failures exit with 1 in one line, without a --help hint") {
  const std::string dir = scratch_dir("exit-codes");
  std::ofstream(dir + "/text.bin") << "not a checkpoint\n";
  REQUIRE(::mkfifo((dir + "/fifo").c_str(), 0644) == 0);
  const Case cases[] = {
      {"eval --checkpoint " + dir, "not a regular file"},  // a directory
      {"eval --checkpoint " + dir + "/fifo", "not a regular file"},  // refused before any read would block
      {"eval --checkpoint /dev/zero", "not a regular file"},        // refused before an endless read
      {"sample --checkpoint " + dir + "/missing.bin", "cannot open file"},
      {"sample --checkpoint " + dir + "/text.bin", "not a gfn checkpoint"},
      {"train --quiet --resume " + dir, "not a regular file"},
      {"train --quiet --hidden 8 --iters 20 --lr 1e30", "training diverged at iteration"},
      {"train --quiet --hidden 8 --iters 2 --out /proc/gfn-cannot-write", "--out"},
  };
  for (const Case& c : cases) check_exit(c, 1, "");
}

TEST_CASE("cli: success exits with 0, and gfn --help states the exit codes") {
  const Result help = run_gfn("--help");
  CHECK(help.exit_code == 0);
  CHECK(contains(help.out, "Exit codes: 0 success; 2 usage error"));
  CHECK(contains(help.out, "130 interrupted"));
  CHECK(run_gfn("train --help").exit_code == 0);
  CHECK(run_gfn("--version").exit_code == 0);
  const std::string dir = scratch_dir("exit-codes-success");
  CHECK(run_gfn("train --quiet --hidden 8 --iters 2 --out " + dir).exit_code == 0);
  CHECK(run_gfn("sample --n 2 --checkpoint " + dir + "/checkpoint.bin").exit_code == 0);
  CHECK(!read_file(dir + "/metrics.csv").empty());
}
