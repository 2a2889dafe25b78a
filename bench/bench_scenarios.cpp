// The field's cross-library benchmark, reproduced here: the scenarios of torchgfn's benchmark/
// (trajectory balance, MLP 2x256 with a learned P_B on the shared trunk, Adam lr 1e-3 / log Z 0.1,
// on-policy rollouts) on HyperGrid "small" (D=2, H=8), "medium" (D=4, H=16) and "large" (D=4, H=32)
// at batch 32, 128 and 512, and TB on BitSeq n=120 k=8 (the papers' size, uniform P_B) at batch 16.
// One line per scenario and batch: ms per iteration split into sample / loss / backward / optimizer,
// transitions per second, and the FLOP rate as a fraction of the machine's raw GEMM peak (rows x 256 x
// 256 on one thread, measured in this run, times the threads). Medians of 5 repetitions of at least
// 0.5 s after a warm-up.
//
//   bench_scenarios [threads] [block size]   # defaults: all cores, the batch's default blocks
//
// FLOPs per evaluated state: forward F once in the rollout, 2F in backward, plus F in the loss for rows
// the rollout did not evaluate (TrainConfig::recompute_logprobs off: core/training/forward_record.hpp).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "core/run/settings.hpp"
#include "core/training/trainer.hpp"
#include "envs/factory.hpp"
#include "util/parallel.hpp"

using namespace gfn;
using Clock = std::chrono::steady_clock;

namespace {

struct Scenario {
  std::string name;
  RunSettings settings;
};

Scenario hypergrid(const std::string& name, int ndim, int height) {
  Scenario scenario{name, RunSettings{}};
  RunSettings& s = scenario.settings;
  s.env = "hypergrid";
  s.ndim = ndim;
  s.height = height;
  s.reward = "standard";
  s.pb = "learned";
  s.tied = true;
  return scenario;
}

Scenario bitseq() {
  Scenario scenario{"bitseq n=120 k=8", RunSettings{}};
  scenario.settings.env = "bitseq";
  return scenario;
}

struct Phases {
  double sample = 0, loss = 0, backward = 0, optimizer = 0, transitions_per_second = 0, gflops = 0;
};

Phases measure(Trainer& trainer) {
  Phases phases;
  double passes = 0, elapsed = 0;
  int64_t transitions = 0, iterations = 0;
  const auto start = Clock::now();
  while (elapsed < 0.5) {
    const IterationResult result = trainer.step();
    phases.sample += result.times.rollout;
    phases.loss += result.times.loss_forward;
    phases.backward += result.times.backward;
    phases.optimizer += result.times.optimizer;
    transitions += result.transitions;
    passes += bench::forward_passes(result);
    ++iterations;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  const double ms = 1e3 / double(iterations);
  phases.sample *= ms;
  phases.loss *= ms;
  phases.backward *= ms;
  phases.optimizer *= ms;
  phases.transitions_per_second = transitions / elapsed;
  phases.gflops = passes * trainer.model().flops_per_state() / elapsed / 1e9;
  return phases;
}

void run(const Scenario& scenario, int batch, int block_size, int threads, double peak_gflops) {
  RunSettings settings = scenario.settings;
  settings.batch = batch;
  settings.block_size = std::min(block_size, batch);
  auto env = make_environment(settings.env_config());
  resolve_defaults(settings, *env);
  TrainConfig config = settings.train_config();
  config.sampling.epsilon = 0;  // on-policy, as in the other libraries' scenarios
  config.uniform_ratio = 0;
  set_threads(threads);
  Trainer trainer(*env, settings.model_config(), config);
  for (int i = 0; i < 10; ++i) trainer.step();  // warm-up: buffers reach their sizes
  std::vector<Phases> runs;
  for (int repeat = 0; repeat < 5; ++repeat) runs.push_back(measure(trainer));
  auto median_of = [&](double Phases::*field) {
    std::vector<double> values;
    for (const Phases& p : runs) values.push_back(p.*field);
    return bench::median(values);
  };
  const double sample = median_of(&Phases::sample), loss = median_of(&Phases::loss),
               backward = median_of(&Phases::backward), optimizer = median_of(&Phases::optimizer);
  std::printf("%-18s batch %4d (blocks of %3d): %7.2f ms/iter = sample %6.2f + loss %6.2f + backward %6.2f + "
              "optimizer %5.2f | %8.0f transitions/s | %.2f of GEMM peak\n",
              scenario.name.c_str(), batch, trainer.config().block_size, sample + loss + backward + optimizer,
              sample, loss, backward, optimizer, median_of(&Phases::transitions_per_second),
              median_of(&Phases::gflops) / (peak_gflops * threads));
}

}  // namespace

int main(int argc, char** argv) {
  prefer_passive_openmp_waits(argv);  // as the gfn command does (docs/performance.md, section 3)
  const int threads = argc > 1 ? std::atoi(argv[1]) : max_threads();
  const int block_size = argc > 2 ? std::atoi(argv[2]) : 0;
  const double peak = bench::raw_gemm_gflops(256);
  std::printf("threads %d; raw GEMM peak (256 x 256 x 256, 1 thread) %.1f GFLOP/s\n", threads, peak);
  for (const Scenario& scenario : {hypergrid("hypergrid small", 2, 8), hypergrid("hypergrid medium", 4, 16),
                                   hypergrid("hypergrid large", 4, 32)})
    for (int batch : {32, 128, 512}) run(scenario, batch, block_size, threads, peak);
  run(bitseq(), 16, block_size, threads, peak);
  return 0;
}
