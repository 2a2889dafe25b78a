// Runs of the real `gfn` binary that are interrupted: SIGINT stops after the iteration with a checkpoint
// and exit code 130; SIGKILL at random moments (20 times) leaves a checkpoint that loads and a
// metrics.csv of whole rows; in every case --resume reaches the numbers of an uninterrupted run exactly.
// Also: --out holding another run is refused, --force overwrites, and a setting added to the table
// (--max-grad-norm) shows in help, config.json, validation and the resume check.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>

#include "support/cli_runner.hpp"

namespace {

using namespace gfn::testing;
using Result = CliResult;

// Starts `gfn train <arguments>` (output to files in `dir`), sends `signal_number` after `delay` (and,
// when `after_first_row`, once dir/metrics.csv has a row, so the run is past its start-up), and returns
// the wait status.
int train_and_signal(std::vector<std::string> arguments, const std::string& dir, int signal_number,
                     std::chrono::milliseconds delay, bool after_first_row = false) {
  arguments.insert(arguments.begin(), "train");
  const pid_t child = start_gfn(arguments, dir + "/stdout", dir + "/stderr");
  for (int wait = 0; after_first_row && wait < 2000; ++wait) {
    const std::string csv = read_file(dir + "/metrics.csv");
    if (count_lines(csv) >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(delay);
  ::kill(child, signal_number);
  int status = 0;
  ::waitpid(child, &status, 0);
  return status;
}

// Every line ends with a newline and has the header's number of fields.
bool whole_rows(const std::string& csv) {
  if (csv.empty() || csv.back() != '\n') return false;
  const auto lines = csv_lines(csv);
  return std::all_of(lines.begin(), lines.end(), [&](const auto& line) { return line.size() == lines[0].size(); });
}

// metrics.csv without its wall_s column (the one value that depends on the clock).
std::string without_wall_time(const std::string& csv) {
  const auto lines = csv_lines(csv);
  std::string kept;
  for (const auto& line : lines) {
    for (size_t column = 0; column < line.size(); ++column)
      if (column >= lines[0].size() || lines[0][column] != "wall_s") kept += line[column] + ",";
    kept += "\n";
  }
  return kept;
}

const std::vector<std::string> kRun = {"--hidden", "64", "--batch", "32", "--iters", "400", "--eval-every", "10",
                                       "--threads", "1", "--quiet"};
const char* const kCompared[] = {"iteration", "trajectories", "transitions", "train_loss", "log_z",
                                 "l1_exact", "l1_empirical", "modes_found"};

std::string joined(const std::vector<std::string>& arguments) {
  std::string text;
  for (const std::string& argument : arguments) text += " " + argument;
  return text;
}

}  // namespace

TEST_CASE("cli: SIGINT, and SIGKILL at random moments, lose nothing that --resume cannot recover exactly") {
  const std::string reference_dir = scratch_dir("reference");
  const Result reference = run_gfn("train" + joined(kRun) + " --json --out " + reference_dir);
  REQUIRE(reference.exit_code == 0);

  // SIGINT: the run stops after its iteration, saves, says how to resume and exits with 130.
  const std::string interrupted = scratch_dir("sigint");
  std::vector<std::string> arguments = kRun;
  arguments.insert(arguments.end(), {"--out", interrupted});
  const int status = train_and_signal(arguments, interrupted, SIGINT, std::chrono::milliseconds(20), true);
  REQUIRE(WIFEXITED(status));
  const std::string message = read_file(interrupted + "/stderr");
  if (WEXITSTATUS(status) == 0) {
    MESSAGE("the run finished before SIGINT arrived; nothing to resume");
  } else {
    CHECK(WEXITSTATUS(status) == 130);
    CHECK(message.find("continue with: gfn train --resume " + interrupted + "/checkpoint.bin") != std::string::npos);
  }
  const Result resumed = run_gfn("train --resume " + interrupted + "/checkpoint.bin --out " + interrupted +
                             " --threads 1 --quiet --json");
  REQUIRE(resumed.exit_code == 0);
  for (const char* key : kCompared) {
    CAPTURE(key);
    CHECK(json_value(resumed.out, key) == json_value(reference.out, key));
  }
  const std::string reference_metrics = without_wall_time(read_file(reference_dir + "/metrics.csv"));
  CHECK(count_lines(reference_metrics) == 41);  // header + 40 evaluations
  CHECK(without_wall_time(read_file(interrupted + "/metrics.csv")) == reference_metrics);

  // SIGKILL 20 times at random moments of the run (training, evaluation or a checkpoint write).
  constexpr int kKills = 20;
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> moment(20, 700);
  int killed_before_first_checkpoint = 0, killed = 0;
  for (int trial = 0; trial < kKills; ++trial) {
    const std::string dir = scratch_dir("sigkill-" + std::to_string(trial));
    std::vector<std::string> run = kRun;
    run.insert(run.end(), {"--out", dir});
    const int kill_status = train_and_signal(run, dir, SIGKILL, std::chrono::milliseconds(moment(random)));
    killed += WIFSIGNALED(kill_status);
    CAPTURE(trial);
    const std::string csv = read_file(dir + "/metrics.csv");
    if (!csv.empty()) CHECK(whole_rows(csv));
    std::string resume;
    if (std::filesystem::exists(dir + "/checkpoint.bin")) {
      CHECK(run_gfn("eval --checkpoint " + dir + "/checkpoint.bin --n 10").exit_code == 0);  // it loads
      resume = "train --resume " + dir + "/checkpoint.bin --out " + dir + " --threads 1 --quiet --json";
    } else {
      ++killed_before_first_checkpoint;
      resume = "train" + joined(kRun) + " --json --out " + dir;  // nothing to resume yet: start again
    }
    const Result finished = run_gfn(resume);
    REQUIRE(finished.exit_code == 0);
    for (const char* key : kCompared) {
      CAPTURE(key);
      CHECK(json_value(finished.out, key) == json_value(reference.out, key));
    }
    CHECK(without_wall_time(read_file(dir + "/metrics.csv")) == reference_metrics);
    CHECK(whole_rows(read_file(dir + "/metrics.csv")));
  }
  MESSAGE(killed << " of " << kKills << " runs were killed mid-run, " << killed_before_first_checkpoint
                 << " before their first checkpoint");
}

TEST_CASE("cli: --out holding a run is refused unless --resume continues it or --force overwrites it") {
  const std::string dir = scratch_dir("collision");
  const std::string run = "train --hidden 16 --iters 20 --eval-every 10 --quiet --out " + dir;
  REQUIRE(run_gfn(run).exit_code == 0);
  const Result same = run_gfn(run);
  CHECK(same.exit_code != 0);
  CHECK(same.err.find("continue it with --resume") != std::string::npos);
  const Result other = run_gfn(run + " --lr 0.01");
  CHECK(other.exit_code != 0);
  CHECK(other.err.find("holds a run of another configuration") != std::string::npos);
  CHECK(read_file(dir + "/config.json").find("\"lr\": 0.001") != std::string::npos);  // untouched
  CHECK(run_gfn(run + " --lr 0.01 --force").exit_code == 0);
  CHECK(read_file(dir + "/config.json").find("\"lr\": 0.01") != std::string::npos);
}

TEST_CASE("cli: a setting of the table reaches help, config.json, validation and the resume check") {
  const Result help = run_gfn("train --help");
  CHECK(help.out.find("--max-grad-norm") != std::string::npos);
  const Result bad = run_gfn("train --max-grad-norm -1 --quiet");
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("--max-grad-norm must be non-negative (got -1)") != std::string::npos);
  const std::string dir = scratch_dir("setting");
  REQUIRE(run_gfn("train --hidden 16 --iters 10 --eval-every 5 --max-grad-norm 2.5 --quiet --out " + dir).exit_code == 0);
  CHECK(read_file(dir + "/config.json").find("\"max_grad_norm\": 2.5") != std::string::npos);
  const Result mismatch = run_gfn("train --resume " + dir + "/checkpoint.bin --max-grad-norm 3 --iters 20 --quiet");
  CHECK(mismatch.exit_code != 0);
  CHECK(mismatch.err.find("--max-grad-norm 3 does not match the checkpoint (2.5)") != std::string::npos);
  CHECK(run_gfn("train --resume " + dir + "/checkpoint.bin --max-grad-norm 2.5 --iters 20 --quiet").exit_code == 0);
}
