// Atomic writes and whole-row appends with POSIX calls.
#include "util/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace gfn {

namespace {

std::runtime_error failure(const std::string& what, const std::string& path) {
  return std::runtime_error("cannot " + what + " " + path + ": " + std::strerror(errno));
}

// Writes all of `content` to `fd`, retrying short writes; false on error.
bool write_all(int fd, const std::string& content) {
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += size_t(n);
  }
  return true;
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw failure("write", path);
  const bool ok = write_all(fd, content) && ::fsync(fd) == 0;
  const std::runtime_error error = failure("write", path);  // errno of the failed call, if any
  ::close(fd);
  if (!ok) {
    std::remove(temporary.c_str());
    throw error;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::runtime_error rename_error = failure("rename a temporary file onto", path);
    std::remove(temporary.c_str());
    throw rename_error;
  }
}

void append_to_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw failure("append to", path);
  const bool ok = write_all(fd, text);
  const std::runtime_error error = failure("append to", path);
  ::close(fd);
  if (!ok) throw error;
}

}  // namespace gfn
