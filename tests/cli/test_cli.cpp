// Tests of the `gfn` command through the real binary: help and version, train --json, resume that is
// bit-identical to an uninterrupted run, sample and eval, one-line errors for bad flags, and
// checkpoints that are truncated, corrupted, of another version or of another environment, and smoke
// runs of both experiment protocols.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/evaluation/metrics.hpp"
#include "core/run/session.hpp"
#include "support/cli_runner.hpp"

namespace {

using gfn::testing::json_value;
using gfn::testing::run_gfn;
using gfn::testing::read_file;
using gfn::testing::scratch_dir;
using Result = gfn::testing::CliResult;

int count_lines(const std::string& text) { return int(std::count(text.begin(), text.end(), '\n')); }

const std::string kSmallRun = "train --env hypergrid --ndim 2 --height 8 --reward medium --hidden 32 --quiet";

}  // namespace

TEST_CASE("cli: --help lists the subcommands and --version prints the version") {
  const Result help = run_gfn("--help");
  CHECK(help.exit_code == 0);
  for (const char* command : {"demo", "info", "train", "sample", "eval"}) CHECK(help.out.find(command) != std::string::npos);
  const Result train_help = run_gfn("train --help");
  CHECK(train_help.exit_code == 0);
  for (const char* flag : {"--loss", "--pb", "--batch", "--resume", "--sf-bias", "--threads"})
    CHECK(train_help.out.find(flag) != std::string::npos);
  const Result version = run_gfn("--version");
  CHECK(version.exit_code == 0);
  CHECK(version.out.find("gfn 0.") != std::string::npos);
}

TEST_CASE("cli: train --json reports the run and its exact metrics") {
  const Result run = run_gfn(kSmallRun + " --iters 60 --batch 8 --json");
  REQUIRE(run.exit_code == 0);
  CHECK(json_value(run.out, "iteration") == "60");
  CHECK(json_value(run.out, "trajectories") == "480");
  // log Z of HyperGrid 8x8 (0.1, 0.5, 2), from the table of docs/environments.md
  CHECK(std::stod(json_value(run.out, "true_log_z")) == doctest::Approx(3.109061).epsilon(1e-6));
  const double l1 = std::stod(json_value(run.out, "l1_exact"));
  CHECK(l1 >= 0);
  CHECK(l1 <= 2);
  CHECK(json_value(run.out, "loss") == "\"tb\"");  // the objective; its value is train_loss
  for (const char* key : {"transitions", "wall_s", "transitions_per_s", "train_loss", "log_z", "jsd_exact",
                          "l1_empirical", "modes_found", "n_modes", "threads", "seed"})
    CHECK(json_value(run.out, key).rfind("<missing", 0) != 0);
  CHECK(run.err.empty());  // --quiet
}

TEST_CASE("cli: a resumed run is bit-identical to an uninterrupted one") {
  const std::string full = scratch_dir("full"), half = scratch_dir("half"), resumed = scratch_dir("resumed");
  const Result uninterrupted = run_gfn(kSmallRun + " --iters 40 --eval-every 10 --json --out " + full);
  REQUIRE(uninterrupted.exit_code == 0);
  REQUIRE(run_gfn(kSmallRun + " --iters 20 --eval-every 10 --out " + half).exit_code == 0);
  const Result continued = run_gfn("train --quiet --json --resume " + half + "/checkpoint.bin --iters 40 --out " + resumed);
  REQUIRE(continued.exit_code == 0);
  for (const char* key : {"train_loss", "log_z", "l1_exact", "jsd_exact", "l1_empirical", "trajectories", "transitions"})
    CHECK(json_value(continued.out, key) == json_value(uninterrupted.out, key));
  CHECK(read_file(full + "/metrics.csv").size() > 0);
  for (const char* file : {"config.json", "metrics.csv", "checkpoint.bin", "curve.svg", "heatmap.svg"})
    CHECK(std::filesystem::exists(resumed + "/" + file));
  // The plots name their axes, mark the origin and share one colour scale.
  const std::string curve = read_file(resumed + "/curve.svg"), heatmap = read_file(resumed + "/heatmap.svg");
  for (const char* text : {">train_loss (mean since the previous row) (log scale)<", ">L1 distance to R/Z (log scale)<",
                           ">iteration<", ">l1_exact<"})
    CHECK(curve.find(text) != std::string::npos);
  for (const char* text : {"coordinate 0 &#8594;", "coordinate 1 &#8594;", ">s0<", ">probability<"})
    CHECK(heatmap.find(text) != std::string::npos);
  // metrics.csv: a header and one row per evaluation (iterations 10, 20, 30, 40).
  CHECK(count_lines(read_file(resumed + "/metrics.csv")) == 5);
}

TEST_CASE("cli: sample and eval read a checkpoint") {
  const std::string dir = scratch_dir("use");
  REQUIRE(run_gfn(kSmallRun + " --iters 30 --out " + dir).exit_code == 0);
  const Result samples = run_gfn("sample --checkpoint " + dir + "/checkpoint.bin --n 7");
  CHECK(samples.exit_code == 0);
  CHECK(count_lines(samples.out) == 7);
  CHECK(samples.out.find("log R") != std::string::npos);
  const Result evaluation = run_gfn("eval --checkpoint " + dir + "/checkpoint.bin --json --n 100");
  CHECK(evaluation.exit_code == 0);
  CHECK(std::stod(json_value(evaluation.out, "l1_exact")) >= 0);
  CHECK(json_value(evaluation.out, "n_modes") == "4");
}

TEST_CASE("cli: every bad flag gives one line naming it and a non-zero exit") {
  const std::pair<std::string, std::string> cases[] = {
      {"train --lr 0", "--lr"},
      {"train --lr -1", "--lr"},
      {"train --batch 0", "--batch"},
      {"train --hidden -3", "--hidden"},
      {"train --env foo", "--env"},
      {"train --loss foo", "--loss"},
      {"train --pb foo", "--pb"},
      {"train --policy foo", "--policy"},
      {"train --reward foo", "--reward"},
      {"train --env hypergrid --height 1", "--height"},
      {"train --env hypergrid --ndim 0", "--ndim"},
      {"train --env bitseq --n 120 --k 7", "--k"},
      {"train --epsilon 2", "--epsilon"},
      {"train --temperature 0", "--temperature"},
      {"train --iters 0", "--iters"},
      {"train --out /proc/gfn-cannot-write", "--out"},
      {"train --no-such-flag", "--no-such-flag"},
      {"sample --checkpoint /nonexistent/checkpoint.bin", "/nonexistent/checkpoint.bin"},  // names the file
  };
  for (const auto& [arguments, flag] : cases) {
    CAPTURE(arguments);
    const Result result = run_gfn(arguments + (arguments.rfind("train", 0) == 0 ? " --quiet" : ""));
    CHECK(result.exit_code != 0);
    CHECK(count_lines(result.err) == 1);
    CHECK(result.err.find(flag) != std::string::npos);
  }
}

TEST_CASE("cli: truncated, corrupted, wrong-version and wrong-environment checkpoints are refused") {
  const std::string dir = scratch_dir("checkpoints");
  REQUIRE(run_gfn(kSmallRun + " --iters 5 --out " + dir).exit_code == 0);
  const std::string good = read_file(dir + "/checkpoint.bin");
  REQUIRE(good.size() > 100);
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
    return dir + "/" + name;
  };
  std::string corrupted = good;
  corrupted[good.size() / 2] ^= 0x5a;
  std::string wrong_version = good;
  wrong_version[8] = 99;
  const std::pair<std::string, std::string> cases[] = {
      {write("truncated.bin", good.substr(0, good.size() / 3)), "truncated"},
      {write("empty.bin", ""), "not a gfn checkpoint"},
      {write("corrupted.bin", corrupted), "checksum"},
      {write("version.bin", wrong_version), "version 99"},
      {write("text.bin", "hello, world\n"), "not a gfn checkpoint"},
      {"/dev/zero", "not a regular file"},  // an endless device is refused before any read
  };
  for (const auto& [path, message] : cases) {
    CAPTURE(path);
    for (const std::string& command : {"sample --checkpoint " + path, "train --quiet --resume " + path}) {
      const Result result = run_gfn(command);
      CHECK(result.exit_code != 0);
      CHECK(count_lines(result.err) == 1);
      CHECK(result.err.find(message) != std::string::npos);
    }
  }
  const Result other_env = run_gfn("train --quiet --env grid --resume " + dir + "/checkpoint.bin");
  CHECK(other_env.exit_code != 0);
  CHECK(other_env.err.find("does not match the checkpoint") != std::string::npos);
  // Settings are compared as saved, not rounded: lr 1e-7 is not lr 2e-7.
  const std::string tiny = scratch_dir("tiny-lr");
  REQUIRE(run_gfn(kSmallRun + " --lr 2e-7 --iters 2 --eval-every 1 --out " + tiny).exit_code == 0);
  const Result other_lr = run_gfn("train --quiet --lr 1e-7 --iters 3 --resume " + tiny + "/checkpoint.bin");
  CHECK(other_lr.exit_code != 0);
  CHECK(other_lr.err.find("--lr 1e-07 does not match the checkpoint (2e-07)") != std::string::npos);
  CHECK(run_gfn("train --quiet --lr 2e-7 --iters 3 --resume " + tiny + "/checkpoint.bin").exit_code == 0);
  // Nothing was lost: the original checkpoint still loads.
  CHECK(run_gfn("sample --checkpoint " + dir + "/checkpoint.bin --n 1").exit_code == 0);
}

// The same seeded BitSeq run through the library: a Session gives the numbers the command must print
// (runs are bit-identical on any thread count; the JSON keeps 10 significant digits).
gfn::MetricsRow library_bitseq_run(const std::string& pb) {
  gfn::RunSettings settings;
  settings.env = "bitseq";
  settings.n = 16;
  settings.k = 4;
  settings.hidden = 32;
  settings.iters = 20;
  settings.eval_every = 10;
  settings.pb = pb;
  gfn::Session session(settings);
  session.train();
  return session.history().back();
}

TEST_CASE("cli: BitSeq training reports the modes found and the test-set rank correlation the library computes") {
  const Result run = run_gfn("train --env bitseq --n 16 --k 4 --hidden 32 --iters 20 --eval-every 10 --json --quiet");
  REQUIRE(run.exit_code == 0);
  const gfn::MetricsRow expected = library_bitseq_run("uniform");
  REQUIRE(std::isfinite(expected.spearman));
  CHECK(std::stod(json_value(run.out, "spearman")) == doctest::Approx(expected.spearman).epsilon(1e-9));
  CHECK(std::stoll(json_value(run.out, "modes_found")) == expected.modes_found);
  CHECK(json_value(run.out, "n_modes") == "25");  // the documented default mode rule for n = 16
  CHECK(expected.modes_found <= 25);

  // A TLM P_B adds the estimate with fill orders sampled from that P_B: another estimator, another value.
  const Result tlm = run_gfn("train --env bitseq --n 16 --k 4 --hidden 32 --pb tlm --iters 20 --eval-every 10 --json --quiet");
  REQUIRE(tlm.exit_code == 0);
  const gfn::MetricsRow expected_tlm = library_bitseq_run("tlm");
  CHECK(std::stod(json_value(tlm.out, "spearman")) == doctest::Approx(expected_tlm.spearman).epsilon(1e-9));
  CHECK(std::stod(json_value(tlm.out, "spearman_pb")) == doctest::Approx(expected_tlm.spearman_pb).epsilon(1e-9));
  CHECK(expected_tlm.spearman_pb != expected_tlm.spearman);
  CHECK(run.out.find("spearman_pb") == std::string::npos);  // uniform P_B: the two estimators coincide
}

TEST_CASE("cli: experiment hypergrid-tlm smoke run writes the runs, the summary and the curves") {
  const std::string dir = scratch_dir("experiment");
  const Result run = run_gfn("experiment hypergrid-tlm --rewards standard --algos tb,soft-dqn --pb uniform,tlm --iters 20 "
                         "--eval-every 10 --out " + dir);
  REQUIRE(run.exit_code == 0);
  const std::string summary = read_file(dir + "/summary.csv");
  CHECK(count_lines(summary) == 5);  // header + 2 objectives x 2 backward policies
  for (const char* row : {"tb,uniform", "tb,tlm", "soft-dqn,uniform", "soft-dqn,tlm"})
    CHECK(summary.find(row) != std::string::npos);
  CHECK(std::filesystem::exists(dir + "/summary.md"));
  CHECK(std::filesystem::exists(dir + "/hypergrid-standard.svg"));
  CHECK(std::filesystem::exists(dir + "/hypergrid-standard-tb-tlm-seed0/metrics.csv"));
  CHECK(run_gfn("experiment no-such-protocol --out " + dir).exit_code != 0);

  // Started again, the finished runs are read back, not retrained: the same summary.
  const Result again = run_gfn("experiment hypergrid-tlm --rewards standard --algos tb,soft-dqn --pb uniform,tlm "
                           "--iters 20 --eval-every 10 --out " + dir);
  REQUIRE(again.exit_code == 0);
  CHECK(again.out.find("read hypergrid-standard-tb-tlm-seed0") != std::string::npos);
  CHECK(again.out.find("done ") == std::string::npos);
  CHECK(read_file(dir + "/summary.csv") == summary);
  // Another configuration in the same directory is refused, and the finished run is kept.
  const Result other = run_gfn("experiment hypergrid-tlm --rewards standard --algos tb --pb uniform --iters 20 "
                           "--eval-every 5 --out " + dir);
  CHECK(other.exit_code != 0);
  CHECK(other.err.find("holds a run of another configuration") != std::string::npos);
  CHECK(count_lines(other.err) == 1);
  CHECK(read_file(dir + "/hypergrid-standard-tb-uniform-seed0/metrics.csv").find("\n20,") != std::string::npos);
}

TEST_CASE("cli: experiment bitseq-tlm smoke run reports modes and Spearman and draws both curves") {
  const std::string dir = scratch_dir("experiment-bitseq");
  const Result run = run_gfn("experiment bitseq-tlm --algos tb --pb uniform --iters 3 --eval-every 3 --out " + dir);
  REQUIRE(run.exit_code == 0);
  const std::string summary = read_file(dir + "/summary.csv");
  REQUIRE(count_lines(summary) == 2);
  // environment,loss,pb,seed,n_modes,iteration,trajectories,l1_empirical_mean,l1_exact,modes_found,spearman,
  // spearman_pb,wall_s
  std::vector<std::string> fields;
  std::stringstream row(summary.substr(summary.find('\n') + 1));
  for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
  REQUIRE(fields.size() == 13);
  CHECK(fields[4] == "60");
  CHECK(fields[5] == "3");
  CHECK(fields[6] == "48");
  // The summary quotes the spearman of the run's last metrics row (printed to 6 digits there).
  std::stringstream metrics(read_file(dir + "/bitseq-tb-uniform-seed0/metrics.csv"));
  std::string header, line, last_row;
  std::getline(metrics, header);
  while (std::getline(metrics, line)) last_row = line;
  auto split = [](const std::string& text) {
    std::vector<std::string> parts;
    std::stringstream stream(text);
    for (std::string part; std::getline(stream, part, ',');) parts.push_back(part);
    return parts;
  };
  const std::vector<std::string> names = split(header), values = split(last_row);
  const auto column = std::find(names.begin(), names.end(), "spearman");
  REQUIRE(column != names.end());
  REQUIRE(values.size() == names.size());
  const double run_spearman = std::stod(values[column - names.begin()]);
  REQUIRE(std::isfinite(run_spearman));
  CHECK(std::stod(fields[10]) == doctest::Approx(run_spearman).epsilon(1e-5));
  CHECK(fields[11] == "");  // uniform P_B: no second estimator
  CHECK(std::filesystem::exists(dir + "/bitseq.svg"));
  CHECK(std::filesystem::exists(dir + "/bitseq-spearman.svg"));
}

TEST_CASE("cli: idle OpenMP threads sleep (OMP_WAIT_POLICY=passive) unless the caller chose a policy") {
#ifdef _OPENMP
  unsetenv("OMP_WAIT_POLICY");
  const Result chosen_for_you = run_gfn("info --json");
  REQUIRE(chosen_for_you.exit_code == 0);
  CHECK(chosen_for_you.out.find("\"openmp_wait_policy\": \"passive\"") != std::string::npos);
  setenv("OMP_WAIT_POLICY", "active", 1);
  const Result kept = run_gfn("info --json");
  unsetenv("OMP_WAIT_POLICY");
  REQUIRE(kept.exit_code == 0);
  CHECK(kept.out.find("\"openmp_wait_policy\": \"active\"") != std::string::npos);
#else
  MESSAGE("skipped: built without OpenMP, the command runs serially and sets no wait policy");
#endif
}
