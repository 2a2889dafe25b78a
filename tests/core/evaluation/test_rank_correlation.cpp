// Spearman rank correlation: average ranks of runs of ties, +-1 for monotone and reversed data,
// hand-computed values with ties (exact fractions worked out by hand and checked with python3
// fractions, no scipy), invariance under monotone maps, NaN when undefined, errors on bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/evaluation/rank_correlation.hpp"

namespace gfn {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

TEST_CASE("core: rank correlation uses average ranks, each run of ties getting the mean of its positions") {
  CHECK(average_ranks({10, 20, 10, 30, 20, 10}) == std::vector<double>{2, 4.5, 2, 6, 4.5, 2});
  CHECK(average_ranks({3, 1, 2}) == std::vector<double>{3, 1, 2});
  CHECK(average_ranks({-kInfinity, 0, -kInfinity, kInfinity}) == std::vector<double>{1.5, 3, 1.5, 4});
  CHECK(average_ranks({7, 7, 7}) == std::vector<double>{2, 2, 2});
  CHECK(average_ranks({}).empty());
}

TEST_CASE("core: rank correlation of monotone data is 1 and of reversed data is -1") {
  const std::vector<double> x = {1, 2, 3, 4, 5, 6};
  const std::vector<double> increasing = {-kInfinity, -3, 0.5, 10, 1e6, kInfinity};
  const std::vector<double> decreasing = {9, 8, 7, 6, 5, 4};
  CHECK(spearman_correlation(x, increasing) == 1.0);
  CHECK(spearman_correlation(x, decreasing) == -1.0);
  // Ties on both sides, in the same places: still a perfect monotone relation.
  CHECK(spearman_correlation({1, 1, 2, 3, 3}, {-5, -5, 0, 2, 2}) == doctest::Approx(1.0).epsilon(1e-15));
}

TEST_CASE("core: rank correlation with ties matches hand-computed values") {
  // x ranks (1, 2.5, 2.5, 4), y ranks (1, 3, 2, 4), mean 2.5: covariance 4.5, variances 4.5 and 5,
  // rho = 4.5 / sqrt(22.5) = 3 / sqrt(10).
  CHECK(spearman_correlation({1, 2, 2, 3}, {1, 3, 2, 4}) == doctest::Approx(3 / std::sqrt(10.0)).epsilon(1e-14));
  // x ranks (4, 1.5, 5, 1.5, 6, 8, 3, 7), y ranks (3.5, 5, 1.5, 7, 3.5, 7, 1.5, 7), mean 4.5:
  // covariance 8, variances 83/2 and 39, rho = 8 / sqrt(3237/2) = 0.19885368120992464.
  const double rho = spearman_correlation({3, 1, 4, 1, 5, 9, 2, 6}, {2, 7, 1, 8, 2, 8, 1, 8});
  CHECK(rho == doctest::Approx(0.19885368120992464).epsilon(1e-14));
  CHECK(rho == doctest::Approx(8 * std::sqrt(2.0 / 3237)).epsilon(1e-14));
  // No ties: 1 - 6 sum d^2 / (n (n^2 - 1)) with d = (0, -2, 1, 1) gives 1 - 36/60 = 0.4.
  CHECK(spearman_correlation({1, 2, 3, 4}, {1, 4, 2, 3}) == doctest::Approx(0.4).epsilon(1e-14));
}

TEST_CASE("core: rank correlation is symmetric and invariant under increasing maps") {
  const std::vector<double> x = {0.3, -1.2, 2.5, 0.3, 7.0, -0.1, 4.4};
  const std::vector<double> y = {1.0, 0.0, 3.0, 2.0, 2.0, -4.0, 5.0};
  std::vector<double> exp_x(x.size());
  for (size_t i = 0; i < x.size(); ++i) exp_x[i] = std::exp(3 * x[i]) + 1;
  const double rho = spearman_correlation(x, y);
  CHECK(spearman_correlation(y, x) == rho);
  CHECK(spearman_correlation(exp_x, y) == rho);
  CHECK(rho > -1);
  CHECK(rho < 1);
}

TEST_CASE("core: rank correlation is NaN when undefined and rejects bad input") {
  CHECK(std::isnan(spearman_correlation({1, 1, 1}, {1, 2, 3})));
  CHECK(std::isnan(spearman_correlation({1, 2, 3}, {4, 4, 4})));
  CHECK(std::isnan(spearman_correlation({1}, {2})));
  CHECK(std::isnan(spearman_correlation(std::vector<double>{}, std::vector<double>{})));
  CHECK_THROWS_AS(spearman_correlation({1, 2}, {1, 2, 3}), std::invalid_argument);
  CHECK_THROWS_AS(spearman_correlation({1, std::nan(""), 3}, {1, 2, 3}), std::invalid_argument);
}

}  // namespace
}  // namespace gfn
