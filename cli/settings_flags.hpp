// Command-line flags derived from the settings table (core/run/settings.hpp): one flag per row, with the
// row's help and default. Not a validator: core's validate() checks the values after parsing. Number
// flags outside the table are read by the same parser and checked against their range here.
#pragma once

#include <CLI/CLI.hpp>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "core/run/settings.hpp"

namespace gfn::cli {

// Registers a flag on `command` for every row of the table that `include` accepts (all rows when
// null), writing into `settings`.
void add_setting_flags(CLI::App* command, RunSettings& settings, bool (*include)(const Setting&) = nullptr,
                       const SettingsTable& table = run_settings_table());

// The keys of the settings whose flags were given on the command line.
std::set<std::string> given_settings(const CLI::App& command, const SettingsTable& table = run_settings_table());

// A number flag that is not a setting (gfn sample, eval, baseline, experiment), read by the settings'
// parser: a value outside [low, high], or too large for T, is one range error naming the flag
// ("--budget: 0 is out of range (an integer from 1 to 2^63 - 1)"), never clamped to T as CLI11's own
// conversion does. The list form reads comma-separated values.
template <typename T>
CLI::Option* add_number_option(CLI::App* command, const std::string& flag, T& value, const std::string& help,
                               double low, double high) {
  SettingCheck check;
  check.low = low;
  check.high = high;
  return command
      ->add_option_function<std::string>(
          flag, [&value, flag, check](const std::string& text) { value = parse_number_within<T>(flag, text, check); },
          help)
      ->type_name(std::is_signed_v<T> ? "INT" : "UINT")
      ->default_str(std::to_string(value));
}
template <typename T>
CLI::Option* add_number_list_option(CLI::App* command, const std::string& flag, std::vector<T>& values,
                                    const std::string& help, double low, double high) {
  SettingCheck check;
  check.low = low;
  check.high = high;
  std::string defaults;
  for (const T value : values) defaults += (defaults.empty() ? "" : ",") + std::to_string(value);
  return command
      ->add_option_function<std::vector<std::string>>(
          flag,
          [&values, flag, check](const std::vector<std::string>& texts) {
            values.clear();
            for (const std::string& text : texts) values.push_back(parse_number_within<T>(flag, text, check));
          },
          help)
      ->delimiter(',')
      ->type_name(std::is_signed_v<T> ? "INT" : "UINT")
      ->default_str(defaults);
}

}  // namespace gfn::cli
