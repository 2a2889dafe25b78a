// Spearman rank correlation (see rank_correlation.hpp): sort indices by value, average the ranks of
// each run of equal values, then the Pearson correlation of the two rank vectors, all in double.
#include "core/evaluation/rank_correlation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace gfn {

void average_ranks(const double* values, int n, double* ranks) {
  for (int i = 0; i < n; ++i)
    if (std::isnan(values[i])) throw std::invalid_argument("average_ranks: NaN value");
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return values[a] < values[b]; });
  int start = 0;
  while (start < n) {
    int end = start + 1;  // the run of equal values is order[start .. end)
    while (end < n && values[order[end]] == values[order[start]]) ++end;
    const double rank = 0.5 * (double(start + 1) + double(end));  // mean of start+1 .. end
    for (int j = start; j < end; ++j) ranks[order[j]] = rank;
    start = end;
  }
}

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<double> ranks(values.size());
  average_ranks(values.data(), int(values.size()), ranks.data());
  return ranks;
}

double spearman_correlation(const double* x, const double* y, int n) {
  std::vector<double> rank_x(n), rank_y(n);
  average_ranks(x, n, rank_x.data());
  average_ranks(y, n, rank_y.data());
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  const double mean = 0.5 * (n + 1);  // the mean of any average-rank vector
  double covariance = 0, variance_x = 0, variance_y = 0;
  for (int i = 0; i < n; ++i) {
    const double dx = rank_x[i] - mean, dy = rank_y[i] - mean;
    covariance += dx * dy;
    variance_x += dx * dx;
    variance_y += dy * dy;
  }
  if (variance_x == 0 || variance_y == 0) return std::numeric_limits<double>::quiet_NaN();
  // Clamped: rounding may put a perfect correlation a few ulps beyond 1.
  return std::clamp(covariance / std::sqrt(variance_x * variance_y), -1.0, 1.0);
}

double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw std::invalid_argument("spearman_correlation: vectors of different lengths");
  return spearman_correlation(x.data(), y.data(), int(x.size()));
}

}  // namespace gfn
