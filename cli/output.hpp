// Output helpers of the command: a progress bar and SVG plots.
//
// Progress draws a one-line bar on stderr when stderr is a terminal, prints a plain line every tenth
// of the run otherwise, and nothing when quiet. The SVG writers produce standalone images: a line
// chart with a log-scale y axis, and heat maps side by side.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

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

struct Series {
  std::string name;
  std::vector<double> x, y;
};

// Lines over a shared x axis; y on a log scale when log_y (non-positive values are skipped).
std::string svg_line_chart(const std::string& title, const std::string& x_label, const std::vector<Series>& series,
                           bool log_y);

struct Heatmap {
  std::string title;
  int rows = 0, cols = 0;
  std::vector<double> values;  // rows x cols, row-major
};

// Heat maps side by side, each on its own colour scale (0 = white, its maximum = darkest).
std::string svg_heatmaps(const std::vector<Heatmap>& maps);

}  // namespace gfn::cli
