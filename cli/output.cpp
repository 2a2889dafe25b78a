// Output helpers: progress bar, SVG line charts and heat maps.
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

// ---------------------------------------------------------------------------------------------

namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"};

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.4g", value);
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

}  // namespace

std::string svg_line_chart(const std::string& title, const std::string& x_label, const std::vector<Series>& series,
                           bool log_y) {
  constexpr double width = 640, height = 400, left = 70, right = 170, top = 40, bottom = 50;
  auto transform = [&](double y) { return log_y ? std::log10(y) : y; };
  double x_min = INFINITY, x_max = -INFINITY, y_min = INFINITY, y_max = -INFINITY;
  for (const Series& s : series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i]) || (log_y && s.y[i] <= 0)) continue;
      x_min = std::min(x_min, s.x[i]);
      x_max = std::max(x_max, s.x[i]);
      y_min = std::min(y_min, transform(s.y[i]));
      y_max = std::max(y_max, transform(s.y[i]));
    }
  if (!std::isfinite(x_min)) x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  if (x_max == x_min) x_max = x_min + 1;
  if (log_y) y_min = std::floor(y_min), y_max = std::ceil(y_max);
  if (y_max == y_min) y_max = y_min + 1;
  const double plot_width = width - left - right, plot_height = height - top - bottom;
  auto px = [&](double x) { return left + (x - x_min) / (x_max - x_min) * plot_width; };
  auto py = [&](double y) { return top + (1 - (transform(y) - y_min) / (y_max - y_min)) * plot_height; };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << width / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" << escape(title)
      << "</text>\n<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << plot_width << "\" height=\""
      << plot_height << "\" fill=\"none\" stroke=\"#444\"/>\n";
  // y ticks: decades on a log axis, 5 steps otherwise.
  const int y_steps = log_y ? int(y_max - y_min) : 5;
  for (int i = 0; i <= y_steps; ++i) {
    const double t = y_min + (y_max - y_min) * i / y_steps;
    const double y = top + (1 - double(i) / y_steps) * plot_height;
    svg << "<line x1=\"" << left << "\" x2=\"" << left + plot_width << "\" y1=\"" << y << "\" y2=\"" << y
        << "\" stroke=\"#ddd\"/><text x=\"" << left - 6 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">"
        << (log_y ? "1e" + number(t) : number(t)) << "</text>\n";
  }
  for (int i = 0; i <= 4; ++i) {
    const double x = x_min + (x_max - x_min) * i / 4;
    svg << "<text x=\"" << px(x) << "\" y=\"" << top + plot_height + 18 << "\" text-anchor=\"middle\">" << number(x)
        << "</text>\n";
  }
  svg << "<text x=\"" << left + plot_width / 2 << "\" y=\"" << height - 12 << "\" text-anchor=\"middle\">"
      << escape(x_label) << "</text>\n";
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const char* colour = kPalette[k % (sizeof(kPalette) / sizeof(kPalette[0]))];
    svg << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.8\" points=\"";
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i]) && (!log_y || s.y[i] > 0)) svg << px(s.x[i]) << "," << py(s.y[i]) << " ";
    svg << "\"/>\n<line x1=\"" << width - right + 12 << "\" x2=\"" << width - right + 32 << "\" y1=\""
        << top + 14 + 18 * k << "\" y2=\"" << top + 14 + 18 * k << "\" stroke=\"" << colour
        << "\" stroke-width=\"3\"/><text x=\"" << width - right + 38 << "\" y=\"" << top + 18 + 18 * k << "\">"
        << escape(s.name) << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

std::string svg_heatmaps(const std::vector<Heatmap>& maps) {
  constexpr double panel = 320, gap = 40, top = 40;
  std::ostringstream svg;
  const double width = maps.size() * panel + (maps.size() + 1) * gap;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << panel + top + 20
      << "\" font-family=\"sans-serif\" font-size=\"13\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (size_t m = 0; m < maps.size(); ++m) {
    const Heatmap& map = maps[m];
    const double x0 = gap + m * (panel + gap);
    const double cell = panel / std::max(map.rows, map.cols);
    const double maximum = std::max(*std::max_element(map.values.begin(), map.values.end()), 1e-300);
    svg << "<text x=\"" << x0 + panel / 2 << "\" y=\"24\" text-anchor=\"middle\">" << escape(map.title)
        << "</text>\n";
    for (int r = 0; r < map.rows; ++r)
      for (int c = 0; c < map.cols; ++c) {
        const double intensity = std::clamp(map.values[size_t(r) * map.cols + c] / maximum, 0.0, 1.0);
        const int shade = int(255 * (1 - intensity));
        svg << "<rect x=\"" << x0 + c * cell << "\" y=\"" << top + r * cell << "\" width=\"" << cell + 0.3
            << "\" height=\"" << cell + 0.3 << "\" fill=\"rgb(" << shade << "," << shade << ",255)\"/>\n";
      }
    svg << "<rect x=\"" << x0 << "\" y=\"" << top << "\" width=\"" << cell * map.cols << "\" height=\""
        << cell * map.rows << "\" fill=\"none\" stroke=\"#444\"/>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace gfn::cli
