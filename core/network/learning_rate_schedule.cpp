// Learning-rate schedules (see learning_rate_schedule.hpp).
#include "core/network/learning_rate_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gfn {

double learning_rate_factor(const LearningRateSchedule& schedule, int64_t iteration) {
  const double progress = std::min(1.0, double(iteration) / double(std::max<int64_t>(schedule.period, 1)));
  switch (schedule.kind) {
    case ScheduleKind::Constant: return 1.0;
    case ScheduleKind::Linear: return 1 + (schedule.end_factor - 1) * progress;
    case ScheduleKind::Exponential: return std::pow(schedule.end_factor, progress);
    case ScheduleKind::Cosine:
      return schedule.end_factor + (1 - schedule.end_factor) * 0.5 * (1 + std::cos(M_PI * progress));
  }
  return 1.0;
}

std::string schedule_kind_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Constant: return "constant";
    case ScheduleKind::Linear: return "linear";
    case ScheduleKind::Exponential: return "exponential";
    case ScheduleKind::Cosine: return "cosine";
  }
  return "?";
}

std::vector<std::string> schedule_kind_names() {
  std::vector<std::string> names;
  for (ScheduleKind kind : {ScheduleKind::Constant, ScheduleKind::Linear, ScheduleKind::Exponential, ScheduleKind::Cosine})
    names.push_back(schedule_kind_name(kind));
  return names;
}

ScheduleKind schedule_kind_from_name(const std::string& name) {
  for (ScheduleKind kind : {ScheduleKind::Constant, ScheduleKind::Linear, ScheduleKind::Exponential, ScheduleKind::Cosine})
    if (schedule_kind_name(kind) == name) return kind;
  throw std::invalid_argument("unknown schedule '" + name + "' (constant, linear, exponential, cosine)");
}

}  // namespace gfn
