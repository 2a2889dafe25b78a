// Summaries and plots of a session.
#include "cli/run_report.hpp"

#include <cmath>
#include <cstdio>

#include "cli/output.hpp"
#include "core/files.hpp"
#include "core/json.hpp"
#include "core/parallel.hpp"

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
  Series loss{"train loss", {}, {}}, l1{"exact L1", {}, {}}, empirical{"empirical L1", {}, {}};
  for (const MetricsRow& row : session.history()) {
    loss.x.push_back(double(row.iteration));
    loss.y.push_back(row.train_loss);
    l1.x.push_back(double(row.iteration));
    l1.y.push_back(row.l1_exact);
    empirical.x.push_back(double(row.iteration));
    empirical.y.push_back(row.l1_empirical);
  }
  std::vector<Series> curves = {loss};
  if (session.enumeration()) curves.insert(curves.end(), {l1, empirical});
  write_file_atomically(dir + "/curve.svg", svg_line_chart(session.env().name() + ", " + session.settings().loss,
                                                           "iteration", curves, /*log_y=*/true));
  const int side = grid_side(session);
  if (side == 0) return;
  Heatmap sampled{"sampled (10^4 trajectories)", side, side, std::vector<double>(size_t(side) * side, 0.0)};
  for (const auto& state : session.sample_terminal_states(10000, 0)) sampled.values[session.env().state_index(state.data())] += 1;
  Heatmap target{"target R/Z", side, side, session.enumeration()->true_distribution()};
  write_file_atomically(dir + "/heatmap.svg", svg_heatmaps({sampled, target}));
}

std::unique_ptr<Session> load_session(const std::string& checkpoint_path) {
  const Checkpoint checkpoint = Checkpoint::load(checkpoint_path);
  RunSettings settings = from_text(checkpoint.config);
  settings.exact_every = 0;  // `gfn eval` always wants the exact metrics
  settings.corr_every = 1;   // and the rank correlation
  auto session = std::make_unique<Session>(settings);
  session->restore(checkpoint);
  return session;
}

}  // namespace gfn::cli
