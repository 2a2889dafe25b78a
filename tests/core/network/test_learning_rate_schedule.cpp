// Tests of the learning-rate schedules (core/network/learning_rate_schedule.hpp) against hand-computed
// values, and of the trainer applying them to both Adam groups at every iteration.
#include <doctest/doctest.h>

#include <cmath>

#include "core/network/learning_rate_schedule.hpp"
#include "core/training/trainer.hpp"
#include "envs/hypergrid.hpp"

namespace gfn {

TEST_CASE("learning-rate schedule: constant, linear, exponential and cosine factors by hand") {
  const LearningRateSchedule constant{ScheduleKind::Constant, 0.01, 100};
  CHECK(learning_rate_factor(constant, 0) == 1);
  CHECK(learning_rate_factor(constant, 1000) == 1);
  const LearningRateSchedule exponential{ScheduleKind::Exponential, 0.01, 100};
  CHECK(learning_rate_factor(exponential, 0) == 1);
  CHECK(learning_rate_factor(exponential, 50) == doctest::Approx(0.1).epsilon(1e-12));  // 0.01^(1/2)
  CHECK(learning_rate_factor(exponential, 100) == doctest::Approx(0.01).epsilon(1e-12));
  CHECK(learning_rate_factor(exponential, 500) == doctest::Approx(0.01).epsilon(1e-12));  // held at the end
  const LearningRateSchedule cosine{ScheduleKind::Cosine, 0.1, 100};
  CHECK(learning_rate_factor(cosine, 0) == 1);
  CHECK(learning_rate_factor(cosine, 50) == doctest::Approx(0.55).epsilon(1e-12));  // 0.1 + 0.9 * 0.5
  CHECK(learning_rate_factor(cosine, 25) == doctest::Approx(0.1 + 0.9 * 0.5 * (1 + std::sqrt(0.5))).epsilon(1e-12));
  CHECK(learning_rate_factor(cosine, 100) == doctest::Approx(0.1).epsilon(1e-12));
  const LearningRateSchedule linear{ScheduleKind::Linear, 0.1, 100};
  CHECK(learning_rate_factor(linear, 0) == 1);
  CHECK(learning_rate_factor(linear, 50) == doctest::Approx(0.55).epsilon(1e-12));  // 1 - 0.9 * 0.5
  CHECK(learning_rate_factor(linear, 300) == doctest::Approx(0.1).epsilon(1e-12));
  for (const std::string& name : schedule_kind_names()) CHECK(schedule_kind_name(schedule_kind_from_name(name)) == name);
  CHECK_THROWS_AS(schedule_kind_from_name("step"), std::invalid_argument);
}

TEST_CASE("learning-rate schedule: the trainer sets both Adam groups to rate x factor before each step") {
  const HyperGrid env(2, 4, "medium");
  TrainConfig config;
  config.batch = 4;
  config.learning_rate = 1e-3;
  config.log_z_learning_rate = 0.1;
  config.schedule = LearningRateSchedule{ScheduleKind::Exponential, 0.01, 10};
  ModelConfig model;
  model.hidden = {8};
  Trainer trainer(env, model, config);
  for (int step = 0; step < 5; ++step) trainer.step();
  // The last step (iteration 4) ran at factor 0.01^(4/10).
  const double factor = std::pow(0.01, 0.4);
  CHECK(trainer.optimizer().groups()[0].learning_rate == doctest::Approx(1e-3 * factor).epsilon(1e-12));
  CHECK(trainer.optimizer().groups()[1].learning_rate == doctest::Approx(0.1 * factor).epsilon(1e-12));
}

}  // namespace gfn
