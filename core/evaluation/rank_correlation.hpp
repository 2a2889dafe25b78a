// Spearman rank correlation: the Pearson correlation of the ranks of two equal-length vectors, ties
// given their average rank (scipy.stats.spearmanr's default). Used by the BitSeq metric (docs/metrics.md).
// Not a significance test (no p-value) and not Kendall's tau. Shapes: two vectors of N doubles.
//
//   double rho = spearman_correlation(log_likelihoods, log_rewards);   // in [-1, 1]
#pragma once

#include <vector>

namespace gfn {

// ranks[i] = 1-based rank of values[i] in increasing order; a run of t equal values at positions
// r+1..r+t all get r + (t+1)/2. -inf and +inf are ordinary values. Throws std::invalid_argument on NaN.
void average_ranks(const double* values, int n, double* ranks);
std::vector<double> average_ranks(const std::vector<double>& values);

// Spearman's rho of x[0..n) and y[0..n). NaN when it is undefined: n < 2, or all of x (or all of y)
// equal. Throws std::invalid_argument on NaN inputs or different lengths.
double spearman_correlation(const double* x, const double* y, int n);
double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace gfn
