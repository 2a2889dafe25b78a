// Files a run writes so that a crash, a kill or a power cut never leaves a half-written one:
// write_file_atomically writes a temporary file next to the target, flushes it to disk and renames it
// over the target; append_to_file appends a whole piece of text (e.g. a CSV row) in one write call,
// so a killed process leaves either all of it or none. Both throw std::runtime_error naming the file.
#pragma once

#include <string>

namespace gfn {

void write_file_atomically(const std::string& path, const std::string& content);
void append_to_file(const std::string& path, const std::string& text);

}  // namespace gfn
