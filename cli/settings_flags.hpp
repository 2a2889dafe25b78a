// Command-line flags derived from the settings table (core/settings.hpp): one flag per row, with the
// row's help and default. Not a validator: core's validate() checks the values after parsing.
#pragma once

#include <CLI/CLI.hpp>
#include <set>
#include <string>

#include "core/settings.hpp"

namespace gfn::cli {

// Registers a flag on `command` for every row of the table that `include` accepts (all rows when
// null), writing into `settings`.
void add_setting_flags(CLI::App* command, RunSettings& settings, bool (*include)(const Setting&) = nullptr,
                       const SettingsTable& table = run_settings_table());

// The keys of the settings whose flags were given on the command line.
std::set<std::string> given_settings(const CLI::App& command, const SettingsTable& table = run_settings_table());

}  // namespace gfn::cli
