// Run implementation: the training loop with evaluation, checkpoints and the files of --out.
#include "cli/run.hpp"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "cli/json.hpp"
#include "core/bitseq_likelihood.hpp"
#include "core/parallel.hpp"

namespace gfn::cli {

namespace {

// Evaluation and `gfn sample` draw from streams keyed above 2^63, which training never uses.
constexpr uint64_t kEvaluationStreams = uint64_t(1) << 63;

int64_t bits_of(double value) {
  int64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

double double_of(int64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

std::string format(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

}  // namespace

Run::Run(const RunOptions& options) : options_(options) {
  options_.validate();
  set_threads(options_.threads);
  env_ = make_environment(options_.env);
  const int64_t n_states = env_->n_states();
  if (n_states >= 0 && n_states <= Enumeration::kDefaultLimit) {
    enumeration_ = std::make_unique<Enumeration>(*env_);
    window_ = std::make_unique<TerminalWindow>(n_states, options_.window);
  }
  if (options_.policy == "tabular" && !enumeration_)
    throw std::invalid_argument("--policy tabular needs an enumerable environment (at most 10 million states)");
  trainer_ = std::make_unique<Trainer>(*env_, options_.model_config(), options_.train_config());
  bitseq_ = dynamic_cast<const BitSeq*>(env_.get());
  if (bitseq_) test_set_ = bitseq_states_from_bits(*bitseq_, bitseq_->reward().test_set());
}

void Run::train() {
  Progress progress(trainer_->iteration(), options_.iterations, options_.quiet);
  while (trainer_->iteration() < options_.iterations) {
    const auto start = std::chrono::steady_clock::now();
    const IterationResult result = trainer_->step();
    wall_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    trajectories_ += result.trajectories;
    transitions_ += result.transitions;
    last_loss_ = result.loss;
    if (window_) window_->add_batch(*env_, trainer_->batch());
    modes_.add_batch(*env_, trainer_->batch());
    const int64_t iteration = trainer_->iteration();
    if (iteration % options_.eval_every == 0 || iteration == options_.iterations) evaluate();
    progress.update(iteration, status_line());
  }
  progress.finish();
}

std::string Run::status_line() const {
  std::string status = "loss " + format(last_loss_);
  if (!history_.empty()) {
    const EvaluationRow& last = history_.back();
    if (std::isfinite(last.l1_exact))
      status += "  L1 " + format(last.l1_exact);
    else
      status += "  modes " + std::to_string(last.modes_found) + "/" + std::to_string(env_->n_modes());
  }
  return status;
}

EvaluationRow Run::evaluate() {
  EvaluationRow row;
  row.iteration = trainer_->iteration();
  row.trajectories = trajectories_;
  row.transitions = transitions_;
  row.wall_s = wall_s_;
  row.loss = last_loss_;
  row.log_z = trainer_->model().has_log_z() ? double(trainer_->model().log_z_value()) : NAN;
  const bool exact_due = options_.exact_every == 0 || row.iteration % options_.exact_every == 0 ||
                         row.iteration == options_.iterations;
  if (enumeration_ && exact_due) {
    const ExactMetrics exact =
        compare_distributions(terminating_distribution(trainer_->model(), *enumeration_),
                              enumeration_->true_distribution());
    row.l1_exact = exact.l1;
    row.jsd_exact = exact.jsd;
    row.kl_exact = exact.kl;
  }
  if (enumeration_) {
    row.l1_empirical = window_->l1_sum(enumeration_->true_distribution());
    row.l1_empirical_mean = row.l1_empirical / double(enumeration_->n_states());
  }
  row.modes_found = modes_.found();
  const BackwardPolicy backward = trainer_->model().config().backward;
  const bool learned_backward = backward == BackwardPolicy::Learned || backward == BackwardPolicy::Tlm ||
                                backward == BackwardPolicy::Pessimistic;
  if (learned_backward && trainer_->batch().n_trajectories() > 0)
    row.pb_deviation = backward_deviation_from_uniform(trainer_->model(), trainer_->batch());
  if (bitseq_ && (row.iteration % options_.corr_every == 0 || row.iteration == options_.iterations)) {
    const Model<float>& model = trainer_->model();
    row.spearman = bitseq_rank_correlation(model, *bitseq_, test_set_, kDefaultFillOrders, options_.seed);
    if (learned_backward)
      row.spearman_pb = bitseq_rank_correlation(model, *bitseq_, test_set_, kDefaultFillOrders, options_.seed,
                                                FillOrders::ModelBackward);
  }
  history_.push_back(row);
  return row;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

Checkpoint Run::checkpoint() const {
  Checkpoint checkpoint;
  checkpoint.config = options_.to_text();
  trainer_->save(checkpoint);
  if (window_) checkpoint.integers["window"] = window_->contents();
  checkpoint.integers["modes"] = modes_.ids();
  checkpoint.integers["totals"] = {trajectories_, transitions_, bits_of(wall_s_), bits_of(last_loss_)};
  auto& columns = checkpoint.integers;
  for (const EvaluationRow& row : history_) {
    columns["history.iteration"].push_back(row.iteration);
    columns["history.trajectories"].push_back(row.trajectories);
    columns["history.transitions"].push_back(row.transitions);
    columns["history.modes_found"].push_back(row.modes_found);
    for (auto [name, value] : {std::pair{"wall_s", row.wall_s}, {"loss", row.loss}, {"log_z", row.log_z},
                               {"l1_exact", row.l1_exact}, {"jsd_exact", row.jsd_exact}, {"kl_exact", row.kl_exact},
                               {"l1_empirical", row.l1_empirical}, {"l1_empirical_mean", row.l1_empirical_mean},
                               {"spearman", row.spearman}, {"spearman_pb", row.spearman_pb},
                               {"pb_deviation", row.pb_deviation}})
      columns[std::string("history.") + name].push_back(bits_of(value));
  }
  return checkpoint;
}

void Run::restore(const Checkpoint& checkpoint) {
  trainer_->restore(checkpoint);
  auto array = [&](const std::string& name) -> const std::vector<int64_t>& {
    static const std::vector<int64_t> empty;
    auto found = checkpoint.integers.find(name);
    return found == checkpoint.integers.end() ? empty : found->second;
  };
  if (window_)
    for (int64_t index : array("window")) {
      if (index < 0 || index >= enumeration_->n_states()) throw std::runtime_error("checkpoint window is corrupted");
      window_->add(index);
    }
  for (int64_t mode : array("modes")) modes_.add(mode);
  const auto& totals = array("totals");
  if (totals.size() == 4) {
    trajectories_ = totals[0];
    transitions_ = totals[1];
    wall_s_ = double_of(totals[2]);
    last_loss_ = double_of(totals[3]);
  }
  const auto& iterations = array("history.iteration");
  for (size_t i = 0; i < iterations.size(); ++i) {
    // A column added after a checkpoint was written reads as NaN; any other mismatch is corruption.
    auto column = [&](const char* name, bool optional = false) {
      const auto& values = array(std::string("history.") + name);
      if (optional && values.empty()) return bits_of(NAN);
      if (values.size() != iterations.size()) throw std::runtime_error("checkpoint history is corrupted");
      return values[i];
    };
    EvaluationRow row;
    row.iteration = iterations[i];
    row.trajectories = column("trajectories");
    row.transitions = column("transitions");
    row.modes_found = column("modes_found");
    row.wall_s = double_of(column("wall_s"));
    row.loss = double_of(column("loss"));
    row.log_z = double_of(column("log_z"));
    row.l1_exact = double_of(column("l1_exact"));
    row.jsd_exact = double_of(column("jsd_exact"));
    row.kl_exact = double_of(column("kl_exact"));
    row.l1_empirical = double_of(column("l1_empirical"));
    row.l1_empirical_mean = double_of(column("l1_empirical_mean"));
    row.spearman = double_of(column("spearman"));
    row.spearman_pb = double_of(column("spearman_pb", /*optional=*/true));
    row.pb_deviation = double_of(column("pb_deviation"));
    history_.push_back(row);
  }
}

// ---------------------------------------------------------------------------------------------
// Sampling from the trained policy

std::vector<std::vector<int32_t>> Run::sample_terminal_states(int n, uint64_t seed) const {
  Sampler sampler(trainer_->model());
  TrajectoryBatch batch;
  sampler.sample(n, options_.seed, kEvaluationStreams + seed, SamplingOptions{}, batch);
  std::vector<std::vector<int32_t>> states;
  for (int b = 0; b < n; ++b) {
    const int32_t* state = batch.terminal_state(b);
    states.emplace_back(state, state + env_->state_width());
  }
  return states;
}

std::vector<int64_t> Run::sample_terminal_indices(int n) const {
  std::vector<int64_t> indices;
  for (const auto& state : sample_terminal_states(n, 0)) indices.push_back(env_->state_index(state.data()));
  return indices;
}

// ---------------------------------------------------------------------------------------------
// Files

void Run::write_outputs(const std::string& dir) const {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error || !std::filesystem::is_directory(dir))
    throw std::runtime_error("--out: cannot create directory '" + dir + "'");
  write_file_atomically(dir + "/config.json", options_.to_json() + "\n");

  std::ostringstream csv;
  csv << "iteration,trajectories,transitions,wall_s,loss,log_z,l1_exact,jsd_exact,kl_exact,l1_empirical_sum,"
         "l1_empirical_mean,modes_found,spearman,pb_deviation,spearman_pb\n";
  csv.precision(10);
  for (const EvaluationRow& row : history_)
    csv << row.iteration << "," << row.trajectories << "," << row.transitions << "," << row.wall_s << "," << row.loss
        << "," << row.log_z << "," << row.l1_exact << "," << row.jsd_exact << "," << row.kl_exact << ","
        << row.l1_empirical << "," << row.l1_empirical_mean << "," << row.modes_found << "," << row.spearman << ","
        << row.pb_deviation << "," << row.spearman_pb << "\n";
  write_file_atomically(dir + "/metrics.csv", csv.str());
  checkpoint().save(dir + "/checkpoint.bin");

  Series loss{"loss", {}, {}}, l1{"exact L1", {}, {}}, empirical{"empirical L1 (sum)", {}, {}};
  for (const EvaluationRow& row : history_) {
    loss.x.push_back(double(row.iteration));
    loss.y.push_back(row.loss);
    l1.x.push_back(double(row.iteration));
    l1.y.push_back(row.l1_exact);
    empirical.x.push_back(double(row.iteration));
    empirical.y.push_back(row.l1_empirical);
  }
  std::vector<Series> curves = {loss};
  if (enumeration_) curves.insert(curves.end(), {l1, empirical});
  write_file_atomically(dir + "/curve.svg",
                        svg_line_chart(env_->name() + ", " + options_.loss, "iteration", curves, /*log_y=*/true));

  const bool two_dimensional_grid = enumeration_ && (options_.env.env == "grid" ||
                                                     (options_.env.env == "hypergrid" && options_.env.ndim == 2));
  if (two_dimensional_grid) {
    const int side = options_.env.env == "grid" ? 16 : options_.env.height;
    Heatmap sampled{"sampled (10^4 trajectories)", side, side, std::vector<double>(size_t(side) * side, 0.0)};
    for (int64_t index : sample_terminal_indices(10000)) sampled.values[index] += 1;
    Heatmap target{"target R/Z", side, side, enumeration_->true_distribution()};
    write_file_atomically(dir + "/heatmap.svg", svg_heatmaps({sampled, target}));
  }
}

std::string Run::summary_json() const {
  JsonObject json;
  const EvaluationRow last = history_.empty() ? EvaluationRow{} : history_.back();
  json.add("env", env_->name()).add("loss_name", options_.loss).add("pb", options_.pb);
  json.add("iters", (long long)trainer_->iteration()).add("trajectories", (long long)trajectories_);
  json.add("transitions", (long long)transitions_).add("wall_s", wall_s_);
  json.add("transitions_per_s", wall_s_ > 0 ? transitions_ / wall_s_ : NAN).add("loss", last_loss_);
  if (trainer_->model().has_log_z()) json.add("log_z", double(trainer_->model().log_z_value()));
  if (enumeration_) {
    json.add("true_log_z", enumeration_->log_z()).add("l1_exact", last.l1_exact).add("jsd_exact", last.jsd_exact);
    json.add("kl_exact", last.kl_exact).add("l1_empirical", last.l1_empirical);
    json.add("l1_empirical_mean", last.l1_empirical_mean);
  }
  json.add("modes_found", (long long)modes_.found()).add("n_modes", (long long)env_->n_modes());
  if (bitseq_) json.add("spearman", last.spearman);
  if (std::isfinite(last.spearman_pb)) json.add("spearman_pb", last.spearman_pb);
  if (std::isfinite(last.pb_deviation)) json.add("pb_deviation", last.pb_deviation);
  json.add("threads", max_threads()).add("seed", (unsigned long)options_.seed);
  return json.str();
}

std::unique_ptr<Run> load_run(const std::string& checkpoint_path) {
  const Checkpoint checkpoint = Checkpoint::load(checkpoint_path);
  RunOptions options = RunOptions::from_text(checkpoint.config);
  options.quiet = true;
  options.exact_every = 0;  // `gfn eval` always wants the exact metrics
  options.corr_every = 1;   // and the rank correlation
  auto run = std::make_unique<Run>(options);
  run->restore(checkpoint);
  return run;
}

}  // namespace gfn::cli
