// Learning-rate schedules (see learning_rate_schedule.hpp).
#include "core/learning_rate_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gfn {

double learning_rate_factor(const LearningRateSchedule& schedule, int64_t iteration) {
  const double progress = std::min(1.0, double(iteration) / double(std::max<int64_t>(schedule.period, 1)));
  switch (schedule.kind) {
    case ScheduleKind::Constant: return 1.0;
    case ScheduleKind::Exponential: return std::pow(schedule.end_factor, progress);
    case ScheduleKind::Cosine:
      return schedule.end_factor + (1 - schedule.end_factor) * 0.5 * (1 + std::cos(M_PI * progress));
  }
  return 1.0;
}

ScheduleKind schedule_kind_from_name(const std::string& name) {
  if (name == "constant") return ScheduleKind::Constant;
  if (name == "exponential") return ScheduleKind::Exponential;
  if (name == "cosine") return ScheduleKind::Cosine;
  throw std::invalid_argument("--lr-schedule: unknown schedule '" + name + "' (constant, exponential, cosine)");
}

}  // namespace gfn
