// Tests of the `gfn` command through the real binary: help and version, train --json, resume that is
// bit-identical to an uninterrupted run, sample and eval, one-line errors for bad flags, and
// checkpoints that are truncated, corrupted, of another version or of another environment, and smoke
// runs of both experiment protocols.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/evaluation/metrics.hpp"
#include "core/run/session.hpp"
#include "support/cli_runner.hpp"

namespace {

using namespace gfn::testing;
using Result = CliResult;

const std::string kSmallRun = "train --env hypergrid --ndim 2 --height 8 --reward medium --hidden 32 --quiet";

// The last metrics row of the run with these settings ("key=value" lines) through the library: the
// numbers the command must print (runs are bit-identical on any thread count; the JSON keeps 10
// significant digits).
gfn::MetricsRow library_run(const std::string& settings) {
  gfn::Session session(gfn::from_text(settings));
  session.train();
  return session.history().back();
}

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
  // The exact L1 and log Z are the library's for the same seeded run.
  const gfn::MetricsRow expected = library_run("env=hypergrid\nndim=2\nheight=8\nreward=medium\nhidden=32\n"
                                               "iters=60\nbatch=8\n");
  CHECK(std::stod(json_value(run.out, "l1_exact")) == doctest::Approx(expected.l1_exact).epsilon(1e-9));
  CHECK(std::stod(json_value(run.out, "log_z")) == doctest::Approx(expected.log_z).epsilon(1e-9));
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
  const Result run = run_gfn(kSmallRun + " --iters 30 --json --out " + dir);
  REQUIRE(run.exit_code == 0);
  const Result samples = run_gfn("sample --checkpoint " + dir + "/checkpoint.bin --n 7");
  CHECK(samples.exit_code == 0);
  CHECK(count_lines(samples.out) == 7);
  CHECK(samples.out.find("log R") != std::string::npos);
  const Result evaluation = run_gfn("eval --checkpoint " + dir + "/checkpoint.bin --json --n 100");
  CHECK(evaluation.exit_code == 0);
  // The exact L1 of the checkpoint's policy: the one the run reported when it saved at iteration 30.
  CHECK(std::stod(json_value(evaluation.out, "l1_exact")) ==
        doctest::Approx(std::stod(json_value(run.out, "l1_exact"))).epsilon(1e-9));
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
    check_one_line_error(run_gfn(arguments + (arguments.rfind("train", 0) == 0 ? " --quiet" : "")), flag);
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
    for (const std::string& command : {"sample --checkpoint " + path, "train --quiet --resume " + path})
      check_one_line_error(run_gfn(command), message);
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

// The same seeded BitSeq run through the library.
gfn::MetricsRow library_bitseq_run(const std::string& pb) {
  return library_run("env=bitseq\nn=16\nk=4\nhidden=32\niters=20\neval_every=10\npb=" + pb + "\n");
}

TEST_CASE("cli: BitSeq training reports the modes found and the test-set rank correlation the library computes") {
  const Result run = run_gfn("train --env bitseq --n 16 --k 4 --hidden 32 --iters 20 --eval-every 10 --json --quiet");
  REQUIRE(run.exit_code == 0);
  const gfn::MetricsRow expected = library_bitseq_run("uniform");
  REQUIRE(std::isfinite(expected.spearman));
  CHECK(std::stod(json_value(run.out, "spearman")) == doctest::Approx(expected.spearman).epsilon(1e-9));
  CHECK(std::stoll(json_value(run.out, "modes_found")) == expected.modes_found);
  CHECK(json_value(run.out, "n_modes") == "25");  // the documented default mode rule for n = 16

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
  const std::string experiment = "experiment hypergrid-tlm --rewards standard --algos tb,soft-dqn --pb uniform,tlm "
                                 "--iters 20 --eval-every 10 --out " + dir;
  REQUIRE(run_gfn(experiment).exit_code == 0);
  const std::string summary = read_file(dir + "/summary.csv");
  CHECK(count_lines(summary) == 5);  // header + 2 objectives x 2 backward policies
  for (const char* row : {"tb,uniform", "tb,tlm", "soft-dqn,uniform", "soft-dqn,tlm"})
    CHECK(contains(summary, row));
  CHECK(std::filesystem::exists(dir + "/summary.md"));
  CHECK(std::filesystem::exists(dir + "/hypergrid-standard.svg"));
  CHECK(std::filesystem::exists(dir + "/hypergrid-standard-tb-tlm-seed0/metrics.csv"));
  CHECK(run_gfn("experiment no-such-protocol --out " + dir).exit_code != 0);

  // Started again, the finished runs are read back, not retrained: the same summary.
  const Result again = run_gfn(experiment);
  REQUIRE(again.exit_code == 0);
  CHECK(again.out.find("read hypergrid-standard-tb-tlm-seed0") != std::string::npos);
  CHECK(again.out.find("done ") == std::string::npos);
  CHECK(read_file(dir + "/summary.csv") == summary);
  // Another configuration in the same directory is refused, and the finished run is kept.
  const Result other = run_gfn("experiment hypergrid-tlm --rewards standard --algos tb --pb uniform --iters 20 "
                           "--eval-every 5 --out " + dir);
  check_one_line_error(other, "holds a run of another configuration");
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
  const std::vector<std::string> fields = csv_lines(summary)[1];
  REQUIRE(fields.size() == 13);
  CHECK(fields[4] == "60");
  CHECK(fields[5] == "3");
  CHECK(fields[6] == "48");
  // The summary quotes the spearman of the run's last metrics row (printed to 6 digits there).
  const auto metrics = csv_lines(read_file(dir + "/bitseq-tb-uniform-seed0/metrics.csv"));
  const std::vector<std::string>& names = metrics.front();
  const std::vector<std::string>& values = metrics.back();
  REQUIRE(values.size() == names.size());
  const double run_spearman = std::stod(values[csv_column(names, "spearman")]);
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
