// Encoding::Dense: an environment that hands the network real-valued features. With the features
// set to HyperGrid's K-hot vector, the dense path (a GEMM first layer) must compute what the sparse
// path (an embedding sum) computes: the same log-probabilities and parameter gradients in double to
// 1e-12. A dense HyperGrid also trains with TB to the exact-L1 bar of the sparse one.
#include <doctest/doctest.h>

#include <cmath>

#include "core/training/trainer.hpp"
#include "envs/check_environment.hpp"
#include "envs/hypergrid.hpp"
#include "support/core_fixtures.hpp"

namespace gfn {
namespace {

// HyperGrid whose default encoding is Dense: the features are the K-hot vector as reals.
class DenseHyperGrid : public HyperGrid {
 public:
  DenseHyperGrid() : HyperGrid(2, 8, "medium") {}
  Encoding default_encoding() const override { return Encoding::Dense; }
  int encoding_width(Encoding encoding) const override {
    return encoding == Encoding::Dense ? HyperGrid::encoding_width(Encoding::KHot) : -1;
  }
  void encode_dense(const int32_t* state, double* features) const override {
    std::vector<int32_t> active(encoding_active(Encoding::KHot));
    encode_active(state, Encoding::KHot, active.data());
    std::fill(features, features + encoding_width(Encoding::Dense), 0.0);
    for (int32_t position : active) features[position] = 1.0;
  }
};

TEST_CASE("core: a dense encoding computes what the sparse one does (log-probabilities and gradients, double)") {
  const HyperGrid sparse_env(2, 8, "medium");
  const DenseHyperGrid dense_env;
  const EnvironmentCheck check = check_environment(dense_env);
  CHECK_MESSAGE(check.passed(), check.report());

  ModelConfig config;
  config.hidden = {16, 16};
  config.backward = BackwardPolicy::Learned;  // the P_B head too
  const Model<double> sparse(sparse_env, config, 3), dense(dense_env, config, 3);  // same input width: same init
  StateMatrix states(5, 2);
  states << 0, 0, 1, 2, 7, 7, 3, 0, 5, 6;
  FlatVector<double> sparse_gradient = sparse.store().make_gradient(), dense_gradient = dense.store().make_gradient();
  Tape<double> sparse_tape, dense_tape;
  ModelScratch sparse_scratch, dense_scratch;
  const ModelOutputs a = sparse.evaluate(sparse_tape, &sparse_gradient, {states.data(), 5}, sparse_scratch);
  const ModelOutputs b = dense.evaluate(dense_tape, &dense_gradient, {states.data(), 5}, dense_scratch);
  const auto pf_sparse = sparse_tape.value(a.forward_logprobs), pf_dense = dense_tape.value(b.forward_logprobs);
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < pf_sparse.cols(); ++c) {
      CHECK(std::isinf(pf_sparse(r, c)) == std::isinf(pf_dense(r, c)));
      if (std::isfinite(pf_sparse(r, c))) CHECK(std::abs(pf_sparse(r, c) - pf_dense(r, c)) < 1e-12);
    }
  // A loss reading both heads: log P_F(exit | s) + log P_B(first valid backward action | s), summed.
  std::vector<int> exit_columns(5, sparse_env.exit_action()), backward_columns(5, -1);
  std::vector<uint8_t> mask(sparse_env.n_backward_actions());
  for (int r = 0; r < 5; ++r) {
    sparse_env.backward_mask(states.row(r).data(), mask.data());
    for (int c = int(mask.size()) - 1; c >= 0; --c)
      if (mask[c]) backward_columns[r] = c;
  }
  auto loss = [&](Tape<double>& tape, const ModelOutputs& outputs) {
    return tape.add(tape.sum(tape.pick(outputs.forward_logprobs, exit_columns.data())),
                    tape.sum(tape.pick(outputs.backward_logprobs, backward_columns.data())));
  };
  sparse_tape.backward(loss(sparse_tape, a));
  dense_tape.backward(loss(dense_tape, b));
  REQUIRE(sparse_gradient.size() == dense_gradient.size());
  double largest = 0, difference = 0;
  for (size_t i = 0; i < sparse_gradient.size(); ++i) {
    largest = std::max(largest, std::abs(sparse_gradient[i]));
    difference = std::max(difference, std::abs(sparse_gradient[i] - dense_gradient[i]));
  }
  CHECK(largest > 0.01);  // the loss reaches the parameters
  CHECK(difference < 1e-12);
}

TEST_CASE("core: TB trains on a dense encoding (HyperGrid 8x8 medium, exact L1 <= 0.01 at 1000 iterations)") {
  testing::ScopedThreads threads(1);
  const DenseHyperGrid env;
  const Enumeration all(env);
  Trainer trainer(env, ModelConfig{}, testing::train_config("tb", 16, 0));
  for (int i = 0; i < 1000; ++i) trainer.step();
  const double l1 = testing::exact_metrics(trainer.model(), all).l1;
  MESSAGE("dense HyperGrid 8x8 medium, TB: exact L1 " << l1 << " after 1000 iterations");
  CHECK(l1 <= 0.01);  // the sparse encoding's bar in test_training.cpp
}

}  // namespace
}  // namespace gfn
