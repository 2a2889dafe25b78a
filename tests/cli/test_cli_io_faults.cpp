// I/O faults through the real `gfn` binary: --out that cannot be a directory (a path under a file, a
// file, /proc), and a disk that fills while a run writes (a write to /dev/full fails with ENOSPC; the
// run's temporary file is made a link to it). Each gives one error line and exit code 1, leaves the
// previous checkpoint byte for byte, removes its temporary file, and the run continues from that
// checkpoint to the numbers of an uninterrupted run. A directory without write permission is tried
// only when not running as root (root writes anyway).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "support/cli_runner.hpp"

namespace {

using namespace gfn::testing;
using Result = CliResult;

const std::string kRun = "train --quiet --hidden 16 --batch 8 --eval-every 5 --threads 1";

// A runtime failure: exit code 1 and one line naming it.
void check_failure(const Result& result, const std::string& message) {
  CHECK(result.exit_code == 1);
  check_one_line_error(result, message);
}

}  // namespace

TEST_CASE("cli: --out that cannot be a directory is one line and exit code 1") {
  const std::string dir = scratch_dir("io-out");
  std::ofstream(dir + "/file") << "a file\n";
  for (const std::string& out : {dir + "/file", dir + "/file/run", std::string("/proc/gfn-run")}) {
    CAPTURE(out);
    check_failure(run_gfn(kRun + " --iters 2 --out " + out), "--out: cannot create directory");
  }
  CHECK(read_file(dir + "/file") == "a file\n");  // untouched

  if (geteuid() == 0) {
    MESSAGE("running as root: a directory without write permission is still writable, case skipped");
    return;
  }
  const std::string locked = scratch_dir("io-locked");
  REQUIRE(run_gfn(kRun + " --iters 5 --out " + locked).exit_code == 0);
  const std::string before = read_file(locked + "/checkpoint.bin");
  ::chmod(locked.c_str(), 0555);
  check_failure(run_gfn(kRun + " --iters 10 --resume " + locked + "/checkpoint.bin --out " + locked), "cannot write");
  ::chmod(locked.c_str(), 0755);
  CHECK(read_file(locked + "/checkpoint.bin") == before);
  CHECK(!std::filesystem::exists(locked + "/checkpoint.bin.tmp"));
}

TEST_CASE("cli: a full disk while writing keeps the previous checkpoint and removes the temporary file") {
  if (!std::filesystem::exists("/dev/full")) {
    MESSAGE("no /dev/full on this system: the full-disk cases are skipped");
    return;
  }
  const std::string reference = scratch_dir("io-reference");
  const Result uninterrupted = run_gfn(kRun + " --iters 10 --json --out " + reference);
  REQUIRE(uninterrupted.exit_code == 0);

  const std::string dir = scratch_dir("io-full");
  REQUIRE(run_gfn(kRun + " --iters 5 --out " + dir).exit_code == 0);
  const std::string checkpoint = read_file(dir + "/checkpoint.bin");
  const std::string resume = kRun + " --iters 10 --json --resume " + dir + "/checkpoint.bin --out " + dir;
  for (const char* file : {"checkpoint.bin", "config.json", "metrics.csv"}) {
    CAPTURE(file);
    const std::string temporary = dir + "/" + file + ".tmp";
    std::filesystem::create_symlink("/dev/full", temporary);
    check_failure(run_gfn(resume), "No space left on device");
    CHECK(!std::filesystem::exists(std::filesystem::symlink_status(temporary)));  // removed
    CHECK(read_file(dir + "/checkpoint.bin") == checkpoint);                       // intact
  }
  // The run continues from the kept checkpoint to the uninterrupted run's numbers and files.
  const Result resumed = run_gfn(resume);
  REQUIRE(resumed.exit_code == 0);
  for (const char* key : {"iteration", "trajectories", "train_loss", "log_z", "l1_exact", "modes_found"}) {
    CAPTURE(key);
    CHECK(json_value(resumed.out, key) == json_value(uninterrupted.out, key));
  }
  CHECK(read_file(dir + "/config.json") == read_file(reference + "/config.json"));
}
