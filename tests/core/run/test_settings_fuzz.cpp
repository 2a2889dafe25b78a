// Seeded random fuzzing of the settings parser: every row's value parser (Setting::set_from_text, which
// reads both command-line flags and a checkpoint's configuration) on random and extreme texts, and the
// configuration reader (from_text) on damaged key=value text. Each either accepts (and then prints a
// text that reads back to the same value, and validates) or refuses with the documented exception:
// std::invalid_argument from set_from_text, std::runtime_error from from_text.
// Bounded: well under a second in release. GFN_FUZZ_SEED and GFN_FUZZ_ROUNDS run it longer.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/run/settings.hpp"

namespace gfn {
namespace {

uint64_t environment_number(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr ? std::strtoull(text, nullptr, 10) : fallback;
}

// Texts a number parser finds hard: signs, exponents, hex, inf/nan, whitespace, NUL, the limits of
// every integer type and one beyond, and random digit strings.
std::string random_value(std::mt19937_64& random) {
  static const std::vector<std::string> pieces = {
      "0", "1", "-", "+", ".", "e", "E", "x", "0x", "inf", "nan", "auto", " ", "\t", std::string(1, '\0'), "9",
      "2147483647", "2147483648", "-2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
      "-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
      "1e308", "1e309", "-1e309", "4.9e-324", "1e-400", "true", "false", "tb", "hypergrid", "=", "\n", "\xff"};
  std::string text;
  for (int n = int(random() % 5); n >= 0; --n) {
    if (random() % 4 == 0) text += std::to_string(int64_t(random()) >> (random() % 64));
    else text += pieces[random() % pieces.size()];
  }
  return text;
}

TEST_CASE("fuzz: every setting's parser accepts round-trippable values or throws std::invalid_argument") {
  const uint64_t seed = environment_number("GFN_FUZZ_SEED", 20261130);
  const uint64_t rounds = environment_number("GFN_FUZZ_ROUNDS", 600);
  std::mt19937_64 random(seed);
  int accepted = 0, refused = 0;
  for (uint64_t round = 0; round < rounds; ++round) {
    for (const Setting& setting : run_settings_table()) {
      const std::string text = random_value(random);
      CAPTURE(setting.key);
      CAPTURE(text);
      RunSettings settings;
      try {
        setting.set_from_text(settings, text);
      } catch (const std::invalid_argument& error) {
        ++refused;
        CHECK(std::string(error.what()).find(setting.flag()) == 0);  // the message names the flag
        continue;
      }
      ++accepted;
      // What was accepted prints as a text that reads back to the same value.
      const std::string printed = setting.value_text(settings);
      RunSettings again;
      setting.set_from_text(again, printed);
      CHECK(setting.value_text(again) == printed);
    }
  }
  MESSAGE("seed " << seed << ": " << accepted << " values accepted, " << refused << " refused");
}

TEST_CASE("fuzz: damaged configuration text is read or refused with std::runtime_error") {
  const uint64_t seed = environment_number("GFN_FUZZ_SEED", 20261130);
  const uint64_t rounds = environment_number("GFN_FUZZ_ROUNDS", 600) * 5;
  std::mt19937_64 random(seed);
  RunSettings base;
  base.loss = "subtb";
  base.replay_ratio = 0.25;
  const std::string good = to_text(base);
  REQUIRE(to_text(from_text(good)) == good);
  std::vector<std::string> lines;
  for (size_t start = 0, end; start < good.size(); start = end + 1) {
    end = good.find('\n', start);
    lines.push_back(good.substr(start, end - start));
  }
  int accepted = 0, refused = 0;
  for (uint64_t round = 0; round < rounds; ++round) {
    // One to three lines damaged, the others kept.
    std::vector<int> damage(lines.size(), 0);
    for (int n = 1 + int(random() % 3); n > 0; --n) damage[random() % lines.size()] = 1 + int(random() % 5);
    std::string text;
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& line = lines[i];
      switch (damage[i]) {
        case 1: break;                                                           // dropped
        case 2: text += line + "\n" + line + "\n"; break;                        // twice
        case 3: text += line.substr(0, line.find('=') + 1) + random_value(random) + "\n"; break;  // new value
        case 4: text += random_value(random) + "=" + random_value(random) + "\n"; break;          // new key
        case 5: text += line.substr(0, random() % (line.size() + 1)) + "\n"; break;              // cut
        default: text += line + "\n";
      }
    }
    CAPTURE(text);
    try {
      const RunSettings settings = from_text(text);
      ++accepted;
      validate(settings);  // what from_text accepts is valid
      CHECK(from_text(to_text(settings)).env == settings.env);
    } catch (const std::runtime_error&) {
      ++refused;
    }
  }
  MESSAGE("seed " << seed << ": " << accepted << " configurations read, " << refused << " refused");
}

}  // namespace
}  // namespace gfn
