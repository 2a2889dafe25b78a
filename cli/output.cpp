// The progress bar.
#include "cli/output.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gfn::cli {

// ---------------------------------------------------------------------------------------------

Progress::Progress(int64_t first, int64_t total, bool quiet)
    : first_(first), total_(total), quiet_(quiet), terminal_(isatty(STDERR_FILENO) != 0) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::update(int64_t iteration, const std::string& status) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = (iteration - first_) / std::max(elapsed, 1e-9);
  const double eta = (total_ - iteration) / std::max(rate, 1e-9);
  char timing[96];
  std::snprintf(timing, sizeof(timing), "%.0f it/s  ETA %d:%02d", rate, int(eta) / 60, int(eta) % 60);
  if (terminal_) {
    if (iteration != total_ && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
    last_draw_ = now;
    constexpr int width = 24;
    const int filled = int(width * double(iteration) / double(std::max<int64_t>(total_, 1)));
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r[%s] %lld/%lld  %s  %s\033[K", bar.c_str(), (long long)iteration, (long long)total_,
                 status.c_str(), timing);
    std::fflush(stderr);
    return;
  }
  const int64_t line = iteration * 10 / std::max<int64_t>(total_, 1);
  if (line == last_line_ && iteration != total_) return;
  last_line_ = line;
  std::fprintf(stderr, "iteration %lld/%lld  %s  %s\n", (long long)iteration, (long long)total_, status.c_str(),
               timing);
}

void Progress::note(const std::string& what) {
  if (quiet_ || !terminal_) return;
  std::fprintf(stderr, "\r%s ...\033[K", what.c_str());
  std::fflush(stderr);
  last_draw_ = std::chrono::steady_clock::time_point{};  // the next update redraws the bar
}

void Progress::finish() {
  if (!quiet_ && terminal_) std::fprintf(stderr, "\n");
}

}  // namespace gfn::cli
