// The one runner of programs for tests (tests/cli/ and the tests that drive the binary): run_gfn(arguments)
// runs the real `gfn` through the shell and returns its exit code, stdout and stderr (run_custom_gfn: the
// same for tests/programs/custom_gfn.cpp; run_program: any program); start_gfn starts it as a child the
// test can signal or measure. scratch_dir(name) gives an empty directory per name and test process (the
// pid keeps processes that ctest runs in parallel apart); read_file reads a whole file. The readers of
// what a run printed or wrote: json_value, count_lines, contains, csv_lines, csv_column, and
// check_one_line_error for the one-line refusal every command gives.
// Needs GFN_CLI_PATH (set by tests/CMakeLists.txt when the CLI is built).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace gfn::testing {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("gfn-cli-test-" + std::to_string(getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs `program arguments` through the shell.
inline CliResult run_program(const std::string& program, const std::string& arguments) {
  static int counter = 0;
  const std::string err_path = scratch_dir("stderr-" + std::to_string(counter++)) + "/stderr";
  const std::string command = program + " " + arguments + " 2>" + err_path;
  CliResult result;
  std::FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.out.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = read_file(err_path);
  return result;
}

inline CliResult run_gfn(const std::string& arguments) { return run_program(GFN_CLI_PATH, arguments); }

// Starts `gfn arguments...` as a child process with stdout and stderr written to the given files (for
// instance /dev/null) and returns its pid; the caller waits for it (waitpid, wait4).
inline pid_t start_gfn(const std::vector<std::string>& arguments, const std::string& out_path,
                       const std::string& err_path) {
  std::vector<char*> argv = {const_cast<char*>(GFN_CLI_PATH)};
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
    ::dup2(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
    ::execv(GFN_CLI_PATH, argv.data());
    ::_exit(127);
  }
  return child;
}

#ifdef GFN_CUSTOM_GFN_PATH
// tests/programs/custom_gfn.cpp: a gfn of one's own on gflownet::cli, with custom environments.
inline CliResult run_custom_gfn(const std::string& arguments) { return run_program(GFN_CUSTOM_GFN_PATH, arguments); }
#endif

// The value of "key": number in a flat JSON object, as text ("<missing key>" when absent).
inline std::string json_value(const std::string& json, const std::string& key) {
  std::smatch match;
  const std::regex pattern("\"" + key + "\": ([^,}]+)");
  return std::regex_search(json, match, pattern) ? match[1].str() : "<missing " + key + ">";
}

inline int count_lines(const std::string& text) { return int(std::count(text.begin(), text.end(), '\n')); }

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The lines of a CSV text split at every comma ("a,,b," is 4 fields; the project's CSV files quote
// nothing); the header first.
inline std::vector<std::vector<std::string>> csv_lines(const std::string& text) {
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields(1);
    for (const char c : line) {
      if (c == ',') fields.emplace_back();
      else fields.back() += c;
    }
    lines.push_back(fields);
  }
  return lines;
}

// The index of the column named key in a CSV header (a failed check when there is none).
inline size_t csv_column(const std::vector<std::string>& header, const std::string& key) {
  const auto found = std::find(header.begin(), header.end(), key);
  REQUIRE_MESSAGE(found != header.end(), "no column " << key);
  return size_t(found - header.begin());
}

// A refusal as every command gives it: a non-zero exit code and one line on stderr that names `part`.
inline void check_one_line_error(const CliResult& result, const std::string& part) {
  CHECK(result.exit_code != 0);
  CHECK(count_lines(result.err) == 1);
  CHECK(contains(result.err, part));
}

}  // namespace gfn::testing
