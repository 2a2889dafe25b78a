// Golden runs: seeded `gfn train` runs whose JSON summaries (timing fields removed) must not change when
// the code is reorganised or a fast path is added. The numbers depend on the build (instruction set,
// compiler, sanitizers), so tests/cli/golden_runs.txt keeps them per build fingerprint; a build without
// recorded numbers prints the lines to record and skips the comparison. Independent of the recording:
// one thread equals two, and a run resumed from its checkpoint equals the straight run.
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/cli_runner.hpp"

namespace gfn {
namespace {

using namespace testing;

// The build's numerics: compiler, vector instruction set, sanitizers.
std::string build_fingerprint() {
  std::string fingerprint;
#if defined(__clang__)
  fingerprint = "clang" + std::to_string(__clang_major__);
#else
  fingerprint = "gcc" + std::to_string(__GNUC__);
#endif
#if defined(__AVX512F__)
  fingerprint += "-avx512";
#elif defined(__AVX2__)
  fingerprint += "-avx2";
#else
  fingerprint += "-sse";
#endif
#if defined(__SANITIZE_ADDRESS__)
  fingerprint += "-asan";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  fingerprint += "-asan";
#endif
#endif
  return fingerprint;
}

// The JSON summary of a quiet run, without the fields that measure time or name the thread count.
std::string summary(const std::string& arguments) {
  const CliResult result = run_gfn("train --json --quiet " + arguments);
  INFO("gfn train " << arguments << "\n" << result.err);
  REQUIRE(result.exit_code == 0);
  static const std::regex timing(R"re("(threads|transitions_per_s|wall_s)": [^,}]+, )re");
  std::string json = std::regex_replace(result.out, timing, "");
  while (!json.empty() && (json.back() == '\n' || json.back() == ' ')) json.pop_back();
  return json;
}

constexpr const char* kGrid = "--ndim 4 --height 8 --iters 40 --eval-every 20";

// name -> arguments of gfn train
const std::vector<std::pair<std::string, std::string>>& golden_runs() {
  static const std::vector<std::pair<std::string, std::string>> runs = [] {
    const std::string grid = kGrid;
    std::vector<std::pair<std::string, std::string>> list = {{"tb", grid}};
    for (const char* loss : {"db", "modified-db", "subtb", "zvar", "fm", "soft-dqn", "munchausen-dqn"})
      list.emplace_back(loss, grid + " --loss " + loss);
    list.insert(list.end(), {
        {"tb-tlm", grid + " --pb tlm"},
        {"tb-pessimistic", grid + " --pb pessimistic"},
        {"tb-tabular", grid + " --policy tabular"},
        {"tb-replay-local-search", grid + " --replay-ratio 0.5 --ls-backtrack 2"},
        {"tb-recompute", grid + " --recompute-logprobs"},
        {"defaults", ""},
        {"bitseq-tb", "--env bitseq --iters 30 --eval-every 30"},
    });
    return list;
  }();
  return runs;
}

// fingerprint -> name -> summary, from tests/cli/golden_runs.txt ("fingerprint name summary" lines).
std::map<std::string, std::map<std::string, std::string>> recorded() {
  std::map<std::string, std::map<std::string, std::string>> table;
  std::istringstream lines(read_file(std::string(GFN_SOURCE_DIR) + "/tests/cli/golden_runs.txt"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string fingerprint, name, json;
    fields >> fingerprint >> name >> std::ws;
    std::getline(fields, json);
    table[fingerprint][name] = json;
  }
  return table;
}

TEST_CASE("cli: golden runs give the recorded summaries for this build (every objective, P_B, policy, BitSeq)") {
  const std::string fingerprint = build_fingerprint();
  if (fingerprint.find("-asan") != std::string::npos) {
    MESSAGE("skipped: golden runs are not recorded for sanitizer builds (their numbers are the same code's, "
            "and the runs take minutes there)");
    return;
  }
  const auto table = recorded();
  const auto found = table.find(fingerprint);
  std::string to_record;
  for (const auto& [name, arguments] : golden_runs()) {
    const std::string json = summary(arguments);
    if (found == table.end()) {
      to_record += fingerprint + " " + name + " " + json + "\n";
      continue;
    }
    CAPTURE(name);
    REQUIRE(found->second.count(name) == 1);
    CHECK(json == found->second.at(name));
  }
  if (found == table.end())
    MESSAGE("skipped: no golden runs recorded for build " << fingerprint
                                                           << "; to record, add to tests/cli/golden_runs.txt:\n"
                                                           << to_record);
}

TEST_CASE("cli: a golden run gives the same summary on one thread and after a resume") {
  const std::string straight = summary(kGrid);
  CHECK(summary(std::string(kGrid) + " --threads 1") == straight);
  const std::string dir = scratch_dir("golden-resume") + "/run";
  const std::string half = std::regex_replace(std::string(kGrid), std::regex("--iters 40"), "--iters 20");
  summary(half + " --out " + dir);
  CHECK(summary(std::string(kGrid) + " --resume " + dir + "/checkpoint.bin") == straight);
}

}  // namespace
}  // namespace gfn
