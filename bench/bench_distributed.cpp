// Data-parallel training over MPI against threads in one process (built with GFN_MPI): TB with gfn
// train's defaults (MLP 2x256) on HyperGrid D=4 H=8 at batch 256 and 1024 and on BitSeq n=120 k=8 at
// batch 256, 1 process x 2 threads against 2 processes x 1 thread. Run it plainly: it times the
// one-process case itself, then starts `mpirun -np 2` on its own binary for the other, and prints per
// case: iterations/s of both and their ratio, the share of an iteration spent in the exchange (with
// the wait for the slower process) and in the transfer alone (the same all-gather once both are
// ready), bytes gathered per iteration; both must end with the same parameters (checked first).
//
// The modelled columns: an iteration on P processes computes its own blocks (t_block each: loss
// forward and backward, measured on one thread here) and receives the others' gradients (G bytes per
// block). On a link of W bytes/s the exchange stays under 10% of the
// iteration when G / W < t_block / 9, i.e. blocks of at least 9 G / (W t_trajectory) trajectories
// (a model: bandwidth only, no latency, no overlap; ring all-gather).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

#include "bench/bench_support.hpp"
#include "core/distributed/mpi_communicator.hpp"
#include "core/network/checkpoint.hpp"
#include "core/run/settings.hpp"
#include "core/training/trainer.hpp"
#include "envs/factory.hpp"
#include "util/parallel.hpp"

using namespace gfn;

namespace {

struct Case {
  std::string env;
  int batch, iterations;
};

const std::vector<Case> kCases = {{"hypergrid", 256, 20}, {"hypergrid", 1024, 6}, {"bitseq", 256, 3}};

struct Measured {
  double seconds = 0;          // per iteration, median of 3 repetitions
  double exchange = 0;         // seconds per iteration in the exchange (waiting for the others included)
  double transfer = 0;         // seconds of the same all-gather when every process is ready
  double loss_per_block = 0;   // seconds of loss forward + backward per block on one thread
  uint64_t parameters = 0;     // fingerprint of the parameters at the end
  int n_blocks = 0;
  int64_t gradient_bytes = 0;  // G: one block's gradient
  int block_size = 0;
};

Measured run(const Case& c, Communicator& processes) {
  RunSettings settings;  // gfn train's defaults
  settings.env = c.env;
  settings.batch = c.batch;
  auto env = make_environment(settings.env_config());
  resolve_defaults(settings, *env);
  Trainer trainer(*env, settings.model_config(), settings.train_config());
  trainer.set_communicator(processes);
  Measured measured;
  measured.block_size = trainer.config().block_size;
  measured.n_blocks = (c.batch + measured.block_size - 1) / measured.block_size;
  measured.gradient_bytes = int64_t(sizeof(float)) * trainer.model().store().flat_size();
  for (int i = 0; i < 2; ++i) trainer.step();  // warm-up: buffers reach their final sizes
  std::vector<double> seconds, exchange, loss;
  for (int repeat = 0; repeat < 3; ++repeat) {
    double total = 0, exchanged = 0, loss_time = 0;
    for (int i = 0; i < c.iterations; ++i) {
      const IterationResult result = trainer.step();
      const PhaseTimes& t = result.times;
      total += t.rollout + t.loss_forward + t.backward + t.optimizer + t.exchange;
      exchanged += t.exchange;
      loss_time += t.loss_forward + t.backward;
    }
    seconds.push_back(total / c.iterations);
    exchange.push_back(exchanged / c.iterations);
    loss.push_back(loss_time / c.iterations);
  }
  measured.seconds = bench::median(seconds);
  measured.exchange = bench::median(exchange);
  // Blocks this process built, on max_threads() threads.
  const int own = measured.n_blocks * (processes.rank() + 1) / processes.size() -
                  measured.n_blocks * processes.rank() / processes.size();
  measured.loss_per_block = bench::median(loss) * max_threads() / std::max(own, 1);
  const FlatVector<float>& values = trainer.model().store().values();
  measured.parameters = fnv1a(reinterpret_cast<const char*>(values.data()), sizeof(float) * values.size());
  return measured;
}

// Seconds of one all-gather of `bytes` from every process once all are ready (median of 10).
double transfer_seconds(Communicator& processes, size_t bytes) {
  std::vector<char> mine(bytes), all;
  std::vector<size_t> offsets;
  std::vector<double> seconds;
  for (int repeat = 0; repeat < 10; ++repeat) {
    processes.all_gather({}, all, offsets);  // lines the processes up
    const auto start = std::chrono::steady_clock::now();
    processes.all_gather(mine, all, offsets);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return bench::median(seconds);
}

// Under mpirun: each process on one thread; rank 0 prints one machine-readable line per case.
int worker() {
  MpiCommunicator world;
  set_threads(1);
  for (size_t i = 0; i < kCases.size(); ++i) {
    const Measured m = run(kCases[i], world);
    const int own = m.n_blocks * (world.rank() + 1) / world.size() - m.n_blocks * world.rank() / world.size();
    const double transfer = transfer_seconds(world, size_t(own) * size_t(m.gradient_bytes));
    if (world.rank() == 0)
      std::printf("%zu %.9g %.9g %.9g %.9g %llu\n", i, m.seconds, m.exchange, transfer, m.loss_per_block,
                  (unsigned long long)m.parameters);
  }
  std::fflush(stdout);
  return 0;
}

std::string own_path() {
  char path[4096];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof(path) - 1);
  return length > 0 ? std::string(path, size_t(length)) : std::string();
}

}  // namespace

int main() {
  if (launched_by_mpi()) return worker();
  set_threads(2);
  std::vector<Measured> local;
  for (const Case& c : kCases) local.push_back(run(c, single_process()));

  const std::string command = std::string("mpirun ") + (geteuid() == 0 ? "--allow-run-as-root " : "") +
                              "--oversubscribe -np 2 " + own_path();
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return 1;
  std::vector<Measured> distributed(kCases.size());
  size_t index = 0;
  double seconds = 0, exchange = 0, transfer = 0, loss = 0;
  unsigned long long parameters = 0;
  while (std::fscanf(pipe, "%zu %lg %lg %lg %lg %llu", &index, &seconds, &exchange, &transfer, &loss, &parameters) == 6 &&
         index < kCases.size())
    distributed[index] = Measured{seconds, exchange, transfer, loss, parameters, 0, 0, 0};
  if (pclose(pipe) != 0) {
    std::fprintf(stderr, "bench_distributed: '%s' failed\n", command.c_str());
    return 1;
  }

  for (size_t i = 0; i < kCases.size(); ++i) {
    const Case& c = kCases[i];
    const Measured& one = local[i];
    const Measured& two = distributed[i];
    if (two.parameters != one.parameters) {
      std::fprintf(stderr, "bench_distributed: %s batch %d: 2 processes end with other parameters than one\n",
                   c.env.c_str(), c.batch);
      return 1;
    }
    const double per_trajectory = two.loss_per_block / one.block_size;
    auto min_block = [&](double bytes_per_second) { return 9.0 * one.gradient_bytes / (bytes_per_second * per_trajectory); };
    std::printf("%-9s batch %4d (%2d blocks of %3d, G %.2f MB): 1x2 threads %7.2f it/s, 2x1 processes %7.2f it/s "
                "(%.2fx), exchange %4.1f%% of an iteration (transfer alone %4.1f%%), %.1f MB gathered/it, loss %.2f ms/block; "
                "model: blocks >= %.0f (10 GbE), >= %.1f (100 Gb/s) for exchange < 10%%; same parameters\n",
                c.env.c_str(), c.batch, one.n_blocks, one.block_size, one.gradient_bytes / 1e6, 1 / one.seconds,
                1 / two.seconds, one.seconds / two.seconds, 100 * two.exchange / two.seconds, 100 * two.transfer / two.seconds,
                one.n_blocks * one.gradient_bytes / 1e6, 1e3 * two.loss_per_block, min_block(1.25e9),
                min_block(12.5e9));
  }
  return 0;
}
