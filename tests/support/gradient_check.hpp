// Finite-difference gradient check for anything built on a Tape<double> from a ParameterStore<double>.
//
// The caller supplies a function that builds a 1 x 1 loss node from the store; it is called once with
// a gradient buffer (analytic gradient by backward()) and twice per parameter entry without one
// (central difference (L(p + h) - L(p - h)) / 2h, default h = 1e-6). Run it in double; it is not meant
// for float. Per entry the check passes when
//   |analytic - numeric| <= absolute + relative * max(|analytic|, |numeric|)   (defaults 1e-7, 1e-6).
// Helpers: add_random_parameter() (seeded inputs) and weighted_sum() (a 1 x 1 loss in which every
// entry of a node matters). Shapes: any; parameters with 0 rows are fine (nothing to perturb).
//
//   auto loss = [&](Tape<double>& tape, const ParameterStore<double>& s, FlatVector<double>* g) {
//     return weighted_sum(tape, tape.tanh(tape.parameter(s, id, g)));
//   };
//   const GradientCheck check = check_gradient(store, loss);
//   CHECK_MESSAGE(check.passed(), check.report());   // report() names the worst entry
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>

#include "autodiff/tape.hpp"
#include "util/random.hpp"

namespace gfn::testing {

using LossBuilder = std::function<NodeId(Tape<double>&, const ParameterStore<double>&, FlatVector<double>*)>;

struct GradientTolerance {
  double step = 1e-6;      // h of the central difference
  double absolute = 1e-7;  // allowed |analytic - numeric| near zero
  double relative = 1e-6;  // allowed error relative to the larger magnitude
};

struct GradientCheck {
  int64_t entries_checked = 0;
  int64_t failures = 0;
  double loss = 0;          // at the unperturbed parameters
  double worst_excess = 0;  // largest |error| / allowed error seen (<= 1 when passed)
  std::string worst;        // description of the worst entry
  std::string failure;      // structural problem (non-scalar or non-finite loss), empty if none

  bool passed() const { return failure.empty() && failures == 0; }
  std::string report() const {
    std::ostringstream text;
    text << "gradient check: " << entries_checked << " entries, " << failures << " failures";
    if (!failure.empty()) text << ", " << failure;
    if (!worst.empty()) text << "; worst " << worst << " (error/allowed " << worst_excess << ")";
    return text.str();
  }
};

// Compares the analytic gradient of every entry of every parameter with a central difference.
// The store is perturbed in place and restored exactly.
inline GradientCheck check_gradient(ParameterStore<double>& store, const LossBuilder& build_loss,
                                    const GradientTolerance& tolerance = {}) {
  GradientCheck check;
  Tape<double> tape;
  FlatVector<double> analytic = store.make_gradient();
  const NodeId root = build_loss(tape, store, &analytic);
  if (tape.value(root).rows() != 1 || tape.value(root).cols() != 1) {
    check.failure = "loss is not 1 x 1";
    return check;
  }
  check.loss = tape.scalar(root);
  if (!std::isfinite(check.loss)) {
    check.failure = "loss is not finite";
    return check;
  }
  tape.backward(root);

  auto loss_at = [&]() {
    tape.clear();
    return tape.scalar(build_loss(tape, store, nullptr));
  };
  for (int id = 0; id < store.size(); ++id) {
    const auto& entry = store.entry(id);
    for (int r = 0; r < entry.rows; ++r)
      for (int c = 0; c < entry.cols; ++c) {
        double& value = store.value(id)(r, c);
        const double saved = value;
        value = saved + tolerance.step;
        const double plus = loss_at();
        value = saved - tolerance.step;
        const double minus = loss_at();
        value = saved;
        const double numeric = (plus - minus) / (2 * tolerance.step);
        const double exact = store.gradient(analytic, id)(r, c);
        const double error = std::abs(exact - numeric);
        const double allowed =
            tolerance.absolute + tolerance.relative * std::max(std::abs(exact), std::abs(numeric));
        const double excess = std::isnan(error) ? HUGE_VAL : error / allowed;
        ++check.entries_checked;
        if (excess > 1) ++check.failures;
        if (excess > check.worst_excess) {
          check.worst_excess = excess;
          std::ostringstream text;
          text << entry.name << "(" << r << "," << c << "): analytic " << exact << ", numeric " << numeric;
          check.worst = text.str();
        }
      }
  }
  return check;
}

// Adds a rows x cols parameter filled with U(low, high) drawn from the stream (seed 2024, key).
inline int add_random_parameter(ParameterStore<double>& store, const std::string& name, int rows, int cols,
                                uint64_t key, double low = -1, double high = 1) {
  const int id = store.add(name, rows, cols);
  Rng rng = Rng::stream(2024, key);
  auto value = store.value(id);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) value(r, c) = low + (high - low) * rng.uniform();
  return id;
}

// sum(node .* W) with W a fixed pseudo-random matrix of node's shape, entries in [-1, 1): reduces a
// node to a 1 x 1 loss in which every entry matters (a plain sum would miss errors that cancel).
inline NodeId weighted_sum(Tape<double>& tape, NodeId node) {
  const int rows = int(tape.value(node).rows()), cols = int(tape.value(node).cols());
  const NodeId weights = tape.constant(rows, cols, 0.0);
  Rng rng = Rng::stream(77, uint64_t(rows), uint64_t(cols));
  auto w = tape.mutable_value(weights);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) w(r, c) = 2 * rng.uniform() - 1;
  return tape.sum(tape.mul(node, weights));
}

}  // namespace gfn::testing
