// The command's progress bar: a one-line bar on stderr when stderr is a terminal, a plain line every
// tenth of the run otherwise, and nothing when quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace gfn::cli {

class Progress {
 public:
  Progress(int64_t first, int64_t total, bool quiet);
  // Called after each iteration; `status` is e.g. "loss 0.0123  L1 0.045".
  void update(int64_t iteration, const std::string& status);
  // Shows what a long step is doing (e.g. an evaluation) until the next update; terminals only.
  void note(const std::string& what);
  void finish();

 private:
  int64_t first_, total_;
  bool quiet_, terminal_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int64_t last_line_ = -1;
};

}  // namespace gfn::cli
