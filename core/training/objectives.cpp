// The table of objectives (see objectives.hpp): one line per objective.
#include "core/training/objectives.hpp"

#include <stdexcept>
#include <vector>

#include "core/training/objectives/detailed_balance.hpp"
#include "core/training/objectives/flow_matching.hpp"
#include "core/training/objectives/log_partition_variance.hpp"
#include "core/training/objectives/modified_detailed_balance.hpp"
#include "core/training/objectives/subtrajectory_balance.hpp"
#include "core/training/objectives/trajectory_balance.hpp"

namespace gfn {

namespace {

// The factory pair of a block objective class template.
template <template <typename> class Objective>
ObjectiveSpec blocks(const char* name, bool log_z, bool state_flow, bool needs_exit, bool reward_floor) {
  return {name, log_z, state_flow, needs_exit, reward_floor, Learner::Blocks,
          [](const ObjectiveConfig& config) -> std::unique_ptr<BlockObjective<float>> {
            auto objective = std::make_unique<Objective<float>>();
            objective->set_config(config);
            return objective;
          },
          [](const ObjectiveConfig& config) -> std::unique_ptr<BlockObjective<double>> {
            auto objective = std::make_unique<Objective<double>>();
            objective->set_config(config);
            return objective;
          }};
}

const ObjectiveSpec kObjectives[] = {
    //                              name           log Z  log F  exit   floor
    blocks<TrajectoryBalance>      ("tb",          true,  false, false, true),
    blocks<DetailedBalance>        ("db",          false, true,  false, false),
    blocks<ModifiedDetailedBalance>("modified-db", false, false, true,  false),
    blocks<SubtrajectoryBalance>   ("subtb",       false, true,  false, true),
    blocks<LogPartitionVariance>   ("zvar",        false, false, false, false),
    blocks<FlowMatching>           ("fm",          false, false, false, false),
    {"soft-dqn",                                   false, false, false, false, Learner::SoftDqn},
    {"munchausen-dqn",                             false, false, false, false, Learner::MunchausenDqn},
};

}  // namespace

std::vector<std::string> objective_names() {
  std::vector<std::string> names;
  for (const ObjectiveSpec& spec : kObjectives) names.push_back(spec.name);
  return names;
}

const ObjectiveSpec& objective_spec(const std::string& name) {
  std::string known;
  for (const ObjectiveSpec& spec : kObjectives) {
    if (name == spec.name) return spec;
    known += (known.empty() ? "" : ", ") + std::string(spec.name);
  }
  throw std::invalid_argument("--loss: unknown objective '" + name + "' (" + known + ")");
}

void require_estimators(const std::string& loss, ModelConfig& config) {
  const ObjectiveSpec& spec = objective_spec(loss);
  config.log_z = spec.log_z;
  config.state_flow = spec.state_flow;
}

template <>
std::unique_ptr<BlockObjective<float>> make_block_objective(const ObjectiveConfig& config) {
  const ObjectiveSpec& spec = objective_spec(config.loss);
  if (!spec.make_float) throw std::invalid_argument(config.loss + " is not a block objective");
  return spec.make_float(config);
}

template <>
std::unique_ptr<BlockObjective<double>> make_block_objective(const ObjectiveConfig& config) {
  const ObjectiveSpec& spec = objective_spec(config.loss);
  if (!spec.make_double) throw std::invalid_argument(config.loss + " is not a block objective");
  return spec.make_double(config);
}

}  // namespace gfn
