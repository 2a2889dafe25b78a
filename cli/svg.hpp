// SVG charts of the command, standalone images meant to be read by a person:
//   svg_chart     panels stacked over one shared x axis, each with its own y axis (linear or log),
//                 axis labels, "nice" tick values (1, 2, 5 x 10^k) with at least 4 labelled ticks
//                 whatever the range, minor ticks on log axes, and a legend per panel;
//   svg_heatmaps  2-D maps side by side on one shared colour scale with a colour bar, coordinate
//                 names on the axes and the origin marked.
// Not a plotting library: no styling options beyond these.
#pragma once

#include <string>
#include <vector>

namespace gfn::cli {

struct Series {
  std::string name;
  std::vector<double> x, y;  // non-finite y (and y <= 0 on a log axis) are gaps
};

struct Panel {
  std::string y_label;
  std::vector<Series> series;
  bool log_y = false;
  bool from_zero = false;  // a linear axis that starts at 0 (counts)
};

std::string svg_chart(const std::string& title, const std::string& x_label, const std::vector<Panel>& panels);

struct Heatmap {
  std::string title;
  int rows = 0, cols = 0;
  std::vector<double> values;  // rows x cols, row-major
};

// `row_label` names the coordinate that grows downwards (rows), `col_label` the one that grows to the
// right; cell (0, 0), the origin, is at the top left. `scale_label` names the values of the colour bar.
std::string svg_heatmaps(const std::vector<Heatmap>& maps, const std::string& row_label, const std::string& col_label,
                         const std::string& scale_label);

// Tick values between low and high: at least 4 of the form m 10^k (m in 1, 2, 5) on a linear axis;
// on a log axis (low, high > 0) the decades, with 2 and 5 added when there are fewer than 4 decades.
std::vector<double> nice_ticks(double low, double high, bool log_axis);

}  // namespace gfn::cli
