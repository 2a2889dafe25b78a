// `gfn demo`: fits a small MLP to y = sin(x) on [-pi, pi] with the tape and Adam, printing the
// falling loss: a minute-zero check that the autodiff, the network and the optimiser work together.
#include <cmath>
#include <cstdio>

#include "cli/commands.hpp"
#include "core/adam.hpp"
#include "core/mlp.hpp"

namespace gfn::cli {

namespace {

struct DemoOptions {
  int iterations = 2000;
  int batch = 256;
  int hidden = 32;
  uint64_t seed = 0;
};

void run_sine_demo(const DemoOptions& options) {
  Rng rng(options.seed);
  ParameterStore<float> store;
  Mlp<float> net(store, "sine", {1, {options.hidden, options.hidden}, {1}, {}, Activation::Tanh}, rng);
  Adam<float> adam(store, {AdamGroup{1e-2}});
  FlatVector<float> gradient = store.make_gradient();
  Tape<float> tape;
  Matrix<float> x(options.batch, 1), y(options.batch, 1);
  std::printf("fitting y = sin(x) with an MLP 1-%d-%d-1 (tanh), Adam lr 1e-2, batch %d\n", options.hidden,
              options.hidden, options.batch);
  for (int iteration = 1; iteration <= options.iterations; ++iteration) {
    for (int b = 0; b < options.batch; ++b) {
      x(b, 0) = float(M_PI * (2 * rng.uniform() - 1));
      y(b, 0) = std::sin(x(b, 0));
    }
    tape.clear();
    NodeId prediction;
    net.forward(tape, store, &gradient, tape.constant(x), &prediction);
    const NodeId loss = tape.mean(tape.square(tape.sub(prediction, tape.constant(y))));
    std::fill(gradient.begin(), gradient.end(), 0.0f);
    tape.backward(loss);
    adam.step(store, gradient);
    if (iteration == 1 || iteration % (options.iterations / 10) == 0)
      std::printf("  iteration %5d   mean squared error %.6f\n", iteration, tape.scalar(loss));
  }
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto options = std::make_shared<DemoOptions>();
  CLI::App* demo = app.add_subcommand("demo", "Fit y = sin(x) with a small MLP and print the falling loss");
  demo->add_option("--iters", options->iterations, "Training iterations")->check(CLI::Range(10, 10000000));
  demo->add_option("--batch", options->batch, "Points per iteration")->check(CLI::Range(1, 1 << 20));
  demo->add_option("--hidden", options->hidden, "Hidden width")->check(CLI::Range(1, 4096));
  demo->add_option("--seed", options->seed, "Random seed");
  demo->callback([options] { run_sine_demo(*options); });
}

}  // namespace gfn::cli
