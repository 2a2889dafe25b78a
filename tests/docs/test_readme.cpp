// The README as a front door: at most 220 lines, and its reading order (the table under "## Reading
// order") names files that exist, with their true line counts (`wc -l`) and a true total of at most
// 2,500 lines. When a file of the reading order changes, the failure message gives the counts to write.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "support/source_tree.hpp"

namespace gfn {

namespace {

struct ReadingOrderRow {
  std::string file;
  long lines = -1;
};

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") + 1 - begin);
}

// The cells of a markdown table row "| a | b | c |".
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> result;
  std::string cell;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '|') {
      result.push_back(trim(cell));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return result;
}

// "[path](path)", "`path`" or "**text**" -> the path or text.
std::string plain(const std::string& cell) {
  const auto link = cell.find("](");
  if (cell.rfind('[', 0) == 0 && link != std::string::npos) return cell.substr(1, link - 1);
  std::string text;
  for (char c : cell)
    if (c != '`' && c != '*') text += c;
  return text;
}

long number(const std::string& cell) {
  const std::string digits = plain(cell);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stol(digits);
}

// The rows of the first table after "## Reading order"; the total row's count in `total`.
std::vector<ReadingOrderRow> reading_order(const std::vector<std::string>& readme, long& total) {
  std::vector<ReadingOrderRow> rows;
  total = -1;
  size_t i = 0;
  while (i < readme.size() && readme[i] != "## Reading order") ++i;
  while (i < readme.size() && readme[i].rfind("| file | lines |", 0) != 0) ++i;
  for (i += 2; i < readme.size() && readme[i].rfind("|", 0) == 0; ++i) {
    const std::vector<std::string> row = cells(readme[i]);
    if (row.size() < 2) continue;
    if (plain(row[0]) == "total")
      total = number(row[1]);
    else
      rows.push_back({plain(row[0]), number(row[1])});
  }
  return rows;
}

}  // namespace

TEST_CASE("docs: README.md is at most 220 lines") {
  const std::string readme = testing::read_source("README.md");
  REQUIRE(!readme.empty());
  CHECK(testing::line_count(readme) <= 220);
}

TEST_CASE("docs: the README's reading order names files that exist, with their line counts and a total of at most 2,500") {
  long stated_total = -1;
  const std::vector<ReadingOrderRow> rows = reading_order(testing::split_lines(testing::read_source("README.md")), stated_total);
  REQUIRE(rows.size() >= 8);
  long total = 0;
  std::ostringstream expected;  // the counts to write, in the table's order
  bool all_true = true;
  for (const ReadingOrderRow& row : rows) {
    CAPTURE(row.file);
    const std::string text = testing::read_source(row.file);
    CHECK_MESSAGE(!text.empty(), row.file << " is not a readable, non-empty file of the source tree");
    const long lines = testing::line_count(text);
    total += lines;
    expected << "| " << row.file << " | " << lines << " |\n";
    if (row.lines != lines) all_true = false;
    CHECK_MESSAGE(row.lines == lines, row.file << ": the README says " << row.lines << " lines, the file has " << lines);
  }
  expected << "| total | " << total << " |\n";
  if (stated_total != total) all_true = false;
  CHECK_MESSAGE(stated_total == total, "the README's total is " << stated_total << ", the files add up to " << total);
  if (!all_true) FAIL_CHECK("the reading order's counts should read:\n" << expected.str());
  CHECK_MESSAGE(total <= 2500, "the reading order is " << total << " lines, more than 2,500:\n" << expected.str());
}

}  // namespace gfn
