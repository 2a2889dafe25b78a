// Tests of the metrics table (core/evaluation/metrics.hpp): keys are unique, the CSV header and lines agree, each
// metric is documented in the table of columns of docs/cli.md.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "core/evaluation/metrics.hpp"

namespace gfn {

TEST_CASE("metrics: one key per metric; CSV header and lines list the defined metrics in one order") {
  std::set<std::string> keys;
  for (const Metric& metric : metrics_table()) CHECK(keys.insert(metric.key).second);
  MetricTraits traits;
  traits.enumerable = true;
  const std::string header = metrics_csv_header(traits);
  CHECK(header.rfind("iteration,trajectories,reward_calls,transitions,wall_s,train_loss,l1_exact,", 0) == 0);
  CHECK(header.find("log_z") == std::string::npos);
  CHECK(header.find("spearman") == std::string::npos);
  MetricsRow row;
  row.iteration = 7;
  row.train_loss = 0.25;
  row.modes_found = 3;
  const std::string line = metrics_csv_line(row, traits);
  CHECK(line.rfind("7,0,0,0,0,0.25,,", 0) == 0);  // NaN (not computed) is an empty field
  CHECK(std::count(line.begin(), line.end(), ',') == std::count(header.begin(), header.end(), ','));
  find_metric("modes_found").set(row, 5);
  CHECK(row.modes_found == 5);
  CHECK_THROWS_AS(find_metric("loss"), std::invalid_argument);
}

TEST_CASE("metrics: docs/cli.md documents every column") {
  std::ifstream in(std::string(GFN_SOURCE_DIR) + "/docs/cli.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(!doc.empty());
  for (const Metric& metric : metrics_table()) {
    CAPTURE(metric.key);
    CHECK(doc.find("| `" + metric.key + "` | " + metric.unit + " |") != std::string::npos);
  }
}

}  // namespace gfn
