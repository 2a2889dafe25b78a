// The six objectives (docs/objectives.md) checked three ways, in double:
//   1. hand values: a 4-trajectory batch on HyperGrid(D=2, H=3), a tabular model with known random
//      tables; every loss is recomputed here from the definitions, from the tables, step by step;
//      block losses and gradients add up over any split into blocks. Tolerance: relative 1e-12.
//   2. finite differences of every objective w.r.t. every parameter of an MLP model ({8} hidden, learned
//      P_B, tied and untied, random parameters): check_gradient's tolerance (h 1e-6, abs 1e-7, rel 1e-6).
//   3. exact flows of a uniform P_B (HyperGrid 4x4 and a small BitSeq): every loss is 0 (< 1e-20) on
//      sampled batches and the terminating distribution is R/Z (float model: L1 and |KL| < 1e-5).
// Not the trainer (test_training.cpp) nor the sampler's statistics (test_sampler.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/evaluation/evaluation.hpp"
#include "core/training/objectives.hpp"
#include "core/training/sampler.hpp"
#include "envs/bitseq.hpp"
#include "envs/enumeration.hpp"
#include "envs/hypergrid.hpp"
#include "support/core_fixtures.hpp"
#include "support/gradient_check.hpp"

namespace gfn {
namespace {

using testing::batch_from_paths;
using testing::parameter_id;

constexpr double kInfinity = std::numeric_limits<double>::infinity();

const char* const kAllLosses[] = {"tb", "db", "modified-db", "subtb", "zvar", "fm"};

// HyperGrid(D=2, H=3, medium): actions 0 = +x0, 1 = +x1, 2 = exit. R = 0.6 on the four corners
// (every coordinate in {0, 2}), 0.1 elsewhere. The paths visit both boundaries (masked actions).
HyperGrid small_grid() { return HyperGrid(2, 3, "medium"); }
const std::vector<std::vector<int>> kPaths = {
    {2},              // (0,0) exit                                   R = 0.6
    {0, 1, 2},        // (0,0) (1,0) (1,1) exit                       R = 0.1
    {1, 1, 0, 0, 2},  // (0,0) (0,1) (0,2) (1,2) (2,2) exit           R = 0.6
    {1, 0, 0, 2},     // (0,0) (0,1) (1,1) (2,1) exit                 R = 0.1
};

using State = std::vector<int32_t>;

// One trajectory as the reference sees it: states s_0..s_k and the forward actions taken.
struct Path {
  std::vector<State> states;
  std::vector<int> actions;  // one per transition: a move states[t] -> states[t+1], or the exit
};

Path walk(const Environment& env, const std::vector<int>& actions) {
  Path path;
  State state(env.state_width());
  env.initial_state(state.data());
  path.states.push_back(state);
  for (int action : actions) {
    path.actions.push_back(action);
    if (action == env.exit_action()) break;
    env.step(state.data(), action);
    path.states.push_back(state);
  }
  return path;
}

// Log-probabilities and flows of a tabular Model<double>, read straight from its tables:
// logits(s) = W[index(s)] + b (one-hot rows), masked log-softmax written out by hand.
class TabularReference {
 public:
  TabularReference(const Model<double>& model, double floor) : model_(model), env_(model.env()), floor_(floor) {}

  double head(const std::string& name, const State& s, int column) const {
    return head(model_.store(), name, s, column);
  }
  double head(const ParameterStore<double>& store, const std::string& name, const State& s, int column) const {
    return store.value(parameter_id(store, name + ".head0.weight"))(env_.state_index(s.data()), column) +
           store.value(parameter_id(store, name + ".head0.bias"))(0, column);
  }
  double logit(const State& s, int a) const { return head("forward", s, a); }
  double log_flow(const State& s) const { return head("flow", s, 0); }
  double log_z() const { return model_.store().value(parameter_id(model_.store(), "log_z"))(0, 0); }
  double log_reward(const State& s) const { return std::max(env_.log_reward(s.data()), floor_); }

  // log sum over valid forward actions of exp(logit): the log outflow when logits are edge flows.
  double log_normaliser(const State& s) const {
    std::vector<uint8_t> mask(env_.n_actions());
    env_.forward_mask(s.data(), mask.data());
    double total = 0;
    for (int a = 0; a < env_.n_actions(); ++a)
      if (mask[a]) total += std::exp(logit(s, a));
    return std::log(total);
  }
  double log_pf(const State& s, int a) const { return logit(s, a) - log_normaliser(s); }

  // log P_B(parent | child) for backward action b at the child.
  double log_pb(const State& child, int b) const {
    std::vector<uint8_t> mask(env_.n_backward_actions());
    env_.backward_mask(child.data(), mask.data());
    REQUIRE(mask[b]);
    int n_parents = 0;
    for (uint8_t m : mask) n_parents += m;
    switch (model_.config().backward) {
      case BackwardPolicy::Uniform: return -std::log(double(n_parents));
      case BackwardPolicy::MaxEnt: {  // HyperGrid (docs/backward_policies.md): P_B(x - e_d | x) = x_d / |x|_1
        double total = 0;
        for (int32_t x : child) total += x;
        return std::log(child[b] / total);
      }
      case BackwardPolicy::Learned:
      case BackwardPolicy::Tlm:  // P_B's own network: the objective reads its target copy
      case BackwardPolicy::Pessimistic: {
        const auto& store = model_.has_backward_network() ? model_.target_backward_store() : model_.store();
        double total = 0;
        for (int c = 0; c < env_.n_backward_actions(); ++c)
          if (mask[c]) total += std::exp(head(store, "backward", child, c));
        return head(store, "backward", child, b) - std::log(total);
      }
    }
    FAIL("unknown backward policy " << int(model_.config().backward));
    return 0;
  }

  // log P_F - log P_B of transition t (P_B has no term for the exit).
  double log_ratio(const Path& path, int t) const {
    const int action = path.actions[t];
    const double forward = log_pf(path.states[t], action);
    if (action == env_.exit_action()) return forward;
    return forward - log_pb(path.states[t + 1], env_.backward_action_of(path.states[t].data(), action));
  }

  // ---- The objectives, from the definitions of docs/objectives.md. ----
  double trajectory_balance(const std::vector<Path>& paths) const {
    double loss = 0;
    for (const Path& path : paths) {
      double residual = log_z() - log_reward(path.states.back());
      for (size_t t = 0; t < path.actions.size(); ++t) residual += log_ratio(path, int(t));
      loss += residual * residual;
    }
    return loss / double(paths.size());
  }

  double log_partition_variance(const std::vector<Path>& paths) const {
    std::vector<double> zeta;
    double mean = 0;
    for (const Path& path : paths) {
      double value = -log_reward(path.states.back());
      for (size_t t = 0; t < path.actions.size(); ++t) value += log_ratio(path, int(t));
      zeta.push_back(value);
      mean += value / double(paths.size());
    }
    double loss = 0;
    for (double value : zeta) loss += (value - mean) * (value - mean) / double(paths.size());
    return loss;
  }

  double detailed_balance(const std::vector<Path>& paths) const {
    double loss = 0;
    int transitions = 0;
    for (const Path& path : paths)
      for (size_t t = 0; t < path.actions.size(); ++t, ++transitions) {
        const bool last = t + 1 == path.actions.size();
        const double to = last ? log_reward(path.states.back()) : log_flow(path.states[t + 1]);
        const double residual = log_flow(path.states[t]) + log_ratio(path, int(t)) - to;
        loss += residual * residual;
      }
    return loss / transitions;
  }

  double modified_detailed_balance(const std::vector<Path>& paths) const {
    const int exit = env_.exit_action();
    double loss = 0;
    int moves = 0;
    for (const Path& path : paths)
      for (size_t t = 0; t < path.actions.size(); ++t) {
        if (path.actions[t] == exit) continue;
        const State& s = path.states[t];
        const State& next = path.states[t + 1];
        const double residual = log_reward(s) + log_pf(s, path.actions[t]) + log_pf(next, exit) -
                                log_reward(next) -
                                log_pb(next, env_.backward_action_of(s.data(), path.actions[t])) - log_pf(s, exit);
        loss += residual * residual;
        ++moves;
      }
    return loss / moves;
  }

  // Points p_0..p_L of a trajectory with L transitions: log F(s_j) for j < L, log R(x) for j = L.
  double subtrajectory_balance(const std::vector<Path>& paths, double lambda) const {
    double loss = 0;
    for (const Path& path : paths) {
      const int length = int(path.actions.size());
      auto point = [&](int j) { return j < length ? log_flow(path.states[j]) : log_reward(path.states.back()); };
      double weighted = 0, total_weight = 0;
      for (int i = 0; i < length; ++i)
        for (int j = i + 1; j <= length; ++j) {
          double residual = point(i) - point(j);
          for (int t = i; t < j; ++t) residual += log_ratio(path, t);
          const double weight = std::pow(lambda, j - i - 1);
          weighted += weight * residual * residual;
          total_weight += weight;
        }
      loss += weighted / total_weight;
    }
    return loss / double(paths.size());
  }

  // Edge flows log F(s -> a) = logits. Parents found by backward mask + backward step.
  double flow_matching(const std::vector<Path>& paths) const {
    double flow_loss = 0, reward_loss = 0;
    int visited = 0, exits = 0;
    std::vector<uint8_t> mask(env_.n_backward_actions());
    for (const Path& path : paths) {
      for (size_t r = 1; r < path.states.size(); ++r, ++visited) {
        const State& s = path.states[r];
        env_.backward_mask(s.data(), mask.data());
        double inflow = 0;
        for (int b = 0; b < env_.n_backward_actions(); ++b) {
          if (!mask[b]) continue;
          State parent = s;
          env_.backward_step(parent.data(), b);
          inflow += std::exp(logit(parent, env_.forward_action_of(s.data(), b)));
        }
        const double outflow = env_.is_final(s.data()) ? log_reward(s) : log_normaliser(s);
        flow_loss += (std::log(inflow) - outflow) * (std::log(inflow) - outflow);
      }
      if (path.actions.back() == env_.exit_action()) {
        const double residual = logit(path.states.back(), env_.exit_action()) - log_reward(path.states.back());
        reward_loss += residual * residual;
        ++exits;
      }
    }
    return flow_loss / visited + reward_loss / exits;
  }

  double loss(const std::string& kind, const std::vector<Path>& paths, double lambda) const {
    if (kind == "tb") return trajectory_balance(paths);
    if (kind == "db") return detailed_balance(paths);
    if (kind == "modified-db") return modified_detailed_balance(paths);
    if (kind == "subtb") return subtrajectory_balance(paths, lambda);
    if (kind == "zvar") return log_partition_variance(paths);
    if (kind == "fm") return flow_matching(paths);
    FAIL("no reference for " << kind);
    return 0;
  }

 private:
  const Model<double>& model_;
  const Environment& env_;
  double floor_;
};

// The library's loss of the batch split into blocks [first, first + count), and the summed
// gradient. Two-phase objectives (ZVar): the blocks' totals give the batch total, then each block
// finishes with it.
double library_loss(const Model<double>& model, const ObjectiveConfig& config, const TrajectoryBatch& batch,
                    const std::vector<int>& block_starts, FlatVector<double>* gradient) {
  const BatchCounts counts = count_batch(batch, model.env().exit_action());
  const int n_blocks = int(block_starts.size());
  std::vector<Tape<double>> tapes(n_blocks);
  std::vector<std::unique_ptr<BlockObjective<double>>> objectives;
  std::vector<NodeId> losses(n_blocks);
  std::vector<FlatVector<double>> gradients(n_blocks, model.store().make_gradient());
  double batch_total = 0;
  for (int b = 0; b < n_blocks; ++b) {
    const int first = block_starts[b];
    const int end = b + 1 < n_blocks ? block_starts[b + 1] : batch.n_trajectories();
    objectives.push_back(make_block_objective<double>(config));
    losses[b] = objectives[b]->build(tapes[b], &gradients[b], model, {batch, counts, first, end - first});
    CHECK(objectives[b]->needs_batch_total() == (config.loss == "zvar"));
    if (objectives[b]->needs_batch_total()) {
      CHECK(losses[b] == -1);
      batch_total += objectives[b]->block_total(tapes[b]);
    }
  }
  double loss = 0;
  for (int b = 0; b < n_blocks; ++b) {
    if (objectives[b]->needs_batch_total()) losses[b] = objectives[b]->finish(tapes[b], batch_total, counts);
    loss += tapes[b].scalar(losses[b]);
    tapes[b].backward(losses[b]);
  }
  if (gradient) {
    *gradient = model.store().make_gradient();
    for (const auto& block_gradient : gradients)
      for (size_t i = 0; i < gradient->size(); ++i) (*gradient)[i] += block_gradient[i];
  }
  return loss;
}

bool close(double actual, double expected, double relative) {
  return std::abs(actual - expected) <= relative * std::max(1.0, std::abs(expected));
}

ModelConfig tabular_config(BackwardPolicy backward) {
  ModelConfig config;
  config.tabular = config.state_flow = config.log_z = true;
  config.backward = backward;
  return config;
}

TEST_CASE("core: objectives, literal values with uniform tables (TB and DB of one trajectory)") {
  // All tables zero (P_F uniform over valid actions, P_B uniform, log F = 0) and log Z = 0.5.
  // Path (0,0) -> (1,0) -> (1,1) -> exit, R(1,1) = 0.1: three valid actions at every state, one
  // parent at (1,0), two at (1,1).
  const HyperGrid env = small_grid();
  Model<double> model(env, tabular_config(BackwardPolicy::Learned), 1);
  model.store().value(parameter_id(model.store(), "log_z"))(0, 0) = 0.5;
  const TrajectoryBatch batch = batch_from_paths(env, {{0, 1, 2}});
  ObjectiveConfig config;

  // TB: log Z + 3 log(1/3) - [log 1 + log(1/2)] - log 0.1.
  const double tb_residual = 0.5 - 3 * std::log(3.0) + std::log(2.0) + std::log(10.0);
  config.loss = "tb";
  CHECK(close(library_loss(model, config, batch, {0}, nullptr), tb_residual * tb_residual, 1e-12));

  // DB residuals: -log 3 (move to (1,0)), -log 3 + log 2 (move to (1,1)), -log 3 - log 0.1 (exit).
  const double r1 = -std::log(3.0), r2 = -std::log(3.0) + std::log(2.0), r3 = -std::log(3.0) + std::log(10.0);
  config.loss = "db";
  CHECK(close(library_loss(model, config, batch, {0}, nullptr), (r1 * r1 + r2 * r2 + r3 * r3) / 3, 1e-12));
}

TEST_CASE("core: objectives match hand computation from known tables (rel 1e-12), and blocks add up") {
  const HyperGrid env = small_grid();
  const TrajectoryBatch batch = batch_from_paths(env, kPaths);
  std::vector<Path> paths;
  for (const auto& actions : kPaths) paths.push_back(walk(env, actions));

  for (BackwardPolicy backward : {BackwardPolicy::Learned, BackwardPolicy::Uniform, BackwardPolicy::MaxEnt,
                                  BackwardPolicy::Tlm, BackwardPolicy::Pessimistic}) {
    Model<double> model(env, tabular_config(backward), 1);
    testing::randomise_parameters(model.store(), 11 + uint64_t(backward), -1.5, 1.5);
    if (model.has_backward_network())  // P_B read from the target copy of its own network
      testing::randomise_parameters(model.target_backward_store(), 21 + uint64_t(backward), -1.5, 1.5);
    for (double floor : {-kInfinity, std::log(0.3)}) {  // log 0.3 clips every R = 0.1
      const TabularReference reference(model, floor);
      for (const std::string kind : kAllLosses) {
        CAPTURE(kind);
        CAPTURE(int(backward));
        CAPTURE(floor);
        ObjectiveConfig config;
        config.loss = kind;
        config.subtb_lambda = 0.9;
        config.log_reward_floor = floor;
        const double expected = reference.loss(kind, paths, 0.9);
        FlatVector<double> one_block_gradient;
        const double one_block = library_loss(model, config, batch, {0}, &one_block_gradient);
        CHECK(expected > 1e-3);  // a real value, not a trivially zero loss
        CHECK(close(one_block, expected, 1e-12));
        // Any split into blocks: the losses and the gradients add up to the one-block ones.
        for (const std::vector<int>& starts : {std::vector<int>{0, 1}, std::vector<int>{0, 3}, std::vector<int>{0, 2, 3}}) {
          FlatVector<double> split_gradient;
          CHECK(close(library_loss(model, config, batch, starts, &split_gradient), one_block, 1e-12));
          double worst = 0;
          for (size_t i = 0; i < split_gradient.size(); ++i)
            worst = std::max(worst, std::abs(split_gradient[i] - one_block_gradient[i]));
          CHECK(worst <= 1e-12);
        }
      }
    }
  }
}

TEST_CASE("core: objectives, batch-wide counts of a hand batch, modified DB refuses final-state environments") {
  // count_batch on the hand batch: 4 trajectories, 13 transitions (9 moves + 4 exits), 9 non-initial rows.
  const HyperGrid env = small_grid();
  const TrajectoryBatch batch = batch_from_paths(env, kPaths);
  const BatchCounts counts = count_batch(batch, env.exit_action());
  CHECK(counts.trajectories == 4);
  CHECK(counts.transitions == 13);
  CHECK(counts.moves == 9);
  CHECK(counts.exits == 4);
  CHECK(counts.non_initial_states == 9);
  CHECK(batch.n_transitions() == 13);
  // modified DB is refused where states cannot exit.
  const BitSeq bitseq(8, 2, {"00001111", "11110000"}, 2.0, 2);
  Model<double> model(bitseq, tabular_config(BackwardPolicy::Uniform), 1);
  const TrajectoryBatch final_batch = batch_from_paths(bitseq, {{0, 5, 10, 15}});
  ObjectiveConfig config;
  config.loss = "modified-db";
  CHECK_THROWS_AS(library_loss(model, config, final_batch, {0}, nullptr), std::invalid_argument);
}

TEST_CASE("core: objectives registry: names, estimators, factories and the error for an unknown name") {
  CHECK(objective_names() ==
        std::vector<std::string>{"tb", "db", "modified-db", "subtb", "zvar", "fm", "soft-dqn", "munchausen-dqn"});
  for (const char* name : kAllLosses) {
    CAPTURE(name);
    const ObjectiveSpec& spec = objective_spec(name);
    CHECK(std::string(spec.name) == name);
    CHECK(spec.learner == Learner::Blocks);
    ModelConfig model_config;
    require_estimators(name, model_config);
    CHECK(model_config.log_z == (std::string(name) == "tb"));
    CHECK(model_config.state_flow == (std::string(name) == "db" || std::string(name) == "subtb"));
    CHECK(spec.needs_exit == (std::string(name) == "modified-db"));
    CHECK(spec.reward_floor == (std::string(name) == "tb" || std::string(name) == "subtb"));
    ObjectiveConfig config;
    config.loss = name;
    CHECK(make_block_objective<float>(config) != nullptr);
    CHECK(make_block_objective<double>(config)->needs_batch_total() == (std::string(name) == "zvar"));
  }
  CHECK(objective_spec("soft-dqn").learner == Learner::SoftDqn);
  CHECK(objective_spec("munchausen-dqn").learner == Learner::MunchausenDqn);
  ObjectiveConfig dqn;
  dqn.loss = "soft-dqn";
  CHECK_THROWS_AS(make_block_objective<float>(dqn), std::invalid_argument);
  try {
    objective_spec("tbb");
    FAIL("no exception");
  } catch (const std::invalid_argument& error) {
    CHECK(std::string(error.what()) ==
          "--loss: unknown objective 'tbb' (tb, db, modified-db, subtb, zvar, fm, soft-dqn, munchausen-dqn)");
  }
}

// ---- 2. Finite differences. ----

ModelConfig mlp_config(bool tied) {
  ModelConfig config;
  config.hidden = {8};
  config.tied = tied;
  config.backward = BackwardPolicy::Learned;
  config.state_flow = true;
  config.log_z = true;
  return config;
}

void check_all_gradients(const Environment& env, const TrajectoryBatch& batch, bool tied) {
  Model<double> model(env, mlp_config(tied), 3);
  testing::randomise_parameters(model.store(), tied ? 21 : 22);
  const BatchCounts counts = count_batch(batch, env.exit_action());
  for (const std::string kind : kAllLosses) {
    if (kind == "modified-db" && env.exit_action() < 0) continue;
    CAPTURE(kind);
    CAPTURE(tied);
    ObjectiveConfig config;
    config.loss = kind;
    config.log_reward_floor = -12;
    const std::unique_ptr<BlockObjective<double>> objective = make_block_objective<double>(config);
    auto build = [&](Tape<double>& tape, const ParameterStore<double>&, FlatVector<double>* gradient) {
      const NodeId loss = objective->build(tape, gradient, model, {batch, counts, 0, batch.n_trajectories()});
      if (!objective->needs_batch_total()) return loss;
      // The batch mean enters as a constant: exact, since d/dm sum (zeta - m)^2 = 0 at the mean.
      return objective->finish(tape, objective->block_total(tape), counts);
    };
    const testing::GradientCheck check = testing::check_gradient(model.store(), build);
    CHECK_MESSAGE(check.passed(), check.report());
    CHECK(check.loss > 1e-3);
    // The check would also pass on a loss that ignored a head: each estimator's head gets a non-zero
    // gradient exactly when the objective reads it.
    Tape<double> tape;
    FlatVector<double> gradient = model.store().make_gradient();
    tape.backward(build(tape, model.store(), &gradient));
    auto head_gradient = [&](const std::string& name) {
      return model.store().gradient(gradient, parameter_id(model.store(), name)).norm();
    };
    const bool uses_backward = kind != "fm";
    const bool uses_flow = kind == "db" || kind == "subtb";
    const bool uses_log_z = kind == "tb";
    CHECK(head_gradient(tied ? "tied.head0.weight" : "forward.head0.weight") > 0);
    CHECK((head_gradient(tied ? "tied.head1.weight" : "backward.head0.weight") > 0) == uses_backward);
    CHECK((head_gradient(tied ? "tied.head2.weight" : "flow.head0.weight") > 0) == uses_flow);
    CHECK((head_gradient("log_z") > 0) == uses_log_z);
  }
}

TEST_CASE("core: objectives, finite-difference gradients on HyperGrid (MLP {8}, learned P_B, tied/untied)") {
  const HyperGrid env = small_grid();
  const TrajectoryBatch batch = batch_from_paths(env, kPaths);
  for (bool tied : {false, true}) check_all_gradients(env, batch, tied);
}

TEST_CASE("core: objectives, finite-difference gradients on BitSeq with final states (MLP {8})") {
  // n = 8, k = 2: four slots of 2-bit words, action slot*4 + word; trajectories end in a final state.
  const BitSeq env(8, 2, {"00001111", "11110000"}, 2.0, 2);
  const TrajectoryBatch batch = batch_from_paths(env, {{0, 5, 10, 15}, {15, 4, 9, 2}, {12, 1, 11, 6}});
  for (bool tied : {false, true}) check_all_gradients(env, batch, tied);
}

// ---- 3. Exact flows. ----

// State flows consistent with a uniform P_B: F(s) = R(s) [if s terminates] + sum over children s' of
// F(s') P_B(s | s'), computed from the leaves up (reverse topological order). Z = F(s0).
struct ExactFlows {
  std::vector<double> flow;  // [N] F(s)
  // log F(s -> a) of every state and forward action (exit: log R); -inf for invalid actions.
  std::vector<std::vector<double>> log_edge;
};

ExactFlows exact_flows(const Environment& env, const Enumeration& all) {
  const int64_t n = all.n_states();
  ExactFlows flows;
  flows.flow.assign(n, 0.0);
  flows.log_edge.assign(n, std::vector<double>(env.n_actions(), -kInfinity));
  std::vector<uint8_t> mask(env.n_actions()), child_mask(env.n_backward_actions());
  const auto& order = all.topological_order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const int64_t index = *it;
    const int32_t* state = all.states().row(index).data();
    double flow = 0;
    if (env.is_final(state)) flow = std::exp(all.log_rewards()[index]);
    env.forward_mask(state, mask.data());
    for (int a = 0; a < env.n_actions(); ++a) {
      if (!mask[a]) continue;
      if (a == env.exit_action()) {
        flows.log_edge[index][a] = all.log_rewards()[index];
        flow += std::exp(all.log_rewards()[index]);
        continue;
      }
      State child(state, state + env.state_width());
      env.step(child.data(), a);
      env.backward_mask(child.data(), child_mask.data());
      int n_parents = 0;
      for (uint8_t m : child_mask) n_parents += m;
      const double edge = flows.flow[env.state_index(child.data())] / n_parents;
      flows.log_edge[index][a] = std::log(edge);
      flow += edge;
    }
    flows.flow[index] = flow;
  }
  return flows;
}

// A tabular model holding the exact flows: P_F logits log F(s -> a) - log F(s) (edge_logits false) or
// the raw edge flows log F(s -> a) (FM), log F(s), log Z = log F(s0). Invalid actions keep logit 0.
void set_exact_tables(Model<double>& model, const Enumeration& all, const ExactFlows& flows, bool edge_logits) {
  auto& store = model.store();
  auto forward = store.value(parameter_id(store, "forward.head0.weight"));
  for (int64_t s = 0; s < all.n_states(); ++s) {
    const double log_flow = std::log(flows.flow[s]);
    for (int a = 0; a < model.env().n_actions(); ++a)
      if (flows.log_edge[s][a] > -kInfinity) forward(s, a) = flows.log_edge[s][a] - (edge_logits ? 0 : log_flow);
  }
  if (model.config().state_flow) {
    auto flow = store.value(parameter_id(store, "flow.head0.weight"));
    for (int64_t s = 0; s < all.n_states(); ++s) flow(s, 0) = std::log(flows.flow[s]);
  }
  if (model.config().log_z) {
    State s0(model.env().state_width());
    model.env().initial_state(s0.data());
    store.value(parameter_id(store, "log_z"))(0, 0) = std::log(flows.flow[model.env().state_index(s0.data())]);
  }
}

void check_exact_flows(const Environment& env) {
  const Enumeration all(env);
  const ExactFlows flows = exact_flows(env, all);
  State s0(env.state_width());
  env.initial_state(s0.data());
  // Flow conservation: the flow out of s0 is Z = sum of R.
  CHECK(std::log(flows.flow[env.state_index(s0.data())]) == doctest::Approx(all.log_z()).epsilon(1e-12));

  Model<double> model(env, tabular_config(BackwardPolicy::Uniform), 1);
  set_exact_tables(model, all, flows, /*edge_logits=*/false);
  ModelConfig edge_config;
  edge_config.tabular = true;
  Model<double> edge_model(env, edge_config, 1);
  set_exact_tables(edge_model, all, flows, /*edge_logits=*/true);

  // Sampled batches from the float copy of the exact policy; every objective is zero to rounding.
  Model<float> float_model(env, tabular_config(BackwardPolicy::Uniform), 1);
  testing::copy_to_float(model, float_model);
  Sampler sampler(float_model, 16);
  TrajectoryBatch batch;
  for (uint64_t iteration = 0; iteration < 3; ++iteration) {
    sampler.sample(64, 5, iteration, {}, batch);
    REQUIRE(testing::batch_violation(env, batch) == "");
    for (const std::string kind : kAllLosses) {
      if (kind == "modified-db" && env.exit_action() < 0) continue;
      CAPTURE(kind);
      ObjectiveConfig config;
      config.loss = kind;
      const Model<double>& used = kind == "fm" ? edge_model : model;
      const double loss = library_loss(used, config, batch, {0, 16, 48}, nullptr);
      CHECK(std::abs(loss) < 1e-20);
    }
  }

  // The exact terminating distribution is R/Z. The float model's log-probabilities carry rounding of
  // about 1e-7, compounding over a few steps: L1 < 1e-5 (measured <= 2e-7). P_T then sums to 1 only
  // to ~1e-7, which enters KL(p || P_T) at first order (it can even be slightly negative): |KL| < 1e-5;
  // JSD is second order in the error: < 1e-10 (measured ~1e-15).
  for (const Model<double>* source : {&model, &edge_model}) {
    Model<float> copy(env, source->config(), 1);
    testing::copy_to_float(*source, copy);
    const ExactMetrics metrics = testing::exact_metrics(copy, all);
    CHECK(metrics.l1 < 1e-5);
    CHECK(std::abs(metrics.kl) < 1e-5);
    CHECK(metrics.jsd < 1e-10);
  }
}

TEST_CASE("core: objectives, exact flows of a uniform P_B give zero losses and P_T = R/Z (HyperGrid 4x4)") {
  check_exact_flows(HyperGrid(2, 4, "medium"));
}

TEST_CASE("core: objectives, exact flows of a uniform P_B give zero losses and P_T = R/Z (BitSeq n=8 k=2)") {
  check_exact_flows(BitSeq(8, 2, {"00001111", "11110000"}, 2.0, 2));
}

}  // namespace
}  // namespace gfn
