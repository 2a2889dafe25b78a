// End-to-end training throughput: TB on HyperGrid (standard reward), MLP 2x256 on the K-hot
// encoding, batch 16 and 256, 1 and 2 threads; and TB on BitSeq n=120 k=8 (3840 actions: the
// 256 x 3840 head and the 3840-way masked softmax dominate), batch 16. Prints transitions per second,
// the share of time in rollout / loss forward / backward / optimizer, and the achieved FLOP rate as a
// fraction of raw Eigen GEMM throughput (rows x 256 x 256) measured in the same run (per thread).
// Medians over repetitions.
//
// FLOPs counted per evaluated state: forward F (GEMMs after the embedding-sum first layer) once in
// rollout, once in the loss forward, 2F in backward: 4F per state per iteration.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "autodiff/matrix.hpp"
#include "core/parallel.hpp"
#include "core/settings.hpp"
#include "core/trainer.hpp"
#include "envs/factory.hpp"

using namespace gfn;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Raw single-thread GEMM throughput of (rows x 256) * (256 x 256) in GFLOP/s, staggered buffers.
double raw_gemm_gflops(int rows) {
  FlatVector<float> arena(staggered_offset<float>(staggered_offset<float>(staggered_offset<float>(0) + rows * 256) +
                                                  256 * 256) + rows * 256);
  const int64_t a = staggered_offset<float>(0), b = staggered_offset<float>(a + rows * 256),
                c = staggered_offset<float>(b + 256 * 256);
  MatrixMap<float> x(arena.data() + a, rows, 256), w(arena.data() + b, 256, 256), y(arena.data() + c, rows, 256);
  x.setConstant(0.5f);
  w.setConstant(0.25f);
  std::vector<double> rates;
  for (int repeat = 0; repeat < 5; ++repeat) {
    int iterations = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    while (elapsed < 0.1) {
      y.noalias() = x * w;
      ++iterations;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    }
    rates.push_back(2.0 * rows * 256 * 256 * iterations / elapsed / 1e9);
  }
  return median(rates);
}

EnvConfig hypergrid(int height) {
  EnvConfig env_config;
  env_config.env = "hypergrid";
  env_config.ndim = 4;
  env_config.height = height;
  env_config.reward = "standard";
  return env_config;
}

EnvConfig bitseq() {
  EnvConfig env_config;
  env_config.env = "bitseq";
  return env_config;
}

void run_case(const EnvConfig& env_config, int batch, int threads, int iterations, double gemm_gflops) {
  auto env = make_environment(env_config);
  RunSettings settings;  // gfn train's defaults, resolved for this environment
  resolve_defaults(settings, *env);
  TrainConfig config = settings.train_config();
  config.batch = batch;
  set_threads(threads);
  Trainer trainer(*env, settings.model_config(), config);
  for (int i = 0; i < 20; ++i) trainer.step();  // warm-up: buffers reach their final sizes

  std::vector<double> rates, gflops;
  PhaseTimes shares;
  for (int repeat = 0; repeat < 5; ++repeat) {
    int64_t transitions = 0;
    double rows = 0;
    PhaseTimes times;
    const auto start = Clock::now();
    for (int i = 0; i < iterations; ++i) {
      const IterationResult result = trainer.step();
      transitions += result.transitions;
      rows += result.rows;
      times.rollout += result.times.rollout;
      times.loss_forward += result.times.loss_forward;
      times.backward += result.times.backward;
      times.optimizer += result.times.optimizer;
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    rates.push_back(transitions / elapsed);
    gflops.push_back(4.0 * rows * trainer.model().flops_per_state() / elapsed / 1e9);
    if (repeat == 2) {
      const double total = times.rollout + times.loss_forward + times.backward + times.optimizer;
      shares = PhaseTimes{times.rollout / total, times.loss_forward / total, times.backward / total,
                          times.optimizer / total};
    }
  }
  const double achieved = median(gflops);
  std::printf("%-24s batch %-3d threads %d: %9.0f transitions/s  rollout %4.1f%%  loss %4.1f%%  "
              "backward %4.1f%%  adam %4.1f%%  %6.1f GFLOP/s = %.2f of raw GEMM x threads\n",
              env->name().c_str(), batch, threads, median(rates), 100 * shares.rollout, 100 * shares.loss_forward,
              100 * shares.backward, 100 * shares.optimizer, achieved, achieved / (gemm_gflops * threads));
}

}  // namespace

int main(int /*argc*/, char** argv) {
  prefer_passive_openmp_waits(argv);  // as the gfn command does (docs/performance.md, section 3)
  const double gemm16 = raw_gemm_gflops(16), gemm256 = raw_gemm_gflops(256);
  std::printf("raw Eigen GEMM (rows x 256 x 256, 1 thread): %.1f GFLOP/s at 16 rows, %.1f at 256 rows\n", gemm16,
              gemm256);
  for (int height : {8, 20})
    for (int batch : {16, 256})
      for (int threads : {1, 2})
        run_case(hypergrid(height), batch, threads, std::max(20, 8000 / batch), batch == 16 ? gemm16 : gemm256);
  for (int threads : {1, 2}) run_case(bitseq(), 16, threads, 60, gemm16);
  return 0;
}
