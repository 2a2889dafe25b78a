// Running the real `gfn` binary from tests (tests/cli/): run_gfn(arguments) runs it through the shell and
// returns its exit code, stdout and stderr (run_custom_gfn: the same for tests/programs/custom_gfn.cpp);
// scratch_dir(name) gives an empty directory per name and test process (the pid keeps processes that
// ctest runs in parallel apart); read_file reads a whole file.
// Needs GFN_CLI_PATH (set by tests/CMakeLists.txt when the CLI is built).
#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>

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

}  // namespace gfn::testing
