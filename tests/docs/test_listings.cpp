// Docs that compile: every C++ listing (a ```cpp block) in README.md and docs/*.md is a contiguous,
// verbatim quote of a source file that is built, under examples/ (scripts/check-install builds and runs
// them) or in the library and the command (autodiff/, core/, envs/, util/, cli/). A listing edited in
// the text alone, or a quoted file edited without its listing, fails here with the listing's place.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support/source_tree.hpp"

namespace gfn {

namespace {

struct Listing {
  std::string where;               // "docs/x.md, line N"
  std::vector<std::string> lines;  // without the fence's indentation
};

// The ```cpp blocks of a markdown file (fences may be indented, as inside a list item).
std::vector<Listing> cpp_listings(const std::string& relative) {
  std::vector<Listing> listings;
  const std::vector<std::string> lines = testing::split_lines(testing::read_source(relative));
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t indent = lines[i].find_first_not_of(' ');
    if (indent == std::string::npos || lines[i].compare(indent, std::string::npos, "```cpp") != 0) continue;
    Listing listing{relative + ", line " + std::to_string(i + 1), {}};
    for (++i; i < lines.size(); ++i) {
      const size_t start = lines[i].find_first_not_of(' ');
      if (start != std::string::npos && lines[i].compare(start, std::string::npos, "```") == 0) break;
      listing.lines.push_back(lines[i].size() > indent ? lines[i].substr(indent) : std::string());
    }
    listings.push_back(listing);
  }
  return listings;
}

// The source files a listing may quote, relative to the repository root.
std::vector<std::string> quotable_files() {
  std::vector<std::string> files;
  for (const char* folder : {"examples", "autodiff", "core", "envs", "util", "cli"})
    for (const auto& entry : std::filesystem::recursive_directory_iterator(testing::source_path(folder))) {
      const std::string extension = entry.path().extension().string();
      if (entry.is_regular_file() && (extension == ".cpp" || extension == ".hpp"))
        files.push_back(std::filesystem::relative(entry.path(), GFN_SOURCE_DIR).string());
    }
  return files;
}

bool quotes(const std::vector<std::string>& file, const std::vector<std::string>& listing) {
  return std::search(file.begin(), file.end(), listing.begin(), listing.end()) != file.end();
}

}  // namespace

TEST_CASE("docs: every C++ listing in the README and docs/ is quoted verbatim from a source file that is built") {
  std::vector<std::string> documents = {"README.md"};
  for (const auto& entry : std::filesystem::directory_iterator(testing::source_path("docs")))
    if (entry.path().extension() == ".md") documents.push_back("docs/" + entry.path().filename().string());
  std::vector<std::pair<std::string, std::vector<std::string>>> sources;
  for (const std::string& file : quotable_files())
    sources.emplace_back(file, testing::split_lines(testing::read_source(file)));
  REQUIRE(sources.size() > 50);
  int listings = 0;
  for (const std::string& document : documents)
    for (const Listing& listing : cpp_listings(document)) {
      ++listings;
      CAPTURE(listing.where);
      REQUIRE(!listing.lines.empty());
      const bool quoted = std::any_of(sources.begin(), sources.end(),
                                      [&](const auto& source) { return quotes(source.second, listing.lines); });
      CHECK_MESSAGE(quoted, listing.where << ": this " << listing.lines.size()
                                          << "-line listing is not a verbatim quote of any .cpp or .hpp under "
                                             "examples/, autodiff/, core/, envs/, util/ or cli/");
    }
  CHECK(listings >= 3);  // the README's program, the walk-through of examples/subsets.cpp, the op of adding_an_op.md
}

}  // namespace gfn
