// End-to-end training throughput. Three parts:
//   1. One pass per step (core/training/forward_record.hpp) against the recompute path, per objective (TB, DB,
//      SubTB, FM) on HyperGrid 8^4 and TB on BitSeq n=120 k=8, batch 16, 1 thread, on-policy rollouts:
//      the two trainers alternate repetitions in one run, and the ratio of their medians is printed.
//   2. gfn train's defaults (one pass) on HyperGrid (standard reward), MLP 2x256 on the K-hot encoding,
//      batch 16 and 256, 1 and 2 threads, and TB on BitSeq (3840 actions: the 256 x 3840 head and the
//      3840-way masked softmax dominate), batch 16: transitions per second, the share of time in
//      rollout / loss forward / backward / optimizer, and the achieved FLOP rate as a fraction of raw
//      Eigen GEMM throughput (rows x 256 x 256) measured in the same run (per thread).
//   3. A tabular policy on BitSeq n=16 k=4 with lazy and dense Adam (also alone: `bench_train tabular`).
// `bench_train paths` runs part 1 alone.
// Medians over repetitions.
//
// FLOPs counted per evaluated state: forward F (GEMMs after the embedding-sum first layer) once in
// rollout and 2F in backward, plus F in the loss forward on the recompute path (and for rows the
// rollout did not evaluate: final rows, uniformly drawn trajectories): 3F or 4F per state. On BitSeq
// the backward skips the head's column blocks of invalid actions (Tape::linear), so its GFLOP/s count
// those skipped products too: a dense-equivalent rate, not work done.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "autodiff/matrix.hpp"
#include "bench/bench_support.hpp"
#include "core/run/settings.hpp"
#include "core/training/trainer.hpp"
#include "envs/factory.hpp"
#include "util/parallel.hpp"

using namespace gfn;
using Clock = std::chrono::steady_clock;

namespace {

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

// Median transitions/s of `iterations` steps, over the repetitions given to measure().
struct Timed {
  Trainer& trainer;
  std::vector<double> rates, gflops;
  PhaseTimes shares;
  void measure(int iterations, bool keep_shares) {
    int64_t transitions = 0;
    double passes = 0;  // forward-pass equivalents over evaluated states
    PhaseTimes times;
    const auto start = Clock::now();
    for (int i = 0; i < iterations; ++i) {
      const IterationResult result = trainer.step();
      transitions += result.transitions;
      passes += bench::forward_passes(result);
      times.rollout += result.times.rollout;
      times.loss_forward += result.times.loss_forward;
      times.backward += result.times.backward;
      times.optimizer += result.times.optimizer;
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    rates.push_back(transitions / elapsed);
    gflops.push_back(passes * trainer.model().flops_per_state() / elapsed / 1e9);
    if (keep_shares) {
      const double total = times.rollout + times.loss_forward + times.backward + times.optimizer;
      shares = PhaseTimes{times.rollout / total, times.loss_forward / total, times.backward / total,
                          times.optimizer / total, 0};  // one process: no exchange
    }
  }
};

TrainConfig default_config(const Environment& env, int batch) {
  RunSettings settings;  // gfn train's defaults for this batch (block size included), resolved for this environment
  settings.batch = batch;
  resolve_defaults(settings, env);
  return settings.train_config();
}

void run_case(const EnvConfig& env_config, int batch, int threads, int iterations, double gemm_gflops) {
  auto env = make_environment(env_config);
  RunSettings settings;
  set_threads(threads);
  Trainer trainer(*env, settings.model_config(), default_config(*env, batch));
  for (int i = 0; i < 20; ++i) trainer.step();  // warm-up: buffers reach their final sizes
  Timed timed{trainer, {}, {}, {}};
  for (int repeat = 0; repeat < 5; ++repeat) timed.measure(iterations, repeat == 2);
  const double achieved = bench::median(timed.gflops);
  const PhaseTimes& shares = timed.shares;
  std::printf("%-24s batch %-3d threads %d: %9.0f transitions/s  rollout %4.1f%%  loss %4.1f%%  "
              "backward %4.1f%%  adam %4.1f%%  %6.1f GFLOP/s = %.2f of raw GEMM x threads\n",
              env->name().c_str(), batch, threads, bench::median(timed.rates), 100 * shares.rollout,
              100 * shares.loss_forward, 100 * shares.backward, 100 * shares.optimizer, achieved,
              achieved / (gemm_gflops * threads));
}

// One pass against recompute for one objective: on-policy TB/DB/SubTB/FM (uniform draws off), batch 16.
void compare_paths(const EnvConfig& env_config, const std::string& loss, int iterations) {
  auto env = make_environment(env_config);
  RunSettings settings;
  settings.loss = loss;
  resolve_defaults(settings, *env);
  TrainConfig config = settings.train_config();
  config.uniform_ratio = 0;
  config.sampling.epsilon = 0;
  set_threads(1);
  ModelConfig model_config = settings.model_config();
  Trainer one_pass(*env, model_config, config);
  config.recompute_logprobs = true;
  Trainer recompute(*env, model_config, config);
  for (int i = 0; i < 20; ++i) {
    one_pass.step();
    recompute.step();
  }
  Timed a{one_pass, {}, {}, {}}, b{recompute, {}, {}, {}};
  for (int repeat = 0; repeat < 7; ++repeat) {  // alternating, so machine noise hits both alike
    a.measure(iterations, false);
    b.measure(iterations, false);
  }
  std::printf("%-24s %-6s batch 16 threads 1: one pass %9.0f transitions/s, recompute %9.0f: %.2fx\n",
              env->name().c_str(), loss.c_str(), bench::median(a.rates), bench::median(b.rates),
              bench::median(a.rates) / bench::median(b.rates));
}

// Tabular TB on BitSeq n=16 k=4 (83,521 states x 64 actions), batch 16, 1 thread: milliseconds per
// iteration with the lazy Adam step on the table rows the batch read, and with dense Adam over the
// whole table (TrainConfig::lazy_table_updates), in the same run.
void run_tabular_case() {
  EnvConfig env_config = bitseq();
  env_config.n = 16;
  env_config.k = 4;
  auto env = make_environment(env_config);
  RunSettings settings;
  resolve_defaults(settings, *env);
  ModelConfig model_config = settings.model_config();
  model_config.tabular = true;
  set_threads(1);
  double milliseconds[2], optimizer_share[2];
  for (const bool lazy : {true, false}) {
    TrainConfig config = settings.train_config();
    config.lazy_table_updates = lazy;
    Trainer trainer(*env, model_config, config);
    for (int i = 0; i < 20; ++i) trainer.step();
    std::vector<double> per_iteration, shares;
    for (int repeat = 0; repeat < 5; ++repeat) {
      double optimizer = 0;
      const auto start = Clock::now();
      for (int i = 0; i < 100; ++i) optimizer += trainer.step().times.optimizer;
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      per_iteration.push_back(elapsed / 100 * 1e3);
      shares.push_back(optimizer / elapsed);
    }
    milliseconds[lazy ? 0 : 1] = bench::median(per_iteration);
    optimizer_share[lazy ? 0 : 1] = bench::median(shares);
  }
  std::printf("%-24s tabular batch 16 threads 1: lazy Adam %.3f ms/iteration (adam %4.1f%%), dense Adam %.3f "
              "(adam %4.1f%%): %.1fx\n",
              env->name().c_str(), milliseconds[0], 100 * optimizer_share[0], milliseconds[1],
              100 * optimizer_share[1], milliseconds[1] / milliseconds[0]);
}

}  // namespace

int main(int argc, char** argv) {
  prefer_passive_openmp_waits(argv);  // as the gfn command does (docs/performance.md, section 3)
  if (argc > 1 && std::string(argv[1]) == "tabular") {  // `bench_train tabular`: that case alone
    run_tabular_case();
    return 0;
  }
  const double gemm16 = bench::raw_gemm_gflops(16), gemm256 = bench::raw_gemm_gflops(256);
  std::printf("raw Eigen GEMM (rows x 256 x 256, 1 thread): %.1f GFLOP/s at 16 rows, %.1f at 256 rows\n", gemm16,
              gemm256);
  for (const std::string loss : {"tb", "db", "subtb", "fm"}) compare_paths(hypergrid(8), loss, 200);
  compare_paths(bitseq(), "tb", 30);
  if (argc > 1 && std::string(argv[1]) == "paths") return 0;  // `bench_train paths`: part 1 alone
  for (int height : {8, 20})
    for (int batch : {16, 256})
      for (int threads : {1, 2})
        run_case(hypergrid(height), batch, threads, std::max(20, 8000 / batch), batch == 16 ? gemm16 : gemm256);
  for (int threads : {1, 2}) run_case(bitseq(), 16, threads, 60, gemm16);
  run_tabular_case();
  return 0;
}
