// The layout the README states, checked against the tree: folders are layers (util/, autodiff/, envs/,
// core/network/, core/distributed/, core/training/, core/evaluation/, core/run/, cli/, bottom to top)
// and no source file includes one of a folder above its own; no folder of the library holds over 30%
// of its lines; Trainer::step, the algorithm on one screen, stays within 60 lines.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "support/source_tree.hpp"

namespace gfn {
namespace {

using testing::line_count;
using testing::read_source;
using testing::source_path;

const std::vector<std::string> kLayers = {"util/",           "autodiff/",       "envs/",
                                          "core/network/",   "core/distributed/", "core/training/",
                                          "core/evaluation/", "core/run/",        "cli/"};

// The layer of a path relative to the root (-1: none, e.g. a generated header).
int layer_of(const std::string& path) {
  for (size_t i = 0; i < kLayers.size(); ++i)
    if (path.rfind(kLayers[i], 0) == 0) return int(i);
  return -1;
}

// Every .hpp and .cpp of the library and the command, relative to the root.
std::vector<std::string> source_files() {
  std::vector<std::string> files;
  for (const std::string& layer : kLayers)
    for (const auto& entry : std::filesystem::recursive_directory_iterator(source_path(layer))) {
      const std::string extension = entry.path().extension().string();
      if (extension != ".hpp" && extension != ".cpp") continue;
      files.push_back(std::filesystem::relative(entry.path(), source_path("")).generic_string());
    }
  return files;
}

TEST_CASE("layout: no source file includes a folder above its own layer") {
  const std::regex include(R"re(#include "([^"]+)")re");
  const std::vector<std::string> files = source_files();
  REQUIRE(files.size() > 50);
  int includes_checked = 0;
  for (const std::string& file : files) {
    const std::string text = read_source(file);
    for (std::sregex_iterator it(text.begin(), text.end(), include), end; it != end; ++it) {
      const std::string target = (*it)[1].str();
      if (layer_of(target) < 0) continue;
      ++includes_checked;
      INFO(file << " includes " << target);
      CHECK(layer_of(target) <= layer_of(file));
    }
  }
  CHECK(includes_checked > 200);
}

TEST_CASE("layout: no folder of the library holds over 30% of its source lines") {
  std::vector<long> lines(kLayers.size(), 0);
  long total = 0;
  for (const std::string& file : source_files()) {
    const long n = line_count(read_source(file));
    lines[size_t(layer_of(file))] += n;
    total += n;
  }
  for (size_t i = 0; i < kLayers.size(); ++i) {
    INFO(kLayers[i] << ": " << lines[i] << " of " << total << " lines");
    CHECK(lines[i] <= 0.3 * total);
  }
}

TEST_CASE("layout: Trainer::step reads on one screen (at most 60 lines)") {
  const std::vector<std::string> lines = testing::split_lines(read_source("core/training/trainer.cpp"));
  int first = -1, last = -1;
  for (int i = 0; i < int(lines.size()); ++i) {
    if (lines[size_t(i)].rfind("IterationResult Trainer::step() {", 0) == 0) first = i;
    if (first >= 0 && lines[size_t(i)] == "}") {
      last = i;
      break;
    }
  }
  REQUIRE(first >= 0);
  REQUIRE(last > first);
  CHECK(last - first + 1 <= 60);
}

}  // namespace
}  // namespace gfn
