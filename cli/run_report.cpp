// Summaries and plots of a session.
#include "cli/run_report.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "cli/svg.hpp"
#include "util/files.hpp"
#include "util/json.hpp"
#include "util/parallel.hpp"

namespace gfn::cli {

namespace {

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), pattern, value);
  return text;
}

// The side of the square grid the session trains on, or 0 when it is not a 2-D grid.
int grid_side(const Session& session) {
  const RunSettings& settings = session.settings();
  if (session.enumeration() == nullptr) return 0;
  if (settings.env == "grid") return 16;
  if (settings.env == "hypergrid" && settings.ndim == 2) return settings.height;
  return 0;
}

}  // namespace

std::string summary_text(const Session& session) {
  const RunSettings& settings = session.settings();
  const MetricsRow last = session.history().empty() ? MetricsRow{} : session.history().back();
  std::string text = "trained " + session.env().name() + " with " + settings.loss + " (P_B " + settings.pb +
                     ") to iteration " + std::to_string(session.trainer().iteration()) + ": " +
                     std::to_string(last.trajectories) + " trajectories, " + format("%.2f s", last.wall_s) + ", " +
                     format("%.0f transitions/s", last.wall_s > 0 ? last.transitions / last.wall_s : 0.0) + "\n ";
  const MetricTraits traits = session.metric_traits();
  int on_line = 0;
  for (const Metric& metric : metrics_table()) {
    if (!metric.defined(traits) || metric.key == "iteration" || metric.key == "trajectories" ||
        metric.key == "transitions" || metric.key == "wall_s")
      continue;
    const double value = metric.value(last);
    std::string item = " " + metric.key + " " + (std::isnan(value) ? std::string("-") : format("%.6g", value));
    if (metric.key == "log_z" && session.enumeration())
      item += format(" (true %.6g)", session.enumeration()->log_z());
    if (metric.key == "modes_found") item += " of " + std::to_string(session.env().n_modes());
    if (on_line == 4) {
      text += "\n ";
      on_line = 0;
    }
    text += " " + item;
    ++on_line;
  }
  return text + "\n";
}

std::string summary_json(const Session& session) {
  const MetricsRow last = session.history().empty() ? MetricsRow{} : session.history().back();
  JsonObject json;
  json.add("environment", session.env().name()).add("loss", session.settings().loss).add("pb", session.settings().pb);
  json.add("seed", (unsigned long)session.settings().seed).add("threads", max_threads());
  json.add("transitions_per_s", last.wall_s > 0 ? last.transitions / last.wall_s : NAN);
  if (session.enumeration()) json.add("true_log_z", session.enumeration()->log_z());
  json.add("n_modes", (long long)session.env().n_modes());
  std::string text = json.str();
  const std::string metrics = metrics_json_fields(last, session.metric_traits());
  return text.substr(0, text.size() - 1) + ", " + metrics.substr(1);
}

void write_plots(const Session& session) {
  const std::string& dir = session.directory();
  const MetricTraits traits = session.metric_traits();
  // One line per metric key against the iteration.
  auto series = [&session](const std::string& name, const std::string& key) {
    const Metric& metric = find_metric(key);
    Series line{name, {}, {}};
    for (const MetricsRow& row : session.history()) {
      line.x.push_back(double(row.iteration));
      line.y.push_back(metric.value(row));
    }
    return line;
  };
  std::vector<Panel> panels = {Panel{"train_loss (mean since the previous row)", {series("train_loss", "train_loss")},
                                     /*log_y=*/true}};
  if (traits.enumerable)
    panels.push_back(Panel{"L1 distance to R/Z",
                           {series("l1_exact", "l1_exact"), series("l1_empirical", "l1_empirical")}, true});
  else
    panels.push_back(Panel{"modes_found (of " + std::to_string(session.env().n_modes()) + ")",
                           {series("modes_found", "modes_found")}, false, /*from_zero=*/true});
  if (traits.test_set) {
    Panel spearman{"test-set Spearman", {series("spearman", "spearman")}, false};
    if (traits.learned_backward) spearman.series.push_back(series("spearman_pb", "spearman_pb"));
    panels.push_back(spearman);
  }
  write_file_atomically(dir + "/curve.svg",
                        svg_chart(session.env().name() + ", " + session.settings().loss, "iteration", panels));
  const int side = grid_side(session);
  if (side == 0) return;
  constexpr int samples = 10000;
  Heatmap sampled{"P_F: 10^4 samples", side, side, std::vector<double>(size_t(side) * side, 0.0)};
  for (const auto& state : session.sample_terminal_states(samples, 0))
    sampled.values[session.env().state_index(state.data())] += 1.0 / samples;
  Heatmap target{"target R/Z", side, side, session.enumeration()->true_distribution()};
  write_file_atomically(dir + "/heatmap.svg",
                        svg_heatmaps({sampled, target}, "coordinate 0", "coordinate 1", "probability"));
}

std::unique_ptr<Session> load_session(const std::string& checkpoint_path, double max_memory) {
  const Checkpoint checkpoint = Checkpoint::load(checkpoint_path);
  RunSettings settings = from_text(checkpoint.config);
  settings.max_memory = max_memory;
  settings.exact_every = 0;  // `gfn eval` always wants the exact metrics
  settings.corr_every = 1;   // and the rank correlation
  try {
    auto session = std::make_unique<Session>(settings);
    session->restore(checkpoint);
    return session;
  } catch (const std::invalid_argument& error) {  // the file's content, not the command line, is at fault
    throw std::runtime_error("checkpoint " + checkpoint_path + ": " + error.what());
  }
}

}  // namespace gfn::cli
