// Threads on a shared machine: TB training throughput (HyperGrid 4-D, H=8, MLP 2x256, the command's
// defaults) with 1 thread and with 2 threads under each OpenMP wait policy (GCC's default: spin a
// while, then sleep), with no process added and
// beside one CPU-bound co-tenant (a process spinning on one core). Each case runs in a child process
// (the runtime reads OMP_WAIT_POLICY once, at start); cases are interleaved over the repetitions and
// the medians printed, with each 2-thread rate as a ratio to the 1-thread rate of the same condition.
//
//   bench_cotenancy              # the table
//   bench_cotenancy --child T    # one measurement: T threads, prints transitions/s (used by the table)
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench_support.hpp"
#include "core/run/settings.hpp"
#include "core/training/trainer.hpp"
#include "envs/factory.hpp"
#include "util/parallel.hpp"

using namespace gfn;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kBatches[] = {16, 32, 256};  // 16: one block, its large products split over threads

// Transitions per second of TB on HyperGrid 8^4 at `batch`, after a warm-up.
double measure(int threads, int batch) {
  EnvConfig env_config;
  env_config.env = "hypergrid";
  env_config.ndim = 4;
  env_config.height = 8;
  auto env = make_environment(env_config);
  RunSettings settings;
  resolve_defaults(settings, *env);
  TrainConfig config = settings.train_config();
  config.batch = batch;
  set_threads(threads);
  Trainer trainer(*env, settings.model_config(), config);
  for (int i = 0; i < 10; ++i) trainer.step();
  int64_t transitions = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < 1.0) {
    transitions += trainer.step().transitions;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return transitions / elapsed;
}

// Runs `self --child threads batch` with OMP_WAIT_POLICY = policy ("default": unset) and reads its rate.
double run_child(const char* self, int threads, int batch, const std::string& policy) {
  const std::string environment = policy == "default" ? "env -u OMP_WAIT_POLICY " : "OMP_WAIT_POLICY=" + policy + " ";
  const std::string command =
      environment + self + " --child " + std::to_string(threads) + " " + std::to_string(batch);
  std::FILE* pipe = popen(command.c_str(), "r");
  double rate = 0;
  if (pipe == nullptr || std::fscanf(pipe, "%lf", &rate) != 1) rate = 0;
  if (pipe != nullptr) pclose(pipe);
  return rate;
}

pid_t start_spinner() {
  const pid_t pid = fork();
  if (pid == 0) {
    volatile unsigned long spin = 0;
    for (;;) ++spin;
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--child") == 0) {
    std::printf("%.1f\n", measure(std::atoi(argv[2]), std::atoi(argv[3])));
    return 0;
  }
  struct Case {
    int threads;
    const char* policy;
  };
  const std::vector<Case> cases = {{1, "passive"}, {2, "default"}, {2, "active"}, {2, "passive"}};
  std::printf("TB, HyperGrid 8^4, MLP 2x256; transitions/s (median of 5 interleaved runs of ~1 s), "
              "and 2 threads / 1 thread in the same condition\n");
  for (const bool shared : {false, true}) {
    const pid_t spinner = shared ? start_spinner() : 0;
    for (const int batch : kBatches) {
      std::vector<std::vector<double>> rates(cases.size());
      for (int repeat = 0; repeat < 5; ++repeat)
        for (size_t c = 0; c < cases.size(); ++c) rates[c].push_back(run_child(argv[0], cases[c].threads, batch, cases[c].policy));
      const double one_thread = bench::median(rates[0]);
      for (size_t c = 0; c < cases.size(); ++c) {
        const double rate = bench::median(rates[c]);
        std::printf("%-32s batch %-4d threads %d, wait policy %-8s %9.0f transitions/s  x%.2f\n",
                    shared ? "plus a CPU-bound co-tenant:" : "no added co-tenant:", batch, cases[c].threads,
                    cases[c].policy, rate, rate / one_thread);
      }
    }
    if (shared) {
      kill(spinner, SIGKILL);
      waitpid(spinner, nullptr, 0);
    }
  }
  return 0;
}
