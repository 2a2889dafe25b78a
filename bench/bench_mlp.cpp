// bench_mlp: MLP forward + backward through the tape versus the same matrix products in raw Eigen.
//
// Network: input I (80 or 32) -> 256 -> 256 -> 10, ReLU, float, loss mean((out - target)^2); batch B in
// {16, 256, 4096}. First checks the tape (forward values and every parameter gradient) against the same
// network written out in plain Eigen, then times in one run: the tape step; "raw GEMM", the step's eight
// products alone (3 forward, 5 backward: no input gradient) through gemm(), i.e. Eigen's kernel with
// reused packing buffers as in the tape, on activation buffers staggered like the tape's arena; and the
// same products as plain Eigen expressions (which allocate and free their packing buffers per call).
// One line per case: GFLOP/s (GEMM FLOPs / time), tape/raw, and the tape's cost beyond the GEMMs per
// node, (tape time - raw time) / nodes. A last line gives the pure bookkeeping cost per node (a chain
// of 1 x 1 nodes). Medians of 7 repetitions of ~0.2 s each. Run with OMP_NUM_THREADS=1.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "autodiff/gemm.hpp"
#include "core/network/mlp.hpp"

namespace gfn {
namespace {

constexpr int kHidden = 256, kOut = 10, kRepetitions = 7;
constexpr double kSecondsPerRepetition = 0.2;

using Clock = std::chrono::steady_clock;

ConstMatrixMap<float> as_const(MatrixMap<float> m) {
  return ConstMatrixMap<float>(m.data(), m.rows(), m.cols());
}

struct Case {
  int input_width, batch;
  ParameterStore<float> store;  // parameters 0..5: W1, b1, W2, b2, W3, b3
  Mlp<float> net;
  FlatVector<float> gradient;
  Matrix<float> input, target;
  Tape<float> tape;
  int nodes = 0;

  Case(int input_width_, int batch_) : input_width(input_width_), batch(batch_) {
    Rng rng(1);
    net = Mlp<float>(store, "bench", {input_width, {kHidden, kHidden}, {kOut}, {}}, rng);
    gradient = store.make_gradient();
    input.resize(batch, input_width);
    target.resize(batch, kOut);
    for (int b = 0; b < batch; ++b) {
      for (int i = 0; i < input_width; ++i) input(b, i) = float(rng.uniform());
      for (int o = 0; o < kOut; ++o) target(b, o) = float(2 * rng.uniform() - 1);
    }
  }

  // One training step's tape work: build, forward, loss, backward (parameter gradients accumulate).
  NodeId tape_step() {
    tape.clear();
    NodeId out;
    net.forward(tape, store, &gradient, tape.constant(input), &out);
    tape.backward(tape.mean(tape.square(tape.sub(out, tape.constant(target)))));
    nodes = tape.size();
    return out;
  }

  // GEMM FLOPs of one step: forward x W1, a1 W2, a2 W3; backward dW3, da2, dW2, da1, dW1.
  double flops() const {
    const double b = batch, i = input_width, h = kHidden, o = kOut;
    return 2 * b * (i * h + h * h + h * o) + 2 * b * (i * h + 2 * h * h + 2 * h * o);
  }
};

// The eight products of a step on an arena laid out like the tape's (staggered buffers).
struct RawGemm {
  const ParameterStore<float>& store;
  FlatVector<float> gradient, arena, workspace;
  int batch, input_width;
  int64_t x = 0, h1 = 0, h2 = 0, out = 0, g_out = 0, g2 = 0, g1 = 0;

  explicit RawGemm(const Case& c)
      : store(c.store), gradient(c.store.make_gradient()), batch(c.batch), input_width(c.input_width) {
    int64_t end = 0;
    auto place = [&](int rows, int cols) {
      const int64_t offset = staggered_offset<float>(end);
      end = offset + int64_t(rows) * cols;
      return offset;
    };
    x = place(batch, input_width);
    h1 = place(batch, kHidden);
    h2 = place(batch, kHidden);
    out = place(batch, kOut);
    g_out = place(batch, kOut);
    g2 = place(batch, kHidden);
    g1 = place(batch, kHidden);
    arena.assign(end, 0.0f);
    at(x, input_width) = c.input;
    at(g_out, kOut).setConstant(1e-3f);
  }

  MatrixMap<float> at(int64_t offset, int cols) {
    return MatrixMap<float>(arena.data() + offset, batch, cols);
  }

  // c = lhs rhs, c = lhs rhs^T, or c += lhs^T rhs (weight gradients accumulate), by gemm() or expression.
  void product(bool expression, MatrixMap<float> lhs, bool transpose_lhs, ConstMatrixMap<float> rhs,
               bool transpose_rhs, MatrixMap<float> c) {
    if (!expression) {
      gemm(as_const(lhs), transpose_lhs, rhs, transpose_rhs, c, transpose_lhs, workspace);
    } else if (transpose_lhs) {
      c.noalias() += lhs.transpose() * rhs;
    } else if (transpose_rhs) {
      c.noalias() = lhs * rhs.transpose();
    } else {
      c.noalias() = lhs * rhs;
    }
  }

  void step(bool expression) {
    const auto w1 = store.value(0), w2 = store.value(2), w3 = store.value(4);
    auto dw1 = store.gradient(gradient, 0), dw2 = store.gradient(gradient, 2),
         dw3 = store.gradient(gradient, 4);
    product(expression, at(x, input_width), false, w1, false, at(h1, kHidden));
    product(expression, at(h1, kHidden), false, w2, false, at(h2, kHidden));
    product(expression, at(h2, kHidden), false, w3, false, at(out, kOut));
    product(expression, at(h2, kHidden), true, as_const(at(g_out, kOut)), false, dw3);
    product(expression, at(g_out, kOut), false, w3, true, at(g2, kHidden));
    product(expression, at(h1, kHidden), true, as_const(at(g2, kHidden)), false, dw2);
    product(expression, at(g2, kHidden), false, w2, true, at(g1, kHidden));
    product(expression, at(x, input_width), true, as_const(at(g1, kHidden)), false, dw1);
  }
};

// The network and its gradient written out in plain Eigen; returns the largest error of the tape's
// output and parameter gradients relative to the largest entry of each.
double check_against_plain_eigen(Case& c) {
  std::fill(c.gradient.begin(), c.gradient.end(), 0.0f);
  const Matrix<float> tape_out = c.tape.value(c.tape_step());
  const auto& s = c.store;
  const Matrix<float> z1 = (c.input * s.value(0)).rowwise() + s.value(1).row(0);
  const Matrix<float> a1 = z1.cwiseMax(0.0f);
  const Matrix<float> z2 = (a1 * s.value(2)).rowwise() + s.value(3).row(0);
  const Matrix<float> a2 = z2.cwiseMax(0.0f);
  const Matrix<float> out = (a2 * s.value(4)).rowwise() + s.value(5).row(0);
  const Matrix<float> g_out = (out - c.target) * (2.0f / float(out.size()));
  const Matrix<float> g2 =
      ((g_out * s.value(4).transpose()).array() * (z2.array() > 0).cast<float>()).matrix();
  const Matrix<float> g1 = ((g2 * s.value(2).transpose()).array() * (z1.array() > 0).cast<float>()).matrix();
  const Matrix<float> expected[] = {c.input.transpose() * g1, g1.colwise().sum(),     a1.transpose() * g2,
                                    g2.colwise().sum(),       a2.transpose() * g_out, g_out.colwise().sum()};
  auto relative = [](const auto& a, const auto& b) {
    return double((a - b).cwiseAbs().maxCoeff() / std::max(b.cwiseAbs().maxCoeff(), 1e-30f));
  };
  double worst = relative(tape_out, out);
  for (int id = 0; id < 6; ++id) worst = std::max(worst, relative(s.gradient(c.gradient, id), expected[id]));
  return worst;
}

// Forward + backward of a chain of 1 x 1 nodes (parameter, then scale and tanh, 1000 times, then sum).
struct NodeChain {
  ParameterStore<float> store;
  FlatVector<float> gradient;
  Tape<float> tape;

  NodeChain() {
    store.add("p", 1, 1);
    store.value(0)(0, 0) = 0.5f;
    gradient = store.make_gradient();
  }
  void step() {
    tape.clear();
    NodeId x = tape.parameter(store, 0, &gradient);
    for (int k = 0; k < 1000; ++k) x = tape.tanh(tape.scale(x, 1.01f));
    tape.backward(tape.sum(x));
  }
};

template <typename Step>
double seconds_per_call(Step step, int calls) {
  const auto start = Clock::now();
  for (int k = 0; k < calls; ++k) step();
  return std::chrono::duration<double>(Clock::now() - start).count() / calls;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace
}  // namespace gfn

int main() {
  using namespace gfn;
  std::printf(
      "bench_mlp: I -> %d -> %d -> %d, ReLU, float, mean-square loss, forward + backward; "
      "median of %d x ~%.1f s\n",
      kHidden, kHidden, kOut, kRepetitions, kSecondsPerRepetition);
  bool all_correct = true;
  for (int input_width : {80, 32})
    for (int batch : {16, 256, 4096}) {
      Case c(input_width, batch);
      const double error = check_against_plain_eigen(c);
      const bool correct = error < 1e-4;
      all_correct = all_correct && correct;
      RawGemm raw(c);
      // Warm up all three, then size the repetitions to ~0.2 s of tape steps.
      const double estimate = seconds_per_call([&] { c.tape_step(); }, 3);
      seconds_per_call([&] { raw.step(false); }, 3);
      seconds_per_call([&] { raw.step(true); }, 3);
      const int calls = std::max(1, int(kSecondsPerRepetition / estimate));
      std::vector<double> tape_times, raw_times, expression_times;
      for (int r = 0; r < kRepetitions; ++r) {
        tape_times.push_back(seconds_per_call([&] { c.tape_step(); }, calls));
        raw_times.push_back(seconds_per_call([&] { raw.step(false); }, calls));
        expression_times.push_back(seconds_per_call([&] { raw.step(true); }, calls));
      }
      const double tape_time = median(tape_times), raw_time = median(raw_times);
      const double gflop = c.flops() * 1e-9;
      std::printf(
          "I=%-2d B=%-4d tape %5.1f GFLOP/s %8.1f us | raw GEMM %5.1f GFLOP/s %8.1f us | tape/raw %.2f | "
          "overhead %5.0f ns/node (%d nodes) | Eigen expressions %5.1f GFLOP/s | check %s (%.0e)\n",
          input_width, batch, gflop / tape_time, tape_time * 1e6, gflop / raw_time, raw_time * 1e6,
          raw_time / tape_time, (tape_time - raw_time) * 1e9 / c.nodes, c.nodes,
          gflop / median(expression_times), correct ? "ok" : "FAILED", error);
      std::fflush(stdout);
    }
  NodeChain chain;
  const int calls = std::max(1, int(kSecondsPerRepetition / seconds_per_call([&] { chain.step(); }, 10)));
  std::vector<double> chain_times;
  for (int r = 0; r < kRepetitions; ++r)
    chain_times.push_back(seconds_per_call([&] { chain.step(); }, calls));
  std::printf("bookkeeping: %.0f ns/node (chain of %d nodes of 1 x 1, forward + backward)\n",
              median(chain_times) * 1e9 / chain.tape.size(), chain.tape.size());
  return all_correct ? 0 : 1;
}
