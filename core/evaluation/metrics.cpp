// The metrics table and the outputs derived from it.
#include "core/evaluation/metrics.hpp"

#include <cstdio>
#include <stdexcept>

#include "util/json.hpp"

namespace gfn {

const std::vector<Metric>& metrics_table() {
  using M = MetricsRow;
  using W = MetricWhen;
  static const std::vector<Metric> table = {
      {"iteration", &M::iteration, "iterations", "training iterations done", W::Always},
      {"trajectories", &M::trajectories, "trajectories", "training trajectories sampled so far", W::Always},
      {"reward_calls", &M::reward_calls, "calls",
       "terminal objects scored so far: fresh trajectories, local-search proposals and uniform draws (not replays)", W::Always},
      {"transitions", &M::transitions, "transitions", "training transitions (moves and exits) so far", W::Always},
      {"wall_s", &M::wall_s, "seconds", "training wall time so far (evaluation excluded)", W::Always},
      {"train_loss", &M::train_loss, "loss",
       "mean training loss over the iterations since the previous row", W::Always},
      {"log_z", &M::log_z, "nats", "the learned log Z", W::LogZ},
      {"l1_exact", &M::l1_exact, "probability",
       "sum over terminal states of |P_T(x) - R(x)/Z|, P_T by dynamic programming (0 to 2)", W::Enumerable},
      {"jsd_exact", &M::jsd_exact, "nats", "Jensen-Shannon divergence between P_T and R/Z", W::Enumerable},
      {"kl_exact", &M::kl_exact, "nats", "KL(R/Z || P_T)", W::Enumerable},
      {"l1_empirical", &M::l1_empirical, "probability",
       "sum over states of |visit frequency - R(x)/Z| over the last --window training terminal states (0 to 2)",
       W::Enumerable},
      {"l1_empirical_mean", &M::l1_empirical_mean, "probability",
       "l1_empirical divided by the number of states (the TLM papers' number)", W::Enumerable},
      {"modes_found", &M::modes_found, "modes", "distinct modes among all objects scored in training so far",
       W::Modes},
      {"spearman", &M::spearman, "rank correlation",
       "Spearman's rho between estimated log P_T and log R on the test set (uniform fill orders)", W::TestSet},
      {"spearman_pb", &M::spearman_pb, "rank correlation",
       "the same with fill orders sampled from the learned P_B", W::TestSetAndLearnedBackward},
      {"pb_deviation", &M::pb_deviation, "nats",
       "mean |log P_B - log uniform| over the last batch's non-initial states and their valid parents", W::LearnedBackward},
  };
  return table;
}

const Metric& find_metric(const std::string& key) {
  for (const Metric& metric : metrics_table())
    if (metric.key == key) return metric;
  throw std::invalid_argument("unknown metric '" + key + "'");
}

bool Metric::defined(const MetricTraits& traits) const {
  switch (when) {
    case MetricWhen::Always: return true;
    case MetricWhen::Enumerable: return traits.enumerable;
    case MetricWhen::LogZ: return traits.log_z;
    case MetricWhen::TestSet: return traits.test_set;
    case MetricWhen::TestSetAndLearnedBackward: return traits.test_set && traits.learned_backward;
    case MetricWhen::LearnedBackward: return traits.learned_backward;
    case MetricWhen::Modes: return traits.modes;
  }
  return false;
}

double Metric::value(const MetricsRow& row) const {
  return std::visit([&](auto member) { return double(row.*member); }, field);
}

std::string Metric::text(const MetricsRow& row) const {
  if (std::holds_alternative<int64_t MetricsRow::*>(field))
    return std::to_string(row.*std::get<int64_t MetricsRow::*>(field));
  const double number = row.*std::get<double MetricsRow::*>(field);
  if (std::isnan(number)) return "";
  char text[32];
  std::snprintf(text, sizeof(text), "%.10g", number);
  return text;
}

void Metric::set(MetricsRow& row, double number) const {
  std::visit([&](auto member) { row.*member = std::decay_t<decltype(row.*member)>(number); }, field);
}

std::string metrics_csv_header(const MetricTraits& traits) {
  std::string line;
  for (const Metric& metric : metrics_table())
    if (metric.defined(traits)) line += (line.empty() ? "" : ",") + metric.key;
  return line + "\n";
}

std::string metrics_csv_line(const MetricsRow& row, const MetricTraits& traits) {
  std::string line;
  bool first = true;
  for (const Metric& metric : metrics_table()) {
    if (!metric.defined(traits)) continue;
    line += (first ? "" : ",") + metric.text(row);
    first = false;
  }
  return line + "\n";
}

std::string metrics_json_fields(const MetricsRow& row, const MetricTraits& traits) {
  JsonObject json;
  for (const Metric& metric : metrics_table()) {
    if (!metric.defined(traits)) continue;
    if (std::holds_alternative<int64_t MetricsRow::*>(metric.field))
      json.add(metric.key, (long long)(row.*std::get<int64_t MetricsRow::*>(metric.field)));
    else
      json.add(metric.key, row.*std::get<double MetricsRow::*>(metric.field));
  }
  return json.str();
}

}  // namespace gfn
