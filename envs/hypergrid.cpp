// HyperGrid: moves, masks, the integer-exact reward, encodings and the closed-form max-entropy P_B.
// Not the enumerator (envs/enumeration.cpp). A state is S = D int32 coordinates; the reward reads
// per-coordinate tables (outer, band, mode rank) built once in the constructor.
#include "envs/hypergrid.hpp"

#include <climits>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "envs/checked_arithmetic.hpp"
#include "util/format.hpp"

namespace gfn {

namespace {

constexpr double kNegativeInfinity = -std::numeric_limits<double>::infinity();

struct NamedPreset {
  const char* name;
  HyperGridReward reward;
};

constexpr NamedPreset kPresets[] = {
    {"standard", {1e-3, 0.5, 2.0}},  {"hard", {1e-4, 1.0, 3.0}},
    {"easy", {0.1, 0.3, 1.0}},       {"medium", {0.1, 0.5, 2.0}},
    {"hard-tgfn", {0.05, 0.6, 3.0}}, {"challenging", {0.01, 0.6, 4.0}},
    {"impossible", {0.0, 0.7, 5.0}},
};

}  // namespace

HyperGridReward hypergrid_reward_preset(const std::string& preset) {
  for (const NamedPreset& named : kPresets)
    if (preset == named.name) return named.reward;
  std::string message = "unknown hypergrid reward preset '" + preset + "' (expected one of";
  for (const NamedPreset& named : kPresets) message += std::string(" ") + named.name;
  throw std::invalid_argument(message + ")");
}

const std::vector<std::string>& hypergrid_reward_preset_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> result;
    for (const NamedPreset& named : kPresets) result.push_back(named.name);
    return result;
  }();
  return names;
}

HyperGrid::HyperGrid(int ndim, int height, double r0, double r1, double r2)
    : HyperGrid(ndim, height, HyperGridReward{r0, r1, r2}) {}

HyperGrid::HyperGrid(int ndim, int height, HyperGridReward reward)
    : ndim_(ndim), height_(height), reward_(reward) {
  const double r0 = reward.r0, r1 = reward.r1, r2 = reward.r2;
  if (ndim < 1) throw std::invalid_argument("hypergrid: D must be at least 1, got " + std::to_string(ndim));
  if (height < 2) throw std::invalid_argument("hypergrid: H must be at least 2, got " + std::to_string(height));
  if (static_cast<int64_t>(ndim) * height > INT_MAX)
    throw std::invalid_argument("hypergrid: D*H = " + std::to_string(static_cast<int64_t>(ndim) * height) +
                                " does not fit in an int");
  const double rewards[3] = {r0, r1, r2};
  const char* names[3] = {"R0", "R1", "R2"};
  for (int i = 0; i < 3; ++i)
    if (!std::isfinite(rewards[i]) || rewards[i] < 0)
      throw std::invalid_argument(std::string("hypergrid: ") + names[i] + " must be finite and >= 0, got " +
                                  format_number(rewards[i]));
  if (r0 == 0 && r1 == 0 && r2 == 0) throw std::invalid_argument("hypergrid: R0, R1 and R2 are all 0");

  name_ = "hypergrid(D=" + std::to_string(ndim) + ",H=" + std::to_string(height) + ",R0=" + format_number(r0) +
          ",R1=" + format_number(r1) + ",R2=" + format_number(r2) + ")";
  n_states_ = checked_power(height, ndim);

  outer_.resize(height);
  band_.resize(height);
  mode_rank_.resize(height);
  const int64_t side = height - 1;
  for (int x = 0; x < height; ++x) {
    const int64_t e = std::abs(2 * static_cast<int64_t>(x) - side);
    outer_[x] = 2 * e > side;
    band_[x] = 3 * side < 5 * e && 5 * e < 4 * side;
    const bool mode_coordinate = (r1 == 0 || outer_[x]) && (r2 == 0 || band_[x]);
    mode_rank_[x] = mode_coordinate ? mode_coordinates_++ : -1;
  }
  n_modes_ = checked_power(mode_coordinates_, ndim);

  // Index = (all outer) + (all in band); the band lies inside the outer region, so 2 means both.
  reward_by_bonus_[0] = r0;
  reward_by_bonus_[1] = r0 + r1;
  reward_by_bonus_[2] = r0 + r1 + r2;
  for (int i = 0; i < 3; ++i)
    log_reward_by_bonus_[i] = reward_by_bonus_[i] > 0 ? std::log(reward_by_bonus_[i]) : kNegativeInfinity;
}

HyperGrid::HyperGrid(int ndim, int height, const std::string& preset)
    : HyperGrid(ndim, height, hypergrid_reward_preset(preset)) {
  name_ = "hypergrid(D=" + std::to_string(ndim) + ",H=" + std::to_string(height) + "," + preset + ")";
}

HyperGrid HyperGrid::grid() {
  HyperGrid grid(2, 16, 0.01, 0.5, 2.0);
  grid.name_ = "grid";
  grid.default_encoding_ = Encoding::OneHotState;
  grid.grid_action_names_ = true;
  return grid;
}

std::string HyperGrid::description() const {
  if (grid_action_names_)
    return "the 16x16 Grid demo: HyperGrid D=2, H=16, R = 0.01 + 0.5 [outer] + 2 [band]; one-hot cells; "
           "actions Down, Right, Terminate";
  return "HyperGrid: D coordinates in 0..H-1 from 0; move +1 along one axis or exit (valid everywhere); "
         "R = R0 + R1 [all outer] + R2 [all in band]";
}

double HyperGrid::reward_value(const int32_t* state) const {
  bool all_outer = true, all_band = true;
  for (int d = 0; d < ndim_; ++d) {
    all_outer &= outer_[state[d]] != 0;
    all_band &= band_[state[d]] != 0;
  }
  return reward_by_bonus_[int(all_outer) + int(all_band)];
}

double HyperGrid::log_reward(const int32_t* state) const {
  bool all_outer = true, all_band = true;
  for (int d = 0; d < ndim_; ++d) {
    all_outer &= outer_[state[d]] != 0;
    all_band &= band_[state[d]] != 0;
  }
  return log_reward_by_bonus_[int(all_outer) + int(all_band)];
}

void HyperGrid::initial_state(int32_t* state) const {
  for (int d = 0; d < ndim_; ++d) state[d] = 0;
}

bool HyperGrid::is_initial(const int32_t* state) const {
  for (int d = 0; d < ndim_; ++d)
    if (state[d] != 0) return false;
  return true;
}

bool HyperGrid::is_final(const int32_t*) const { return false; }

void HyperGrid::forward_mask(const int32_t* state, uint8_t* mask) const {
  for (int d = 0; d < ndim_; ++d) mask[d] = state[d] < height_ - 1;
  mask[ndim_] = 1;
}

void HyperGrid::backward_mask(const int32_t* state, uint8_t* mask) const {
  for (int d = 0; d < ndim_; ++d) mask[d] = state[d] > 0;
}

void HyperGrid::step(int32_t* state, int action) const { ++state[action]; }

void HyperGrid::backward_step(int32_t* state, int backward_action) const { --state[backward_action]; }

int HyperGrid::backward_action_of(const int32_t*, int action) const { return action; }

int HyperGrid::forward_action_of(const int32_t*, int backward_action) const { return backward_action; }

int HyperGrid::parents(const int32_t* state, int32_t* parent_states, int* actions) const {
  int count = 0;
  for (int d = 0; d < ndim_; ++d) {
    if (state[d] == 0) continue;
    int32_t* parent = parent_states + static_cast<int64_t>(count) * ndim_;
    for (int j = 0; j < ndim_; ++j) parent[j] = state[j];
    --parent[d];
    actions[count++] = d;
  }
  return count;
}

int HyperGrid::encoding_width(Encoding encoding) const {
  if (encoding == Encoding::KHot) return ndim_ * height_;
  return n_states_ >= 0 && n_states_ <= INT32_MAX ? static_cast<int>(n_states_) : -1;
}

int HyperGrid::encoding_active(Encoding encoding) const { return encoding == Encoding::KHot ? ndim_ : 1; }

void HyperGrid::encode_active(const int32_t* state, Encoding encoding, int32_t* active) const {
  if (encoding == Encoding::KHot) {
    for (int d = 0; d < ndim_; ++d) active[d] = d * height_ + state[d];
  } else {
    active[0] = static_cast<int32_t>(state_index(state));
  }
}

void HyperGrid::maxent_backward_logprobs(const int32_t* state, double* logp) const {
  int64_t total = 0;
  for (int d = 0; d < ndim_; ++d) total += state[d];
  const double log_total = std::log(static_cast<double>(total));
  for (int d = 0; d < ndim_; ++d)
    logp[d] = state[d] > 0 ? std::log(static_cast<double>(state[d])) - log_total : kNegativeInfinity;
}

int64_t HyperGrid::mode_of(const int32_t* state) const {
  uint64_t id = 0;
  for (int d = 0; d < ndim_; ++d) {
    const int32_t rank = mode_rank_[state[d]];
    if (rank < 0) return -1;
    id = id * mode_coordinates_ + rank;
  }
  return static_cast<int64_t>(id & INT64_MAX);
}

int64_t HyperGrid::state_index(const int32_t* state) const {
  uint64_t index = 0;
  for (int d = 0; d < ndim_; ++d) index = index * height_ + state[d];
  return static_cast<int64_t>(index);
}

void HyperGrid::state_from_index(int64_t index, int32_t* state) const {
  for (int d = ndim_ - 1; d >= 0; --d) {
    state[d] = static_cast<int32_t>(index % height_);
    index /= height_;
  }
}

std::string HyperGrid::action_name(int action) const {
  if (grid_action_names_) {
    static const char* const grid_names[3] = {"Down", "Right", "Terminate"};
    return grid_names[action];
  }
  return action == ndim_ ? "exit" : "+x" + std::to_string(action);
}

std::string HyperGrid::state_string(const int32_t* state) const {
  std::string text = "(";
  for (int d = 0; d < ndim_; ++d) text += (d ? "," : "") + std::to_string(state[d]);
  return text + ")";
}

}  // namespace gfn
