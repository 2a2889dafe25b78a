// Exact and empirical evaluation (see evaluation.hpp).
#include "core/evaluation/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "util/parallel.hpp"

namespace gfn {

// Two phases. In parallel over fixed chunks of states (chunk composition, and so every value, does
// not depend on the thread count): evaluate P_F, and turn each valid action into its probability (in
// double) and its child's index (-1 for exit). Then one serial sweep in topological order pushes the
// reach u along those edges, in the same order as a sweep that stepped the environment itself.
// 1024 rows per chunk: the hidden-layer GEMMs run near their best rate there (docs/performance.md).
std::vector<double> terminating_distribution(const Model<float>& model, const Enumeration& all) {
  const Environment& env = model.env();
  const int64_t n = all.n_states();
  const int n_actions = env.n_actions();
  const int state_width = env.state_width();
  const StateMatrix& states = all.states();
  const int exit_action = env.exit_action();

  std::vector<double> probability(size_t(n) * n_actions, 0.0);  // N x A: P_F(a | s), 0 where invalid
  std::vector<int64_t> child(size_t(n) * n_actions, -1);        // N x A: index of step(s, a), -1 for exit
  std::vector<uint8_t> final_state(n);
  constexpr int64_t chunk = 1024;
  const int64_t n_chunks = (n + chunk - 1) / chunk;
  std::vector<Tape<float>> tapes(max_threads());
  std::vector<ModelScratch> scratches(max_threads());
  std::vector<std::vector<int32_t>> steps(max_threads(), std::vector<int32_t>(state_width));
  parallel_for(n_chunks, [&](int64_t c) {
    Tape<float>& tape = tapes[thread_id()];
    int32_t* next = steps[thread_id()].data();
    const int64_t first = c * chunk;
    const int rows = int(std::min(chunk, n - first));
    tape.clear();
    const ModelOutputs outputs =
        model.evaluate(tape, nullptr, {states.row(first).data(), rows, false}, scratches[thread_id()]);
    const auto logp = tape.value(outputs.forward_logprobs);  // rows x A
    for (int r = 0; r < rows; ++r) {
      const int64_t index = first + r;
      const int32_t* state = states.row(index).data();
      final_state[index] = env.is_final(state);
      if (final_state[index]) continue;
      for (int a = 0; a < n_actions; ++a) {
        if (logp(r, a) == -std::numeric_limits<float>::infinity()) continue;
        probability[index * n_actions + a] = std::exp(double(logp(r, a)));
        if (a == exit_action) continue;
        std::copy(state, state + state_width, next);
        env.step(next, a);
        child[index * n_actions + a] = env.state_index(next);
      }
    }
  });

  std::vector<double> reach(n, 0.0), terminating(n, 0.0);
  std::vector<int32_t> initial(state_width);
  env.initial_state(initial.data());
  reach[env.state_index(initial.data())] = 1;
  for (int64_t index : all.topological_order()) {
    const double u = reach[index];
    if (u == 0) continue;
    if (final_state[index]) {
      terminating[index] += u;
      continue;
    }
    for (int a = 0; a < n_actions; ++a) {
      const double p = probability[index * n_actions + a];
      if (p == 0) continue;
      if (a == exit_action)
        terminating[index] += u * p;
      else
        reach[child[index * n_actions + a]] += u * p;
    }
  }
  return terminating;
}

ExactMetrics compare_distributions(const std::vector<double>& sampler, const std::vector<double>& target) {
  if (sampler.size() != target.size()) throw std::invalid_argument("compare_distributions: sizes differ");
  ExactMetrics metrics;
  auto kl_term = [](double p, double q) { return p > 0 ? p * std::log(p / q) : 0.0; };
  for (size_t i = 0; i < target.size(); ++i) {
    const double p = target[i], q = sampler[i], m = 0.5 * (p + q);
    metrics.l1 += std::abs(q - p);
    metrics.jsd += 0.5 * kl_term(p, m) + 0.5 * kl_term(q, m);
    metrics.kl += p > 0 ? (q > 0 ? kl_term(p, q) : std::numeric_limits<double>::infinity()) : 0.0;
  }
  return metrics;
}

double backward_deviation_from_uniform(const Model<float>& model, const TrajectoryBatch& batch) {
  Tape<float> tape;
  ModelScratch scratch;
  const ModelOutputs outputs = model.evaluate(tape, nullptr, {batch.states.data(), batch.n_rows()}, scratch);
  const auto logprobs = tape.value(outputs.backward_logprobs);
  double total = 0;
  int64_t count = 0;
  for (int r = 0; r < batch.n_rows(); ++r) {
    int parents = 0;
    for (int a = 0; a < logprobs.cols(); ++a) parents += std::isfinite(logprobs(r, a));
    for (int a = 0; a < logprobs.cols(); ++a)
      if (std::isfinite(logprobs(r, a))) {
        total += std::abs(double(logprobs(r, a)) + std::log(double(parents)));
        ++count;
      }
  }
  return count > 0 ? total / double(count) : 0.0;
}

TerminalWindow::TerminalWindow(int64_t n_states, int64_t window) : ring_(window), counts_(n_states, 0) {
  if (window < 1) throw std::invalid_argument("TerminalWindow: window must be positive");
}

void TerminalWindow::add(int64_t state_index) {
  if (filled_ == int64_t(ring_.size()))
    --counts_[ring_[next_]];
  else
    ++filled_;
  ring_[next_] = state_index;
  ++counts_[state_index];
  next_ = (next_ + 1) % int64_t(ring_.size());
}

void TerminalWindow::add_batch(const Environment& env, const TrajectoryBatch& batch, int count) {
  const int n = count < 0 ? batch.n_trajectories() : count;
  for (int b = 0; b < n; ++b) add(env.state_index(batch.terminal_state(b)));
}

void TerminalWindow::add_objects(const Environment& env, const int32_t* objects, int n) {
  for (int i = 0; i < n; ++i) add(env.state_index(objects + int64_t(i) * env.state_width()));
}

std::vector<int64_t> TerminalWindow::contents() const {
  std::vector<int64_t> oldest_first;
  const int64_t capacity = int64_t(ring_.size());
  const int64_t start = filled_ == capacity ? next_ : 0;
  for (int64_t i = 0; i < filled_; ++i) oldest_first.push_back(ring_[(start + i) % capacity]);
  return oldest_first;
}

double TerminalWindow::l1_sum(const std::vector<double>& target) const {
  double l1 = 0;
  const double total = double(std::max<int64_t>(filled_, 1));
  for (size_t i = 0; i < target.size(); ++i) l1 += std::abs(double(counts_[i]) / total - target[i]);
  return l1;
}

void ModeTracker::add_batch(const Environment& env, const TrajectoryBatch& batch) {
  for (int b = 0; b < batch.n_trajectories(); ++b) {
    const int64_t mode = env.mode_of(batch.terminal_state(b));
    if (mode >= 0) found_.insert(mode);
  }
}

void ModeTracker::add_objects(const Environment& env, const int32_t* objects, int n) {
  for (int i = 0; i < n; ++i) {
    const int64_t mode = env.mode_of(objects + int64_t(i) * env.state_width());
    if (mode >= 0) found_.insert(mode);
  }
}

std::vector<int64_t> ModeTracker::ids() const {
  std::vector<int64_t> sorted(found_.begin(), found_.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

}  // namespace gfn
