// The metrics of a training run, described once. MetricsRow holds one evaluation; metrics_table()
// gives each metric's key (the metrics.csv column, the --json key, the checkpoint history column and
// the name in summaries), its unit, its meaning and when it is defined. Every output that lists
// metrics walks this table, so a quantity has one name everywhere.
//
//   for (const Metric& metric : metrics_table())
//     if (metric.defined(traits)) std::cout << metric.key << " = " << metric.value(row) << "\n";
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace gfn {

struct MetricsRow {
  int64_t iteration = 0, trajectories = 0, transitions = 0;
  int64_t reward_calls = 0;  // terminal objects scored: fresh trajectories and local-search proposals
  double wall_s = 0;
  double train_loss = NAN;  // mean training loss over the iterations since the previous row
  double log_z = NAN;
  double l1_exact = NAN, jsd_exact = NAN, kl_exact = NAN;
  double l1_empirical = NAN, l1_empirical_mean = NAN;
  int64_t modes_found = 0;
  double spearman = NAN, spearman_pb = NAN;
  double pb_deviation = NAN;
};

// What a run has, which decides the metrics it reports.
struct MetricTraits {
  bool enumerable = false;        // exact P_T by dynamic programming, empirical L1 over all states
  bool log_z = false;             // the objective learns log Z
  bool test_set = false;          // a held-out test set for the rank correlation (BitSeq)
  bool learned_backward = false;  // P_B is a network (learned, tlm, pessimistic)
  bool modes = false;             // the environment defines modes (Capability::Modes)
};

enum class MetricWhen { Always, Enumerable, LogZ, TestSet, TestSetAndLearnedBackward, LearnedBackward, Modes };

struct Metric {
  std::string key;
  std::variant<int64_t MetricsRow::*, double MetricsRow::*> field;
  std::string unit;
  std::string meaning;
  MetricWhen when = MetricWhen::Always;

  bool defined(const MetricTraits& traits) const;
  double value(const MetricsRow& row) const;
  std::string text(const MetricsRow& row) const;  // integers exactly, reals to 10 significant digits, NaN empty
  void set(MetricsRow& row, double value) const;
};

const std::vector<Metric>& metrics_table();
const Metric& find_metric(const std::string& key);  // throws std::invalid_argument when unknown

// metrics.csv: the header and one line per row, over the metrics defined for the run.
std::string metrics_csv_header(const MetricTraits& traits);
std::string metrics_csv_line(const MetricsRow& row, const MetricTraits& traits);
// One flat JSON object of the defined metrics of `row` (NaN as null).
std::string metrics_json_fields(const MetricsRow& row, const MetricTraits& traits);

}  // namespace gfn
