// Flags from the settings table. A flag's value is read by the row's own parser (Setting::set_from_text),
// the one that reads a checkpoint's configuration, so a value too large for its type gets the same
// one-line range error everywhere.
#include "cli/settings_flags.hpp"

namespace gfn::cli {

namespace {

// The type shown in the help, as CLI11 shows it for options it parses itself.
template <typename T>
const char* type_name() {
  if constexpr (std::is_same_v<T, double>) return "FLOAT";
  else if constexpr (std::is_same_v<T, uint64_t>) return "UINT";
  else if constexpr (std::is_integral_v<T>) return "INT";
  else return "TEXT";
}

}  // namespace

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
            const Setting* row = &setting;  // rows live as long as the table (static)
            command
                ->add_option_function<std::string>(
                    setting.flag(), [row, &settings](const std::string& text) { row->set_from_text(settings, text); },
                    help)
                ->type_name(type_name<T>())
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
