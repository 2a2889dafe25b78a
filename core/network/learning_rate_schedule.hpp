// Schedules: the factor by which the initial learning rates (and, through TrainConfig's exploration
// schedule, epsilon and temperature - 1) are multiplied at an iteration. Constant keeps 1; the others
// go from 1 at iteration 0 to end_factor at iteration `period` and stay there:
//   linear       1 + (end_factor - 1) t / period
//   exponential  end_factor^(t / period)
//   cosine       end_factor + (1 - end_factor) (1 + cos(pi t / period)) / 2
// A pure function of the iteration, so a resumed run follows the same schedule.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gfn {

enum class ScheduleKind { Constant, Linear, Exponential, Cosine };

struct LearningRateSchedule {
  ScheduleKind kind = ScheduleKind::Constant;
  double end_factor = 0.01;  // in (0, 1]
  int64_t period = 1;        // iterations, >= 1
};

double learning_rate_factor(const LearningRateSchedule& schedule, int64_t iteration);

// Names as on the command line: constant, linear, exponential, cosine.
ScheduleKind schedule_kind_from_name(const std::string& name);
std::string schedule_kind_name(ScheduleKind kind);
std::vector<std::string> schedule_kind_names();

}  // namespace gfn
