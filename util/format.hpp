// format_number: a real number as "%g" prints it (6 significant digits, no trailing zeros), the form
// environment names and error messages use for settings such as 0.44 or 1e-05.
#pragma once

#include <cstdio>
#include <string>

namespace gfn {

inline std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

}  // namespace gfn
