// No heap allocation after warm-up: a whole training step (tape.clear(), MLP forward, a trajectory-
// balance-like loss, backward, Adam) is run once to size every buffer, then twice more under an
// allocation counter that must stay at zero (tests/support/allocation_counter.hpp).
#include <doctest/doctest.h>

#include <vector>

#include "core/network/adam.hpp"
#include "core/network/mlp.hpp"
#include "support/allocation_counter.hpp"

namespace gfn {
namespace {

// A GFlowNet-shaped training step in float: a sparse or dense input through an MLP with a policy head
// (A logits) and a zero-initialised flow head, masked log-softmax, the log-probability of the taken
// action per transition, a per-trajectory sum, (log Z + sum - log R)^2, its mean, backward, Adam.
struct TrainingStep {
  int batch, input_width, actions, n_trajectories, active_per_row = 3;
  bool sparse;
  ParameterStore<float> store;
  Mlp<float> net;
  int log_z = -1;
  FlatVector<float> gradient;
  Adam<float> adam;
  Tape<float> tape;
  Matrix<float> input, mask, log_reward;
  std::vector<int> active, taken, offsets, trajectory_of_row;

  TrainingStep(int batch_, int input_width_, std::vector<int> hidden, int actions_, bool sparse_)
      : batch(batch_),
        input_width(input_width_),
        actions(actions_),
        n_trajectories(batch_ / 4),
        sparse(sparse_) {
    Rng rng(11);
    net = Mlp<float>(store, "pf", {input_width, hidden, {actions, 1}, {false, true}}, rng);
    log_z = store.add("log_z", 1, 1, 1);
    gradient = store.make_gradient();
    adam = Adam<float>(store, {{1e-3, 0.01}, {1e-1, 0}});
    input = Matrix<float>::Zero(batch, input_width);
    mask = Matrix<float>::Ones(batch, actions);
    for (int b = 0; b < batch; ++b) {
      for (int k = 0; k < active_per_row; ++k) {
        active.push_back(int(rng.uniform_int(input_width)));
        input(b, active.back()) += 1;
      }
      taken.push_back(b % actions);
      mask(b, (b + 1) % actions) = 0;
    }
    for (int t = 0; t <= n_trajectories; ++t) offsets.push_back(4 * t);
    trajectory_of_row.assign(n_trajectories, 0);  // every trajectory reads the single log Z row
    log_reward = Matrix<float>::Constant(n_trajectories, 1, -2.0f);
  }

  void run() {
    tape.clear();
    NodeId heads[2];
    if (sparse) {
      net.forward_sparse(tape, store, &gradient, active.data(), batch, active_per_row, heads);
    } else {
      net.forward(tape, store, &gradient, tape.constant(input), heads);
    }
    const NodeId log_p = tape.masked_log_softmax(heads[0], tape.constant(mask));
    const NodeId per_trajectory =
        tape.segment_sum(tape.pick(log_p, taken.data()), offsets.data(), n_trajectories);
    const NodeId z =
        tape.gather_rows(tape.parameter(store, log_z, &gradient), trajectory_of_row.data(), n_trajectories);
    const NodeId residual = tape.sub(tape.add(z, per_trajectory), tape.constant(log_reward));
    const NodeId flow_term = tape.mean(tape.square(heads[1]));
    tape.backward(tape.add(tape.mean(tape.square(residual)), flow_term));
    clip_gradient_norm(gradient, 10.0);
    adam.step(store, gradient);
    std::fill(gradient.begin(), gradient.end(), 0.0f);
  }
};

void expect_no_allocation_after_warm_up(TrainingStep& step) {
  step.run();  // warm-up: sizes the arena, node list, index pool and gradient buffers
  for (int repeat = 0; repeat < 2; ++repeat) {
    const int64_t before = testing::allocation_count();
    step.run();
    CHECK(testing::allocation_count() - before == 0);
  }
}

TEST_CASE("autodiff: a warmed-up training step performs no heap allocation") {
  if (!testing::allocation_counting_available()) {
    MESSAGE("skipped: allocation counting is not available in this build (sanitizer owns malloc)");
    return;
  }
  // The counter itself counts (guards against a build where the interposition silently fails).
  const int64_t before = testing::allocation_count();
  void* volatile probe = std::malloc(64);
  std::free(probe);
  int* volatile array = new int[64];  // operator new ends in malloc
  delete[] array;
  CHECK(testing::allocation_count() - before >= 2);

  struct Size {
    const char* name;
    int batch, input_width, hidden, actions;
    bool sparse;
  };
  for (const Size& size : {Size{"sparse input, small", 16, 12, 32, 5, true},
                           Size{"dense input, small", 16, 12, 32, 5, false},
                           Size{"dense input, GEMM-sized (hidden 256, batch 256)", 256, 80, 256, 10, false},
                           Size{"sparse input, GEMM-sized (hidden 256, batch 512)", 512, 80, 256, 10, true}}) {
    CAPTURE(size.name);
    TrainingStep step(size.batch, size.input_width, {size.hidden, size.hidden}, size.actions, size.sparse);
    expect_no_allocation_after_warm_up(step);
  }
}

TEST_CASE("autodiff: once the largest step has run, smaller steps allocate nothing") {
  if (!testing::allocation_counting_available()) {
    MESSAGE("skipped: allocation counting is not available in this build (sanitizer owns malloc)");
    return;
  }
  // Steps whose sizes vary (trajectory lengths do): a chain of n x 64 nodes with a GEMM and a loss.
  ParameterStore<float> store;
  const int w = store.add("w", 64, 64);
  store.value(w).setConstant(0.01f);
  FlatVector<float> gradient = store.make_gradient();
  Tape<float> tape;
  auto step = [&](int n) {
    tape.clear();
    NodeId x = tape.constant(n, 64, 1.0f);
    for (int layer = 0; layer < 4; ++layer)
      x = tape.tanh(tape.matmul(x, tape.parameter(store, w, &gradient)));
    tape.backward(tape.mean(tape.square(x)));
  };
  step(300);  // the largest
  const int64_t capacity = tape.arena_capacity();
  const int64_t before = testing::allocation_count();
  for (int n : {100, 300, 7, 250, 1, 300}) step(n);
  CHECK(testing::allocation_count() - before == 0);
  CHECK(tape.arena_capacity() == capacity);
}

}  // namespace
}  // namespace gfn
