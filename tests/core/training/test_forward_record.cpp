// One-pass training (core/training/forward_record.hpp): the loss reuses the rollout's forward pass.
//   1. Tape::linear with given rows copies exactly those rows, computes the others as linear() does,
//      and has linear()'s gradients (double, any mix of given rows).
//   2. The sampler records every row it drew an action at and no other (final rows of BitSeq).
//   3. Every objective built on a record gives the loss and gradient of a recomputed one to rounding
//      (float, relative 1e-5 / 1e-4), tied and untied, with and without an exit action, over blocks.
//   4. The trainer's two paths train on the same first batch with the same loss to rounding, also
//      with local search and uniformly drawn trajectories mixed into the block.
// Thread invariance and bit-identical resume of the default (one-pass) path are in test_training.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/training/objectives.hpp"
#include "core/training/sampler.hpp"
#include "core/training/trainer.hpp"
#include "envs/bitseq.hpp"
#include "envs/hypergrid.hpp"
#include "support/core_fixtures.hpp"

namespace gfn {
namespace {

TEST_CASE("tape: linear with given rows copies them, computes the rest, and differentiates like linear") {
  Rng rng = Rng::stream(7, 0);
  auto random_matrix = [&](int rows, int cols) {
    Matrix<double> m(rows, cols);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) m(r, c) = 2 * rng.uniform() - 1;
    return m;
  };
  ParameterStore<double> store;
  const int w = store.add("w", 3, 4), b = store.add("b", 1, 4);
  store.value(w) = random_matrix(3, 4);
  store.value(b) = random_matrix(1, 4);
  const Matrix<double> x = random_matrix(5, 3);
  const Matrix<double> upstream = random_matrix(5, 4);  // d loss / d y, through a weighted sum
  const Matrix<double> given = random_matrix(5, 4) * 100;  // values no product would give

  // Reference: plain linear.
  Tape<double> tape;
  FlatVector<double> reference_gradient = store.make_gradient();
  const NodeId reference_x = tape.constant(x);
  const NodeId reference =
      tape.linear(reference_x, tape.parameter(store, w, &reference_gradient), tape.parameter(store, b, &reference_gradient));
  const Matrix<double> reference_value = tape.value(reference);
  tape.backward(tape.sum(tape.mul(reference, tape.constant(upstream))));

  for (const std::vector<int>& given_mask : std::vector<std::vector<int>>{{0, 0, 0, 0, 0}, {1, 0, 1, 0, 0}, {1, 1, 1, 1, 1}}) {
    CAPTURE(given_mask[0] + 2 * given_mask[1] + 4 * given_mask[2] + 8 * given_mask[4]);
    std::vector<const double*> rows(5, nullptr);
    for (int r = 0; r < 5; ++r)
      if (given_mask[r]) rows[r] = given.row(r).data();
    Tape<double> reuse;
    FlatVector<double> gradient = store.make_gradient();
    const NodeId input = reuse.constant(x);
    const NodeId y = reuse.linear(input, reuse.parameter(store, w, &gradient), reuse.parameter(store, b, &gradient),
                                  rows.data());
    for (int r = 0; r < 5; ++r)
      for (int c = 0; c < 4; ++c) CHECK(reuse.value(y)(r, c) == (given_mask[r] ? given(r, c) : reference_value(r, c)));
    reuse.backward(reuse.sum(reuse.mul(y, reuse.constant(upstream))));
    for (size_t i = 0; i < gradient.size(); ++i) CHECK(gradient[i] == reference_gradient[i]);
  }
}

ModelConfig full_config(bool tied) {
  ModelConfig config;
  config.hidden = {32, 32};  // a trunk GEMM after the embedding: two dense layers per network, plus heads
  config.tied = tied;
  config.backward = BackwardPolicy::Learned;
  config.state_flow = true;
  config.log_z = true;
  return config;
}

// Rows of a sampled batch that the record holds, over all dense layers (each row all or none).
int recorded_rows(const ForwardRecord<float>& record, const TrajectoryBatch& batch) {
  int rows = 0;
  for (int b = 0; b < batch.n_trajectories(); ++b)
    for (int t = 0; t < batch.offsets[b + 1] - batch.offsets[b]; ++t) {
      const bool first = record.row(0, b, t) != nullptr;
      for (int k = 1; k < record.n_layers(); ++k) REQUIRE((record.row(k, b, t) != nullptr) == first);
      rows += first;
    }
  return rows;
}

int rows_with_action(const TrajectoryBatch& batch) {
  int rows = 0;
  for (int action : batch.actions) rows += action >= 0;
  return rows;
}

// Loss and gradient of `loss` over blocks of 16 trajectories, with or without the record.
struct LossAndGradient {
  double loss = 0;
  FlatVector<float> gradient;
};
LossAndGradient batch_loss(const Model<float>& model, const std::string& loss, const TrajectoryBatch& batch,
                           const ForwardRecord<float>* record) {
  ObjectiveConfig config;
  config.loss = loss;
  config.log_reward_floor = -12;
  const BatchCounts counts = count_batch(batch, model.env().exit_action());
  LossAndGradient result;
  result.gradient = model.store().make_gradient();
  for (int first = 0; first < batch.n_trajectories(); first += 16) {
    const std::unique_ptr<BlockObjective<float>> objective = make_block_objective<float>(config);
    Tape<float> tape;
    NodeId node = objective->build(tape, &result.gradient, model,
                                   {batch, counts, first, std::min(16, batch.n_trajectories() - first), record});
    if (objective->needs_batch_total()) node = objective->finish(tape, objective->block_total(tape), counts);
    tape.backward(node);
    result.loss += tape.scalar(node);
  }
  return result;
}

void check_objectives_on_record(const Environment& env) {
  for (bool tied : {false, true}) {
    CAPTURE(tied);
    Model<float> model(env, full_config(tied), 5);
    testing::randomise_parameters(model.store(), 11, -0.3, 0.3);
    Sampler sampler(model);
    sampler.set_recording(true);
    TrajectoryBatch batch;
    sampler.sample(20, 3, 0, SamplingOptions{}, batch);
    // Every row with an action was evaluated by the rollout and recorded; final rows were not.
    CHECK(sampler.forward_record().n_layers() == (tied ? 4 : 2));
    CHECK(recorded_rows(sampler.forward_record(), batch) == rows_with_action(batch));
    for (const std::string loss : {"tb", "db", "modified-db", "subtb", "zvar", "fm"}) {
      if (loss == "modified-db" && env.exit_action() < 0) continue;
      CAPTURE(loss);
      const LossAndGradient reused = batch_loss(model, loss, batch, &sampler.forward_record());
      const LossAndGradient recomputed = batch_loss(model, loss, batch, nullptr);
      CHECK(std::abs(reused.loss - recomputed.loss) <= 1e-5 * std::max(1.0, std::abs(recomputed.loss)));
      double difference = 0, norm = 0;
      for (size_t i = 0; i < reused.gradient.size(); ++i) {
        difference += std::pow(double(reused.gradient[i]) - recomputed.gradient[i], 2);
        norm += std::pow(double(recomputed.gradient[i]), 2);
      }
      CHECK(norm > 0);
      CHECK(std::sqrt(difference) <= 1e-4 * std::sqrt(norm));
    }
  }
}

TEST_CASE("core: one-pass objectives match recomputed ones to rounding (HyperGrid 5x5, exit action)") {
  check_objectives_on_record(HyperGrid(2, 5, "medium"));
}

TEST_CASE("core: one-pass objectives match recomputed ones to rounding (BitSeq n=8 k=2, final rows)") {
  check_objectives_on_record(BitSeq(8, 2, {"00001111", "11110000"}, 2.0, 2));
}

TEST_CASE("core: trainer one-pass and recompute paths train on the same batch with the same loss") {
  const HyperGrid env(2, 8, "hard");
  for (bool mixed : {false, true}) {
    CAPTURE(mixed);
    TrainConfig config;
    config.batch = 24;  // two blocks, the second partly fresh when mixed
    if (mixed) {
      config.uniform_ratio = 0.25;
      config.local_search.backtrack = 2;
    }
    ModelConfig model_config;
    model_config.hidden = {64, 64};
    model_config.backward = BackwardPolicy::Learned;
    Trainer one_pass(env, model_config, config);
    config.recompute_logprobs = true;
    Trainer recompute(env, model_config, config);
    const IterationResult a = one_pass.step(), b = recompute.step();
    CHECK(one_pass.batch().states == recompute.batch().states);
    CHECK(one_pass.batch().actions == recompute.batch().actions);
    CHECK(a.trajectories == b.trajectories);
    CHECK(std::abs(a.loss - b.loss) <= 1e-5 * std::max(1.0, std::abs(b.loss)));
  }
}

}  // namespace
}  // namespace gfn
