// Flags from the settings table.
#include "cli/settings_flags.hpp"

namespace gfn::cli {

void add_setting_flags(CLI::App* command, RunSettings& settings, bool (*include)(const Setting&),
                       const SettingsTable& table) {
  for (const Setting& setting : table) {
    if (include != nullptr && !include(setting)) continue;
    std::string help = setting.help;
    if (!setting.scope.label.empty()) help = setting.scope.label + ": " + help;
    if (!setting.check.choices.empty() && setting.key != "reward") {
      help += " (";
      for (size_t i = 0; i < setting.check.choices.size(); ++i) help += (i ? ", " : "") + setting.check.choices[i];
      help += ")";
    }
    std::visit(
        [&](auto member) {
          using T = std::decay_t<decltype(settings.*member)>;
          if constexpr (std::is_same_v<T, bool>) {
            command->add_flag(setting.flag(), settings.*member, help)->group(setting.group);
          } else {
            command->add_option(setting.flag(), settings.*member, help)
                ->default_str(setting.default_text)
                ->group(setting.group);
          }
        },
        setting.field);
  }
}

std::set<std::string> given_settings(const CLI::App& command, const SettingsTable& table) {
  std::set<std::string> given;
  for (const Setting& setting : table) {
    const CLI::Option* option = command.get_option_no_throw(setting.flag());
    if (option != nullptr && option->count() > 0) given.insert(setting.key);
  }
  return given;
}

}  // namespace gfn::cli
