// Reading the source tree from tests that check the documentation against it (tests/docs/): a file's
// text and lines by its path relative to the repository root (GFN_SOURCE_DIR, set by
// tests/CMakeLists.txt), and its line count as `wc -l` gives it.
#pragma once

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace gfn::testing {

inline std::string source_path(const std::string& relative) { return std::string(GFN_SOURCE_DIR) + "/" + relative; }

// The whole file; empty when it cannot be read.
inline std::string read_source(const std::string& relative) {
  std::ifstream in(source_path(relative), std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The number of '\n' in the text (`wc -l`).
inline long line_count(const std::string& text) { return long(std::count(text.begin(), text.end(), '\n')); }

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace gfn::testing
