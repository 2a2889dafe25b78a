// Baseline runs implementation: the sampling loop, cut at evaluation points, and the rows' metrics.
#include "core/run/baseline_run.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

#include "core/evaluation/evaluation.hpp"
#include "core/training/baseline_samplers.hpp"
#include "envs/enumeration.hpp"

namespace gfn {

BaselineKind baseline_kind_from_name(const std::string& name) {
  for (BaselineKind kind : {BaselineKind::Mcmc, BaselineKind::Random})
    if (baseline_kind_name(kind) == name) return kind;
  throw std::invalid_argument("unknown baseline '" + name + "' (mcmc, random)");
}

std::string baseline_kind_name(BaselineKind kind) { return kind == BaselineKind::Mcmc ? "mcmc" : "random"; }

namespace {

bool enumerable(const Environment& env) {
  return env.n_states() >= 0 && env.n_states() <= Enumeration::kDefaultLimit;
}

}  // namespace

MetricTraits baseline_metric_traits(const Environment& env) {
  MetricTraits traits;
  traits.enumerable = enumerable(env);
  traits.modes = env.provides(Capability::Modes);
  return traits;
}

std::vector<MetricsRow> run_baseline(const Environment& env, const BaselineConfig& config,
                                     const std::function<void(const MetricsRow&)>& on_row) {
  if (config.budget < 1) throw std::invalid_argument("the budget must be at least 1 reward call");
  if (config.eval_every < 1) throw std::invalid_argument("--eval-every must be at least 1 reward call");
  if (config.chains < 1) throw std::invalid_argument("--chains must be at least 1");
  if (config.window < 1) throw std::invalid_argument("--window must be at least 1");
  const int width = env.state_width();
  std::unique_ptr<Enumeration> enumeration;
  std::unique_ptr<TerminalWindow> window;
  if (enumerable(env)) {
    enumeration = std::make_unique<Enumeration>(env);
    window = std::make_unique<TerminalWindow>(env.n_states(), config.window);
  }
  const bool modes = env.provides(Capability::Modes);
  ModeTracker found;

  std::vector<MetricsRow> rows;
  int64_t steps = 0, reward_calls = 0, next_row = config.eval_every;
  double wall_s = 0;
  auto take_row = [&] {
    MetricsRow row;
    row.iteration = steps;
    row.reward_calls = reward_calls;
    row.wall_s = wall_s;
    if (window) {
      row.l1_empirical = window->l1_sum(enumeration->true_distribution());
      row.l1_empirical_mean = row.l1_empirical / double(enumeration->n_states());
    }
    row.modes_found = found.found();
    rows.push_back(row);
    if (on_row) on_row(row);
  };
  // Samples go to the window, scored objects to the mode count.
  auto record = [&](const int32_t* samples, int n_samples, const int32_t* scored, int n_scored) {
    if (window) window->add_objects(env, samples, n_samples);
    if (modes) found.add_objects(env, scored, n_scored);
  };

  std::unique_ptr<MetropolisHastings> mcmc;
  std::unique_ptr<UniformGuessing> guessing;
  std::vector<int32_t> objects, scored;
  std::vector<double> log_rewards;
  auto start = std::chrono::steady_clock::now();
  if (config.kind == BaselineKind::Mcmc) {
    mcmc = std::make_unique<MetropolisHastings>(env, config.chains, config.seed);
    reward_calls = mcmc->reward_calls();  // each chain scored its starting object
    record(mcmc->states().data(), config.chains, mcmc->proposals().data(), config.chains);
  } else {
    guessing = std::make_unique<UniformGuessing>(env, config.seed);
  }
  while (reward_calls < config.budget) {
    if (mcmc) {
      mcmc->step();
      scored.clear();
      for (int chain = 0; chain < config.chains; ++chain)
        if (mcmc->proposed()[chain])
          scored.insert(scored.end(), mcmc->proposals().begin() + size_t(chain) * width,
                        mcmc->proposals().begin() + size_t(chain + 1) * width);
      reward_calls = mcmc->reward_calls();
      record(mcmc->states().data(), config.chains, scored.data(), int(scored.size()) / width);
    } else {
      const int n = int(std::min<int64_t>({config.chains, next_row - reward_calls, config.budget - reward_calls}));
      guessing->draw(n, objects, log_rewards);
      reward_calls = guessing->reward_calls();
      record(objects.data(), n, objects.data(), n);
    }
    ++steps;
    const auto now = std::chrono::steady_clock::now();
    wall_s += std::chrono::duration<double>(now - start).count();
    const bool last = reward_calls >= config.budget;
    if (reward_calls >= next_row || last) {
      take_row();
      while (next_row <= reward_calls) next_row += config.eval_every;
    }
    start = std::chrono::steady_clock::now();
  }
  if (rows.empty()) take_row();  // a budget the starting objects already met
  return rows;
}

}  // namespace gfn
