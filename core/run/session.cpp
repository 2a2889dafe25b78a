// Session implementation: the training loop with evaluation, history, checkpoints and run files.
#include "core/run/session.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "core/evaluation/terminal_likelihood.hpp"
#include "core/run/memory_estimate.hpp"
#include "util/files.hpp"
#include "util/json.hpp"
#include "util/parallel.hpp"

#include "gfn_git_revision.hpp"  // GFN_GIT_REVISION: generated at build time (cmake/git_revision.cmake)

namespace gfn {

namespace {

// Evaluation and sampling draw from streams keyed above 2^63, which training never uses.
constexpr uint64_t kEvaluationStreams = uint64_t(1) << 63;

bool learned_backward(const Model<float>& model) {
  const BackwardPolicy backward = model.config().backward;
  return backward == BackwardPolicy::Learned || backward == BackwardPolicy::Tlm ||
         backward == BackwardPolicy::Pessimistic;
}

const RunSettings& validated(const RunSettings& settings) {
  validate(settings);
  return settings;
}

RunSettings resolved(RunSettings settings, const Environment& env) {
  resolve_defaults(settings, env);
  validate(settings);
  return settings;
}

}  // namespace

Session::Session(const RunSettings& settings)
    : Session(make_environment(validated(settings).env_config()), settings) {}

Session::Session(std::unique_ptr<Environment> env, const RunSettings& settings)
    : settings_(resolved(settings, *env)), env_(std::move(env)) {
  set_threads(settings_.threads);
  check_memory(estimate_memory(settings_, *env_), settings_.max_memory);  // before anything large is allocated
  const int64_t n_states = env_->n_states();
  if (n_states >= 0 && n_states <= Enumeration::kDefaultLimit) {
    enumeration_ = std::make_unique<Enumeration>(*env_);
    window_ = std::make_unique<TerminalWindow>(n_states, settings_.window);
  }
  if (settings_.policy == "tabular") {
    require_capability(*env_, Capability::Enumeration, "--policy tabular");
    if (!enumeration_)
      throw std::invalid_argument("--policy tabular needs at most " + std::to_string(Enumeration::kDefaultLimit) +
                                  " states, and " + env_->name() + " has " + std::to_string(n_states));
  }
  trainer_ = std::make_unique<Trainer>(*env_, settings_.model_config(), settings_.train_config());
  test_set_ = has_test_set_rank_correlation(*env_);
}

MetricTraits Session::metric_traits() const {
  MetricTraits traits;
  traits.enumerable = enumeration_ != nullptr;
  traits.log_z = trainer_->model().has_log_z();
  traits.test_set = test_set_;
  traits.learned_backward = learned_backward(trainer_->model());
  traits.modes = env().provides(Capability::Modes);
  return traits;
}

// ---------------------------------------------------------------------------------------------
// Training and evaluation

void Session::set_communicator(Communicator& communicator) {
  communicator_ = &communicator;
  trainer_->set_communicator(communicator);
}

bool Session::train() {
  const bool lead = communicator_->rank() == 0, distributed = communicator_->size() > 1;
  while (trainer_->iteration() < settings_.iters) {
    std::exception_ptr failure;  // with other processes: kept for the exchange below
    bool stopping = false, saved = false;
    try {
      const auto start = std::chrono::steady_clock::now();
      const IterationResult result = trainer_->step();
      wall_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      trajectories_ += result.trajectories;
      transitions_ += result.transitions;
      loss_sum_ += result.loss;
      ++loss_count_;
      reward_calls_ += result.reward_calls;
      const int64_t iteration = trainer_->iteration();
      if (lead) {
        // The window measures the sampler: fresh trajectories only. Modes count every scored object.
        if (window_) window_->add_batch(*env_, trainer_->batch(), trainer_->fresh_trajectories());
        modes_.add_batch(*env_, trainer_->batch());
        const std::vector<int32_t>& searched = trainer_->local_search_objects();
        modes_.add_objects(*env_, searched.data(), int(searched.size()) / env_->state_width());
      }
      const bool evaluated = iteration % settings_.eval_every == 0 || iteration == settings_.iters;
      if (evaluated && lead) evaluate();
      stopping = hooks_.stop != nullptr && hooks_.stop->load();
      const bool checkpoint_due = settings_.checkpoint_every > 0 ? iteration % settings_.checkpoint_every == 0
                                                                 : evaluated;
      saved = !directory_.empty() && (checkpoint_due || iteration == settings_.iters);
      if (saved) save_checkpoint();
      if (hooks_.after_iteration) hooks_.after_iteration(*this);
    } catch (...) {
      if (!distributed) throw;
      failure = std::current_exception();
    }
    if (distributed) {  // every process stops when one asks to, and fails when one failed
      Packet mine;
      mine.put(int64_t(stopping));
      std::vector<Packet::Reader> parts = exchange(*communicator_, mine, failure);
      for (Packet::Reader& part : parts) stopping = part.take<int64_t>() != 0 || stopping;
    }
    if (stopping) {
      if (!saved && !directory_.empty()) save_checkpoint();
      return trainer_->iteration() >= settings_.iters;
    }
  }
  return true;
}

MetricsRow Session::evaluate() {
  MetricsRow row;
  row.iteration = trainer_->iteration();
  row.trajectories = trajectories_;
  row.reward_calls = reward_calls_;
  row.transitions = transitions_;
  row.wall_s = wall_s_;
  row.train_loss = loss_count_ > 0 ? loss_sum_ / double(loss_count_) : NAN;
  loss_sum_ = 0;
  loss_count_ = 0;
  const Model<float>& model = trainer_->model();
  if (model.has_log_z()) row.log_z = double(model.log_z_value());
  const bool last = row.iteration == settings_.iters;
  const bool exact_due = settings_.exact_every == 0 || row.iteration % settings_.exact_every == 0 || last;
  if (enumeration_ && exact_due) {
    if (hooks_.status) hooks_.status("exact P_T over " + std::to_string(enumeration_->n_states()) + " states");
    const ExactMetrics exact =
        compare_distributions(terminating_distribution(model, *enumeration_), enumeration_->true_distribution());
    row.l1_exact = exact.l1;
    row.jsd_exact = exact.jsd;
    row.kl_exact = exact.kl;
  }
  if (enumeration_) {
    row.l1_empirical = window_->l1_sum(enumeration_->true_distribution());
    row.l1_empirical_mean = row.l1_empirical / double(enumeration_->n_states());
  }
  row.modes_found = modes_.found();
  const bool learned = learned_backward(model);
  if (learned && trainer_->batch().n_trajectories() > 0)
    row.pb_deviation = backward_deviation_from_uniform(model, trainer_->batch());
  if (test_set_ && (row.iteration % settings_.corr_every == 0 || last)) {
    if (hooks_.status) hooks_.status("test-set Spearman (uniform fill orders)");
    row.spearman = test_set_rank_correlation(model, settings_.seed);
    if (learned) {
      if (hooks_.status) hooks_.status("test-set Spearman (fill orders from P_B)");
      row.spearman_pb = test_set_rank_correlation(model, settings_.seed, BackwardProposal::ModelBackward);
    }
  }
  history_.push_back(row);
  if (!directory_.empty()) append_to_file(directory_ + "/metrics.csv", metrics_csv_line(row, metric_traits()));
  return row;
}

std::vector<std::vector<int32_t>> Session::sample_terminal_states(int n, uint64_t seed) const {
  Sampler sampler(trainer_->model());
  TrajectoryBatch batch;
  sampler.sample(n, settings_.seed, kEvaluationStreams + seed, SamplingOptions{}, batch);
  std::vector<std::vector<int32_t>> states;
  for (int b = 0; b < n; ++b) {
    const int32_t* state = batch.terminal_state(b);
    states.emplace_back(state, state + env_->state_width());
  }
  return states;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints: the trainer's state, then the session's (window, modes, totals, history)

Checkpoint Session::checkpoint() const {
  Checkpoint checkpoint;
  checkpoint.config = to_text(settings_);
  trainer_->save(checkpoint);
  if (window_) checkpoint.integers["session.window"] = window_->contents();
  checkpoint.integers["session.modes"] = modes_.ids();
  checkpoint.integers["session.counts"] = {trajectories_, transitions_, loss_count_};
  checkpoint.integers["session.reward_calls"] = {reward_calls_};
  checkpoint.doubles["session.sums"] = {wall_s_, loss_sum_};
  for (const Metric& metric : metrics_table()) {
    if (std::holds_alternative<int64_t MetricsRow::*>(metric.field)) {
      auto& column = checkpoint.integers["history." + metric.key];
      for (const MetricsRow& row : history_) column.push_back(row.*std::get<int64_t MetricsRow::*>(metric.field));
    } else {
      auto& column = checkpoint.doubles["history." + metric.key];
      for (const MetricsRow& row : history_) column.push_back(row.*std::get<double MetricsRow::*>(metric.field));
    }
  }
  return checkpoint;
}

void Session::restore(const Checkpoint& checkpoint) {
  try {
    restore_state(checkpoint);
  } catch (const std::logic_error& error) {  // e.g. a buffer's own check on values it is handed
    throw std::runtime_error("checkpoint does not fit this run: " + std::string(error.what()));
  }
}

void Session::restore_state(const Checkpoint& checkpoint) {
  auto corrupted = [](const std::string& what) { return std::runtime_error("checkpoint " + what + " is corrupted"); };
  trainer_->restore(checkpoint);
  if (window_)
    for (int64_t index : checkpoint.integer_array("session.window")) {
      if (index < 0 || index >= enumeration_->n_states()) throw corrupted("window");
      window_->add(index);
    }
  for (int64_t mode : checkpoint.integer_array("session.modes")) modes_.add(mode);
  const auto& counts = checkpoint.integer_array("session.counts");
  const auto& sums = checkpoint.double_array("session.sums");
  if (counts.size() != 3 || sums.size() != 2) throw corrupted("session totals");
  trajectories_ = counts[0];
  transitions_ = counts[1];
  loss_count_ = counts[2];
  // A checkpoint written before reward_calls was counted comes from a run without replay or local
  // search, where every trajectory was fresh and scored once: its reward calls are its trajectories.
  const bool counts_reward_calls = checkpoint.integers.count("session.reward_calls") > 0;
  if (counts_reward_calls) {
    const auto& reward_calls = checkpoint.integer_array("session.reward_calls");
    if (reward_calls.size() != 1) throw corrupted("session totals");
    reward_calls_ = reward_calls[0];
  } else {
    reward_calls_ = trajectories_;
  }
  wall_s_ = sums[0];
  loss_sum_ = sums[1];
  // A metric added after the checkpoint was written keeps its default; any other mismatch is corruption.
  const size_t rows = checkpoint.integer_array("history.iteration").size();
  history_.assign(rows, MetricsRow{});
  for (const Metric& metric : metrics_table()) {
    const std::string name = "history." + metric.key;
    if (std::holds_alternative<int64_t MetricsRow::*>(metric.field)) {
      if (!checkpoint.integers.count(name)) continue;
      const auto& column = checkpoint.integers.at(name);
      if (column.size() != rows) throw corrupted("history");
      for (size_t i = 0; i < rows; ++i) history_[i].*std::get<int64_t MetricsRow::*>(metric.field) = column[i];
    } else {
      if (!checkpoint.doubles.count(name)) continue;
      const auto& column = checkpoint.doubles.at(name);
      if (column.size() != rows) throw corrupted("history");
      for (size_t i = 0; i < rows; ++i) history_[i].*std::get<double MetricsRow::*>(metric.field) = column[i];
    }
  }
  if (!counts_reward_calls)
    for (MetricsRow& row : history_) row.reward_calls = row.trajectories;
}

void Session::save_checkpoint() const { checkpoint().save(directory_ + "/checkpoint.bin"); }

// ---------------------------------------------------------------------------------------------
// Run files

std::string Session::config_json() const {
  JsonObject json = to_json(settings_);
  JsonObject constants;
  for (const auto& [name, value] : env_->reward_constants()) constants.add(name, value);
  json.raw("reward_constants", constants.str());
  json.add("environment", env_->name()).add("version", GFN_VERSION);
  if (std::string(GFN_GIT_REVISION).empty()) json.null("git_revision");
  else json.add("git_revision", GFN_GIT_REVISION);
  return json.str();
}

void Session::write_to(const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error || !std::filesystem::is_directory(directory))
    throw std::runtime_error("--out: cannot create directory '" + directory + "'");
  directory_ = directory;
  write_file_atomically(directory_ + "/config.json", config_json() + "\n");
  const MetricTraits traits = metric_traits();
  std::string csv = metrics_csv_header(traits);
  for (const MetricsRow& row : history_) csv += metrics_csv_line(row, traits);
  write_file_atomically(directory_ + "/metrics.csv", csv);
}

void claim_output_directory(const std::string& directory, const RunSettings& settings, bool resuming, bool force) {
  const std::string path = directory + "/checkpoint.bin";
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return;
  if (force) {
    for (const char* file : {"checkpoint.bin", "metrics.csv", "config.json", "curve.svg", "heatmap.svg"})
      std::filesystem::remove(directory + "/" + file, error);
    return;
  }
  std::string held;
  try {
    held = identity_text(from_text(Checkpoint::load(path).config));
  } catch (const std::runtime_error&) {
    throw std::invalid_argument("--out: " + directory + " holds an unreadable checkpoint: use --force to overwrite it");
  }
  if (held != identity_text(settings))
    throw std::invalid_argument("--out: " + directory +
                                " holds a run of another configuration: use another --out, or --force to overwrite it");
  if (!resuming)
    throw std::invalid_argument("--out: " + directory + " holds a run of this configuration: continue it with --resume " +
                                path + ", or start over with --force");
}

}  // namespace gfn
