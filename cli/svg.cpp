// SVG charts and heat maps (see svg.hpp).
#include "cli/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace gfn::cli {

namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"};

std::string number(double value) {
  if (std::abs(value) < 1e-12) return "0";
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

// Colour of a value in [0, 1]: white to dark blue.
std::string shade(double intensity) {
  intensity = std::clamp(intensity, 0.0, 1.0);
  const int red = int(255 - 230 * intensity), green = int(255 - 200 * intensity), blue = int(255 - 100 * intensity);
  char text[32];
  std::snprintf(text, sizeof(text), "rgb(%d,%d,%d)", red, green, blue);
  return text;
}

}  // namespace

std::vector<double> nice_ticks(double low, double high, bool log_axis) {
  std::vector<double> ticks;
  if (!(high > low)) high = low + 1;
  if (log_axis) {
    const int first = int(std::floor(std::log10(low) + 1e-9)), last = int(std::ceil(std::log10(high) - 1e-9));
    const int decades = std::max(last - first, 1);
    const int stride = std::max(1, decades / 8);  // at most ~8 labelled decades
    for (int k = first; k <= last; ++k) {
      if ((k - first) % stride != 0) continue;
      for (double m : decades < 4 ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
        const double tick = m * std::pow(10.0, k);
        if (tick >= low * (1 - 1e-9) && tick <= high * (1 + 1e-9)) ticks.push_back(tick);
      }
    }
    return ticks;
  }
  // The largest step m 10^k that still gives 4 ticks in [low, high].
  for (int k = int(std::ceil(std::log10(high - low))); k > -300; --k)
    for (double m : {5.0, 2.0, 1.0}) {
      const double step = m * std::pow(10.0, k);
      const double first = std::ceil(low / step - 1e-9), last = std::floor(high / step + 1e-9);
      if (last - first + 1 < 4) continue;
      for (double i = first; i <= last; ++i) ticks.push_back(i * step);
      return ticks;
    }
  return {low, high};
}

std::string svg_chart(const std::string& title, const std::string& x_label, const std::vector<Panel>& panels) {
  constexpr double width = 720, left = 80, right = 190, top = 40, panel_height = 240, gap = 30, bottom = 50;
  const double plot_width = width - left - right;
  const double height = top + panels.size() * panel_height + (panels.size() - 1) * gap + bottom;
  double x_min = INFINITY, x_max = -INFINITY;
  for (const Panel& panel : panels)
    for (const Series& s : panel.series)
      for (size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.y[i])) x_min = std::min(x_min, s.x[i]), x_max = std::max(x_max, s.x[i]);
  if (!std::isfinite(x_min)) x_min = 0, x_max = 1;
  if (x_max == x_min) x_max = x_min + 1;
  const std::vector<double> x_ticks = nice_ticks(x_min, x_max, false);
  auto px = [&](double x) { return left + (x - x_min) / (x_max - x_min) * plot_width; };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << left + plot_width / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
      << escape(title) << "</text>\n";
  for (size_t p = 0; p < panels.size(); ++p) {
    const Panel& panel = panels[p];
    const double y0 = top + p * (panel_height + gap);
    double low = INFINITY, high = -INFINITY;
    for (const Series& s : panel.series)
      for (double y : s.y)
        if (std::isfinite(y) && (!panel.log_y || y > 0)) low = std::min(low, y), high = std::max(high, y);
    if (!std::isfinite(low)) low = panel.log_y ? 0.1 : 0, high = 1;
    if (panel.from_zero && !panel.log_y) low = std::min(low, 0.0), high = std::max(high, 1.0);
    if (panel.log_y) {  // whole decades
      low = std::pow(10.0, std::floor(std::log10(low)));
      high = std::pow(10.0, std::ceil(std::log10(high)));
      if (high <= low) high = low * 10;
    } else if (high == low) {
      low -= 0.5, high += 0.5;
    }
    const std::vector<double> y_ticks = nice_ticks(low, high, panel.log_y);
    if (!panel.log_y) low = std::min(low, y_ticks.front()), high = std::max(high, y_ticks.back());
    auto transform = [&](double y) { return panel.log_y ? std::log10(y) : y; };
    auto py = [&](double y) {
      return y0 + (1 - (transform(y) - transform(low)) / (transform(high) - transform(low))) * panel_height;
    };
    svg << "<rect x=\"" << left << "\" y=\"" << y0 << "\" width=\"" << plot_width << "\" height=\"" << panel_height
        << "\" fill=\"none\" stroke=\"#444\"/>\n";
    for (double tick : y_ticks)
      svg << "<line x1=\"" << left << "\" x2=\"" << left + plot_width << "\" y1=\"" << py(tick) << "\" y2=\""
          << py(tick) << "\" stroke=\"#e4e4e4\"/><line x1=\"" << left - 5 << "\" x2=\"" << left << "\" y1=\""
          << py(tick) << "\" y2=\"" << py(tick) << "\" stroke=\"#444\"/><text x=\"" << left - 8 << "\" y=\""
          << py(tick) + 4 << "\" text-anchor=\"end\">" << number(tick) << "</text>\n";
    if (panel.log_y)  // minor ticks at 2..9 x 10^k
      for (double decade = low; decade < high; decade *= 10)
        for (int m = 2; m <= 9; ++m)
          svg << "<line x1=\"" << left - 3 << "\" x2=\"" << left << "\" y1=\"" << py(m * decade) << "\" y2=\""
              << py(m * decade) << "\" stroke=\"#444\"/>\n";
    for (double tick : x_ticks)
      svg << "<line x1=\"" << px(tick) << "\" x2=\"" << px(tick) << "\" y1=\"" << y0 << "\" y2=\"" << y0 + panel_height
          << "\" stroke=\"#f0f0f0\"/><line x1=\"" << px(tick) << "\" x2=\"" << px(tick) << "\" y1=\""
          << y0 + panel_height << "\" y2=\"" << y0 + panel_height + 5 << "\" stroke=\"#444\"/>\n";
    if (p + 1 == panels.size())
      for (double tick : x_ticks)
        svg << "<text x=\"" << px(tick) << "\" y=\"" << y0 + panel_height + 19 << "\" text-anchor=\"middle\">"
            << number(tick) << "</text>\n";
    svg << "<text transform=\"translate(" << 18 << "," << y0 + panel_height / 2
        << ") rotate(-90)\" text-anchor=\"middle\">" << escape(panel.y_label) << (panel.log_y ? " (log scale)" : "")
        << "</text>\n";
    for (size_t k = 0; k < panel.series.size(); ++k) {
      const Series& s = panel.series[k];
      const char* colour = kPalette[k % (sizeof(kPalette) / sizeof(kPalette[0]))];
      svg << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.8\" points=\"";
      for (size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.y[i]) && (!panel.log_y || s.y[i] > 0)) svg << px(s.x[i]) << "," << py(s.y[i]) << " ";
      const double legend_y = y0 + 14 + 18 * k;
      svg << "\"/>\n<line x1=\"" << width - right + 14 << "\" x2=\"" << width - right + 34 << "\" y1=\"" << legend_y
          << "\" y2=\"" << legend_y << "\" stroke=\"" << colour << "\" stroke-width=\"3\"/><text x=\""
          << width - right + 40 << "\" y=\"" << legend_y + 4 << "\">" << escape(s.name) << "</text>\n";
    }
  }
  svg << "<text x=\"" << left + plot_width / 2 << "\" y=\"" << height - 12 << "\" text-anchor=\"middle\">"
      << escape(x_label) << "</text>\n</svg>\n";
  return svg.str();
}

std::string svg_heatmaps(const std::vector<Heatmap>& maps, const std::string& row_label, const std::string& col_label,
                         const std::string& scale_label) {
  constexpr double panel = 300, gap = 70, top = 60, left = 60, bar_width = 16, bar_gap = 30;
  double maximum = 1e-300;
  for (const Heatmap& map : maps)
    for (double value : map.values) maximum = std::max(maximum, value);
  const double maps_width = maps.size() * panel + (maps.size() - 1) * gap;
  const double width = left + maps_width + bar_gap + bar_width + 90, height = top + panel + 50;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (size_t m = 0; m < maps.size(); ++m) {
    const Heatmap& map = maps[m];
    const double x0 = left + m * (panel + gap);
    const double cell = panel / std::max(map.rows, map.cols);
    svg << "<text x=\"" << x0 + panel / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">"
        << escape(map.title) << "</text>\n";
    for (int r = 0; r < map.rows; ++r)
      for (int c = 0; c < map.cols; ++c)
        svg << "<rect x=\"" << x0 + c * cell << "\" y=\"" << top + r * cell << "\" width=\"" << cell + 0.3
            << "\" height=\"" << cell + 0.3 << "\" fill=\"" << shade(map.values[size_t(r) * map.cols + c] / maximum)
            << "\"/>\n";
    svg << "<rect x=\"" << x0 << "\" y=\"" << top << "\" width=\"" << cell * map.cols << "\" height=\""
        << cell * map.rows << "\" fill=\"none\" stroke=\"#444\"/>\n";
    // Axes: the coordinate growing to the right along the top, the one growing down on the left, the
    // first and last index on each, and the origin's cell outlined.
    svg << "<text x=\"" << x0 + cell * map.cols / 2 << "\" y=\"" << top - 10 << "\" text-anchor=\"middle\">"
        << escape(col_label) << " &#8594;</text>\n"
        << "<text transform=\"translate(" << x0 - 22 << "," << top + cell * map.rows / 2
        << ") rotate(90)\" text-anchor=\"middle\">" << escape(row_label) << " &#8594;</text>\n"
        << "<text x=\"" << x0 + cell / 2 << "\" y=\"" << top + cell * map.rows + 16 << "\" text-anchor=\"middle\">0</text>"
        << "<text x=\"" << x0 + cell * (map.cols - 0.5) << "\" y=\"" << top + cell * map.rows + 16
        << "\" text-anchor=\"middle\">" << map.cols - 1 << "</text>"
        << "<text x=\"" << x0 - 6 << "\" y=\"" << top + cell / 2 + 4 << "\" text-anchor=\"end\">0</text>"
        << "<text x=\"" << x0 - 6 << "\" y=\"" << top + cell * (map.rows - 0.5) + 4 << "\" text-anchor=\"end\">"
        << map.rows - 1 << "</text>\n"
        << "<rect x=\"" << x0 << "\" y=\"" << top << "\" width=\"" << cell << "\" height=\"" << cell
        << "\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/><text x=\"" << x0 + cell + 3 << "\" y=\""
        << top + cell * 0.7 << "\" fill=\"#d62728\" font-size=\"11\">s0</text>\n";
  }
  // The colour bar, shared by every map.
  const double bar_x = left + maps_width + bar_gap;
  constexpr int steps = 50;
  for (int i = 0; i < steps; ++i)
    svg << "<rect x=\"" << bar_x << "\" y=\"" << top + panel * (steps - 1 - i) / steps << "\" width=\"" << bar_width
        << "\" height=\"" << panel / steps + 0.3 << "\" fill=\"" << shade((i + 0.5) / steps) << "\"/>\n";
  svg << "<rect x=\"" << bar_x << "\" y=\"" << top << "\" width=\"" << bar_width << "\" height=\"" << panel
      << "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (double tick : nice_ticks(0, maximum, false))
    if (tick <= maximum) {
      const double y = top + panel * (1 - tick / maximum);
      svg << "<line x1=\"" << bar_x + bar_width << "\" x2=\"" << bar_x + bar_width + 4 << "\" y1=\"" << y << "\" y2=\""
          << y << "\" stroke=\"#444\"/><text x=\"" << bar_x + bar_width + 7 << "\" y=\"" << y + 4 << "\">"
          << number(tick) << "</text>\n";
    }
  svg << "<text x=\"" << bar_x + bar_width / 2 << "\" y=\"" << top - 10 << "\" text-anchor=\"middle\">"
      << escape(scale_label) << "</text>\n</svg>\n";
  return svg.str();
}

}  // namespace gfn::cli
