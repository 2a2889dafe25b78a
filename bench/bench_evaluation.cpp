// Evaluation cost: one exact terminating distribution of HyperGrid 20^4 (160,000 states, MLP 2x256)
// and one BitSeq n=120 k=8 test-set likelihood (Spearman over the test set, K = 10 fill orders), on
// 1 and 2 threads. Checks first that the results are bit-identical across thread counts, then prints
// the median seconds of repeated evaluations of an untrained model (the cost does not depend on the
// parameter values), and the share of evaluation in a protocol run's wall time (gfn experiment:
// hypergrid-tlm, the exact metric every 1000 of 62,500 iterations; bitseq-tlm, the test-set
// likelihood every 2000 of 50,000), from a TB training iteration (batch 16) timed in the same run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

#include "core/evaluation/evaluation.hpp"
#include "core/evaluation/terminal_likelihood.hpp"
#include "core/run/settings.hpp"
#include "core/training/trainer.hpp"
#include "envs/enumeration.hpp"
#include "envs/factory.hpp"
#include "util/parallel.hpp"

using namespace gfn;
using Clock = std::chrono::steady_clock;

namespace {

double median_seconds(int repeats, const std::function<void()>& run) {
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    run();
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

Model<float> make_model(const Environment& env) {
  RunSettings settings;  // gfn train's defaults: MLP 2x256
  resolve_defaults(settings, env);
  return Model<float>(env, settings.model_config(), 0);
}

// Median seconds of one training iteration: TB, uniform P_B, batch 16, lr 1e-3, as gfn experiment runs it.
double seconds_per_iteration(const Environment& env, int threads) {
  RunSettings settings;
  settings.batch = 16;
  settings.lr = 1e-3;
  settings.lr_logz = 0.1;
  settings.epsilon = 0;
  settings.uniform_ratio = 0;
  resolve_defaults(settings, env);
  set_threads(threads);
  Trainer trainer(env, settings.model_config(), settings.train_config());
  for (int i = 0; i < 20; ++i) trainer.step();
  return median_seconds(5, [&] {
           for (int i = 0; i < 50; ++i) trainer.step();
         }) / 50;
}

// Evaluation's share of a run: n_evaluations of `evaluation` seconds against iterations of `iteration`.
double share(int n_evaluations, double evaluation, int iterations, double iteration) {
  return n_evaluations * evaluation / (n_evaluations * evaluation + iterations * iteration);
}

}  // namespace

int main(int /*argc*/, char** argv) {
  prefer_passive_openmp_waits(argv);  // as the gfn command does (docs/performance.md, section 3)
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as soon as it is measured
  EnvConfig grid_config;
  grid_config.env = "hypergrid";
  grid_config.ndim = 4;
  grid_config.height = 20;
  grid_config.reward = "standard";
  const auto grid = make_environment(grid_config);
  const Enumeration all(*grid);
  const Model<float> grid_model = make_model(*grid);

  EnvConfig bitseq_config;
  bitseq_config.env = "bitseq";
  const auto bitseq = make_environment(bitseq_config);
  const Model<float> bitseq_model = make_model(*bitseq);

  std::vector<double> distribution[2];
  double spearman[2];
  for (int threads : {1, 2}) {
    set_threads(threads);
    distribution[threads - 1] = terminating_distribution(grid_model, all);
    spearman[threads - 1] = test_set_rank_correlation(bitseq_model, 0);
  }
  if (std::memcmp(distribution[0].data(), distribution[1].data(), distribution[0].size() * sizeof(double)) != 0 ||
      std::memcmp(&spearman[0], &spearman[1], sizeof(double)) != 0) {
    std::printf("FAILED: evaluation differs between 1 and 2 threads\n");
    return 1;
  }

  for (int threads : {1, 2}) {
    set_threads(threads);
    const double exact = median_seconds(5, [&] { terminating_distribution(grid_model, all); });
    const double likelihood = median_seconds(3, [&] { test_set_rank_correlation(bitseq_model, 0); });
    std::printf("threads %d: exact P_T %s (%lld states) %.3f s   test-set likelihood %s (%lld strings x %d) %.3f s\n",
                threads, grid->name().c_str(), static_cast<long long>(all.n_states()), exact,
                bitseq->name().c_str(), static_cast<long long>(bitseq->test_states().rows()), kDefaultBackwardSamples,
                likelihood);
    const double grid_iteration = seconds_per_iteration(*grid, threads);
    const double bitseq_iteration = seconds_per_iteration(*bitseq, threads);
    std::printf("threads %d: TB iteration %.2f ms (hypergrid), %.2f ms (bitseq); evaluation share of a protocol run: "
                "hypergrid-tlm %.1f%% (63 exact), bitseq-tlm %.1f%% (25 likelihoods)\n",
                threads, 1e3 * grid_iteration, 1e3 * bitseq_iteration,
                100 * share(63, exact, 62500, grid_iteration), 100 * share(25, likelihood, 50000, bitseq_iteration));
  }
  return 0;
}
