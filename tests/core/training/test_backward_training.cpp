// Tests of TLM and pessimistic backward-policy training: the P_B step lowers the negative
// log-likelihood of the batch it trained on, the target P_B follows by Polyak averaging, TB with a
// TLM P_B still learns the true log Z, and a restored trainer continues bit-identically.
#include <doctest/doctest.h>

#include <cmath>

#include "core/evaluation/evaluation.hpp"
#include "core/training/trainer.hpp"
#include "envs/hypergrid.hpp"
#include "support/core_fixtures.hpp"

namespace gfn {

namespace {

// Negative log-likelihood of a batch's moves under the online P_B.
double backward_nll(const Model<float>& model, const TrajectoryBatch& batch) {
  Tape<float> tape;
  ModelScratch scratch;
  std::vector<int> columns;
  const NodeId logprobs = model.evaluate_backward(tape, nullptr, batch.states.data(), batch.n_rows(), scratch);
  return tape.scalar(backward_negative_log_likelihood(tape, logprobs, batch, model.env(), columns));
}

TrainConfig small_config() { return testing::train_config("tb", 16, 0); }

ModelConfig tlm_model(BackwardPolicy policy) {
  ModelConfig model;
  model.hidden = {64, 64};
  model.backward = policy;
  return model;
}

}  // namespace

TEST_CASE("core: TLM starts uniform, its P_B step lowers the batch NLL, and the target follows by Polyak") {
  const HyperGrid env(2, 8, "medium");
  Trainer trainer(env, tlm_model(BackwardPolicy::Tlm), small_config());
  Model<float>& model = trainer.model();
  REQUIRE(model.has_backward_network());
  // Zero head: the online and target P_B start uniform and equal.
  CHECK(model.backward_store().values() == model.target_backward_store().values());

  for (int i = 0; i < 5; ++i) trainer.step();
  // A copy of the trainer takes the next step: its P_B step trains on the batch it samples, before
  // the P_F update. That batch's NLL is lower under the new online P_B than under the old one.
  Checkpoint checkpoint;
  trainer.save(checkpoint);
  Trainer next(env, tlm_model(BackwardPolicy::Tlm), small_config());
  next.restore(checkpoint);
  const IterationResult result = next.step();
  const TrajectoryBatch& batch = next.batch();
  const double before = backward_nll(trainer.model(), batch);
  const double after = backward_nll(next.model(), batch);
  CHECK(result.backward_loss == doctest::Approx(before).epsilon(1e-5));  // the loss it minimised
  CHECK(after < before);

  // target_after = 0.75 target_before + 0.25 online_after, entry by entry.
  const FlatVector<float>& target_before = trainer.model().target_backward_store().values();
  const FlatVector<float>& online_after = next.model().backward_store().values();
  const FlatVector<float>& target_after = next.model().target_backward_store().values();
  CHECK(online_after != trainer.model().backward_store().values());
  double worst = 0;
  for (size_t i = 0; i < target_after.size(); ++i)
    worst = std::max(worst, std::abs(double(target_after[i]) -
                                     (0.75 * target_before[i] + 0.25 * double(online_after[i]))));
  CHECK(worst < 1e-6);
}

TEST_CASE("core: TB with a TLM or pessimistic P_B still converges to the true log Z on HyperGrid 8x8") {
  const HyperGrid env(2, 8, "medium");
  const Enumeration all(env);
  for (BackwardPolicy policy : {BackwardPolicy::Tlm, BackwardPolicy::Pessimistic}) {
    CAPTURE(backward_policy_name(policy));
    Trainer trainer(env, tlm_model(policy), small_config());
    for (int i = 0; i < 1500; ++i) trainer.step();
    // Budget: 1500 iterations of batch 16, MLP 2x64, lr 1e-3 / 0.1 (measured error about 0.01).
    CHECK(std::abs(double(trainer.model().log_z_value()) - all.log_z()) < 0.05);
    const ExactMetrics exact =
        compare_distributions(terminating_distribution(trainer.model(), all), all.true_distribution());
    CHECK(exact.l1 < 0.1);
  }
}

TEST_CASE("core: a restored TLM or pessimistic trainer continues bit-identically") {
  const HyperGrid env(2, 6, "easy");
  for (BackwardPolicy policy : {BackwardPolicy::Tlm, BackwardPolicy::Pessimistic}) {
    CAPTURE(backward_policy_name(policy));
    Trainer straight(env, tlm_model(policy), small_config());
    for (int i = 0; i < 30; ++i) straight.step();

    Trainer first_half(env, tlm_model(policy), small_config());
    for (int i = 0; i < 15; ++i) first_half.step();
    Checkpoint checkpoint;
    first_half.save(checkpoint);
    Trainer second_half(env, tlm_model(policy), small_config());
    second_half.restore(checkpoint);
    CHECK(second_half.iteration() == 15);
    for (int i = 0; i < 15; ++i) second_half.step();

    CHECK(second_half.model().store().values() == straight.model().store().values());
    CHECK(second_half.model().backward_store().values() == straight.model().backward_store().values());
    CHECK(second_half.model().target_backward_store().values() ==
          straight.model().target_backward_store().values());
  }
}

}  // namespace gfn
