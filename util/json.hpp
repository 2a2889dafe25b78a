// A minimal JSON object writer (config.json, --json summaries): flat objects of
// strings, numbers (non-finite numbers become null), booleans and nulls. Not a parser.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace gfn {

class JsonObject {
 public:
  JsonObject& add(const std::string& key, const std::string& value) { return raw(key, quote(value)); }
  JsonObject& add(const std::string& key, const char* value) { return raw(key, quote(value)); }
  JsonObject& add(const std::string& key, bool value) { return raw(key, value ? "true" : "false"); }
  JsonObject& add(const std::string& key, int value) { return raw(key, std::to_string(value)); }
  JsonObject& add(const std::string& key, long value) { return raw(key, std::to_string(value)); }
  JsonObject& add(const std::string& key, long long value) { return raw(key, std::to_string(value)); }
  JsonObject& add(const std::string& key, unsigned long value) { return raw(key, std::to_string(value)); }
  JsonObject& add(const std::string& key, double value) {
    if (!std::isfinite(value)) return raw(key, "null");
    char text[64];
    std::snprintf(text, sizeof(text), "%.10g", value);
    return raw(key, text);
  }
  JsonObject& null(const std::string& key) { return raw(key, "null"); }
  // value must already be valid JSON (e.g. a nested object's str()).
  JsonObject& raw(const std::string& key, const std::string& value) {
    body_ += (body_.empty() ? "" : ", ") + quote(key) + ": " + value;
    return *this;
  }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  static std::string quote(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    return out + "\"";
  }
  std::string body_;
};

}  // namespace gfn
