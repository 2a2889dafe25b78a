// RunOptions: flags, validation, conversions to library configs, text and JSON.
#include "cli/run_options.hpp"

#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>

#include "cli/json.hpp"
#include "core/objectives.hpp"

namespace gfn::cli {

namespace {

// The shortest of 15 or 17 significant digits that reads back as the same double (0.001, not
// 0.0010000000000000000208).
std::string format_double(double value) {
  for (const int digits : {15, 17}) {
    std::ostringstream out;
    out.precision(digits);
    out << value;
    if (digits == 17 || std::strtod(out.str().c_str(), nullptr) == value) return out.str();
  }
  return {};
}

}  // namespace

ModelConfig RunOptions::model_config() const {
  ModelConfig config;
  config.tabular = policy == "tabular";
  config.hidden.assign(layers, hidden);
  config.tied = tied;
  config.backward = backward_policy_from_name(pb);
  return config;
}

TrainConfig RunOptions::train_config() const {
  TrainConfig config;
  config.objective.kind = loss_kind_from_name(loss);
  config.objective.subtb_lambda = subtb_lambda;
  // BitSeq's log R = -2 d reaches -12 at Hamming distance 6: a floor there would flatten the target.
  const bool bitseq = env.env == "bitseq" || env.env == "bitseq-ar";
  const bool floored_by_default = !bitseq && (config.objective.kind == LossKind::TrajectoryBalance ||
                                              config.objective.kind == LossKind::SubTrajectoryBalance);
  config.objective.log_reward_floor = !std::isnan(log_reward_floor) ? log_reward_floor
                                      : floored_by_default          ? -12.0
                                                                    : -std::numeric_limits<double>::infinity();
  config.dqn.munchausen_alpha = munchausen_alpha;
  config.dqn.lambda = !std::isnan(lambda) ? lambda
                      : config.objective.kind == LossKind::MunchausenDqn ? 1 / (1 - munchausen_alpha)
                                                                          : 1.0;
  config.dqn.target_tau = target_tau;
  config.dqn.replay_capacity = replay_capacity;
  config.dqn.replay_batch = replay_batch;
  config.batch = batch;
  config.learning_rate = lr;
  config.log_z_learning_rate = lr_log_z;
  config.weight_decay = weight_decay;
  config.sampling = SamplingOptions{temperature, !std::isnan(epsilon) ? epsilon : bitseq ? 0.001 : 0.0, sf_bias};
  config.seed = seed;
  return config;
}

void RunOptions::validate() const {
  auto require = [](bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument(message);
  };
  loss_kind_from_name(loss);
  backward_policy_from_name(pb);
  require(policy == "mlp" || policy == "tabular", "--policy: unknown policy '" + policy + "' (mlp, tabular)");
  require(batch >= 1, "--batch must be at least 1 (got " + std::to_string(batch) + ")");
  require(iterations >= 1, "--iters must be at least 1 (got " + std::to_string(iterations) + ")");
  require(hidden >= 1, "--hidden must be at least 1 (got " + std::to_string(hidden) + ")");
  require(layers >= 1, "--layers must be at least 1 (got " + std::to_string(layers) + ")");
  require(lr > 0 && std::isfinite(lr), "--lr must be positive (got " + format_double(lr) + ")");
  require(lr_log_z > 0 && std::isfinite(lr_log_z), "--lr-logz must be positive (got " + format_double(lr_log_z) + ")");
  require(weight_decay >= 0, "--weight-decay must be non-negative (got " + format_double(weight_decay) + ")");
  require(temperature > 0 && std::isfinite(temperature),
          "--temperature must be positive (got " + format_double(temperature) + ")");
  require(std::isnan(epsilon) || (epsilon >= 0 && epsilon <= 1), "--epsilon must be in [0, 1] (got " + format_double(epsilon) + ")");
  require(std::isfinite(sf_bias), "--sf-bias must be finite");
  require(subtb_lambda > 0, "--subtb-lambda must be positive (got " + format_double(subtb_lambda) + ")");
  require(std::isnan(lambda) || lambda > 0, "--lambda must be positive (got " + format_double(lambda) + ")");
  require(munchausen_alpha >= 0 && munchausen_alpha < 1,
          "--munchausen-alpha must be in [0, 1) (got " + format_double(munchausen_alpha) + ")");
  require(target_tau > 0 && target_tau <= 1, "--target-tau must be in (0, 1] (got " + format_double(target_tau) + ")");
  require(replay_capacity >= 1 && replay_capacity <= (1 << 29),
          "--replay-capacity must be in [1, 2^29] (got " + std::to_string(replay_capacity) + ")");
  require(replay_batch >= 1, "--replay-batch must be at least 1 (got " + std::to_string(replay_batch) + ")");
  require(eval_every >= 1, "--eval-every must be at least 1 (got " + std::to_string(eval_every) + ")");
  require(window >= 1, "--window must be at least 1");
  require(exact_every >= 0, "--exact-every must be non-negative (got " + std::to_string(exact_every) + ")");
  require(corr_every >= 1, "--corr-every must be at least 1 (got " + std::to_string(corr_every) + ")");
  require(threads >= 0, "--threads must be non-negative (0: all cores)");
}

// Keys and values of the run's identity, in a fixed order.
std::string RunOptions::to_text() const {
  std::ostringstream out;
  out << "env=" << env.env << "\nndim=" << env.ndim << "\nheight=" << env.height << "\nreward=" << env.reward
      << "\nR0=" << (env.r0 ? format_double(*env.r0) : "") << "\nR1=" << (env.r1 ? format_double(*env.r1) : "")
      << "\nR2=" << (env.r2 ? format_double(*env.r2) : "") << "\nn=" << env.n << "\nk=" << env.k
      << "\nbeta=" << format_double(env.beta) << "\nloss=" << loss << "\nsubtb_lambda=" << format_double(subtb_lambda)
      << "\nlog_reward_floor=" << format_double(log_reward_floor) << "\nlambda=" << format_double(lambda)
      << "\nmunchausen_alpha=" << format_double(munchausen_alpha) << "\ntarget_tau=" << format_double(target_tau)
      << "\nreplay_capacity=" << replay_capacity << "\nreplay_batch=" << replay_batch << "\npolicy=" << policy << "\nhidden=" << hidden
      << "\nlayers=" << layers << "\ntied=" << tied << "\npb=" << pb << "\nbatch=" << batch
      << "\niters=" << iterations << "\nlr=" << format_double(lr) << "\nlr_logz=" << format_double(lr_log_z)
      << "\nweight_decay=" << format_double(weight_decay) << "\ntemperature=" << format_double(temperature)
      << "\nepsilon=" << format_double(epsilon) << "\nsf_bias=" << format_double(sf_bias) << "\nseed=" << seed
      << "\neval_every=" << eval_every << "\nexact_every=" << exact_every << "\ncorr_every=" << corr_every << "\nwindow=" << window << "\n";
  return out.str();
}

std::map<std::string, std::string> RunOptions::settings(const std::string& text) {
  std::map<std::string, std::string> values;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t equals = line.find('=');
    if (equals == std::string::npos) throw std::runtime_error("malformed run configuration line '" + line + "'");
    values[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return values;
}

RunOptions RunOptions::from_text(const std::string& text) {
  const std::map<std::string, std::string> values = settings(text);
  auto get = [&](const std::string& key) {
    auto found = values.find(key);
    if (found == values.end()) throw std::runtime_error("run configuration lacks '" + key + "'");
    return found->second;
  };
  auto optional_double = [&](const std::string& key) -> std::optional<double> {
    const std::string value = get(key);
    if (value.empty()) return std::nullopt;
    return std::stod(value);
  };
  RunOptions options;
  try {
    options.env.env = get("env");
    options.env.ndim = std::stoi(get("ndim"));
    options.env.height = std::stoi(get("height"));
    options.env.reward = get("reward");
    options.env.r0 = optional_double("R0");
    options.env.r1 = optional_double("R1");
    options.env.r2 = optional_double("R2");
    options.env.n = std::stoi(get("n"));
    options.env.k = std::stoi(get("k"));
    options.env.beta = std::stod(get("beta"));
    options.loss = get("loss");
    options.subtb_lambda = std::stod(get("subtb_lambda"));
    options.log_reward_floor = std::stod(get("log_reward_floor"));
    options.lambda = std::stod(get("lambda"));
    options.munchausen_alpha = std::stod(get("munchausen_alpha"));
    options.target_tau = std::stod(get("target_tau"));
    options.replay_capacity = std::stoi(get("replay_capacity"));
    options.replay_batch = std::stoi(get("replay_batch"));
    options.policy = get("policy");
    options.hidden = std::stoi(get("hidden"));
    options.layers = std::stoi(get("layers"));
    options.tied = get("tied") == "1";
    options.pb = get("pb");
    options.batch = std::stoi(get("batch"));
    options.iterations = std::stoll(get("iters"));
    options.lr = std::stod(get("lr"));
    options.lr_log_z = std::stod(get("lr_logz"));
    options.weight_decay = std::stod(get("weight_decay"));
    options.temperature = std::stod(get("temperature"));
    options.epsilon = std::stod(get("epsilon"));
    options.sf_bias = std::stod(get("sf_bias"));
    options.seed = std::stoull(get("seed"));
    options.eval_every = std::stoi(get("eval_every"));
    options.exact_every = std::stoi(get("exact_every"));
    options.corr_every = std::stoi(get("corr_every"));
    options.window = std::stoll(get("window"));
  } catch (const std::logic_error&) {  // std::stoi and friends on garbage
    throw std::runtime_error("run configuration has a malformed number");
  }
  options.validate();
  return options;
}

std::string RunOptions::to_json() const {
  JsonObject json;
  json.add("env", env.env).add("ndim", env.ndim).add("height", env.height).add("reward", env.reward);
  if (env.r0) json.add("R0", *env.r0);
  if (env.r1) json.add("R1", *env.r1);
  if (env.r2) json.add("R2", *env.r2);
  json.add("n", env.n).add("k", env.k).add("beta", env.beta);
  json.add("loss", loss).add("subtb_lambda", subtb_lambda);
  const TrainConfig train = train_config();
  json.add("log_reward_floor", train.objective.log_reward_floor);
  if (train.objective.kind == LossKind::SoftDqn || train.objective.kind == LossKind::MunchausenDqn) {
    json.add("lambda", train.dqn.lambda).add("munchausen_alpha", munchausen_alpha).add("target_tau", target_tau);
    json.add("replay_capacity", replay_capacity).add("replay_batch", replay_batch);
  }
  json.add("policy", policy).add("hidden", hidden).add("layers", layers).add("tied", tied).add("pb", pb);
  json.add("batch", batch).add("iters", (long long)iterations).add("lr", lr).add("lr_logz", lr_log_z);
  json.add("weight_decay", weight_decay).add("temperature", temperature).add("epsilon", train.sampling.epsilon);
  json.add("sf_bias", sf_bias).add("seed", (unsigned long)seed).add("eval_every", eval_every);
  json.add("exact_every", exact_every).add("corr_every", corr_every);
  json.add("window", (long long)window);
  return json.str();
}

void add_run_flags(CLI::App* command, RunOptions& options) {
  command->add_option("--env", options.env.env, "Environment: grid, hypergrid, bitseq, bitseq-ar")
      ->capture_default_str();
  command->add_option("--ndim", options.env.ndim, "HyperGrid dimensions D")->capture_default_str();
  command->add_option("--height", options.env.height, "HyperGrid side H")->capture_default_str();
  command->add_option("--reward", options.env.reward,
                      "HyperGrid reward preset: standard, hard, easy, medium, hard-tgfn, challenging, impossible")
      ->capture_default_str();
  command->add_option("--R0", options.env.r0, "HyperGrid base reward (overrides the preset)");
  command->add_option("--R1", options.env.r1, "HyperGrid outer-region bonus (overrides the preset)");
  command->add_option("--R2", options.env.r2, "HyperGrid band bonus (overrides the preset)");
  command->add_option("--n", options.env.n, "BitSeq length in bits")->capture_default_str();
  command->add_option("--k", options.env.k, "BitSeq bits per word")->capture_default_str();
  command->add_option("--loss", options.loss, "Objective: tb, db, modified-db, subtb, zvar, fm, soft-dqn, munchausen-dqn")->capture_default_str();
  command->add_option("--subtb-lambda", options.subtb_lambda, "SubTB geometric weight")->capture_default_str();
  command->add_option("--log-reward-floor", options.log_reward_floor,
                      "Clip log R below at this (default: -12 for tb and subtb on HyperGrid, none otherwise)");
  command->add_option("--lambda", options.lambda, "Soft DQN entropy weight (default 1, Munchausen 1/(1-alpha))");
  command->add_option("--munchausen-alpha", options.munchausen_alpha, "Munchausen bonus weight")
      ->capture_default_str();
  command->add_option("--target-tau", options.target_tau, "Polyak rate of the DQN target network")
      ->capture_default_str();
  command->add_option("--replay-capacity", options.replay_capacity, "Prioritized replay capacity (transitions)")
      ->capture_default_str();
  command->add_option("--replay-batch", options.replay_batch, "Replayed transitions per DQN update")
      ->capture_default_str();
  command->add_option("--policy", options.policy, "Estimators: mlp or tabular")->capture_default_str();
  command->add_option("--hidden", options.hidden, "MLP hidden width")->capture_default_str();
  command->add_option("--layers", options.layers, "MLP hidden layers")->capture_default_str();
  command->add_flag("--tied", options.tied, "P_F, P_B and log F share the MLP trunk");
  command->add_option("--pb", options.pb, "Backward policy: uniform, maxent, learned, tlm, pessimistic")->capture_default_str();
  command->add_option("--batch", options.batch, "Trajectories per iteration")->capture_default_str();
  command->add_option("--iters", options.iterations, "Total iterations of the run (also with --resume)")
      ->capture_default_str();
  command->add_option("--lr", options.lr, "Adam learning rate of the networks")->capture_default_str();
  command->add_option("--lr-logz", options.lr_log_z, "Adam learning rate of log Z")->capture_default_str();
  command->add_option("--weight-decay", options.weight_decay, "Decoupled weight decay (AdamW)")->capture_default_str();
  command->add_option("--temperature", options.temperature, "Sampling temperature (off-policy)")
      ->capture_default_str();
  command->add_option("--epsilon", options.epsilon,
                      "Uniform exploration probability (off-policy; default 0.001 on BitSeq, 0 otherwise)");
  command->add_option("--sf-bias", options.sf_bias, "Subtracted from the exit logit when sampling (off-policy)")
      ->capture_default_str();
  command->add_option("--seed", options.seed, "Random seed")->capture_default_str();
  command->add_option("--threads", options.threads, "OpenMP threads (0: all cores)")->capture_default_str();
  command->add_option("--eval-every", options.eval_every, "Iterations between evaluations")->capture_default_str();
  command->add_option("--exact-every", options.exact_every,
                      "Iterations between exact (dynamic programming) metrics; 0: at every evaluation")
      ->capture_default_str();
  command->add_option("--corr-every", options.corr_every, "BitSeq: iterations between test-set rank correlations")
      ->capture_default_str();
  command->add_option("--window", options.window, "Visited terminal states kept for the empirical L1")
      ->capture_default_str();
}

}  // namespace gfn::cli
