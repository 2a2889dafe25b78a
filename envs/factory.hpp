// Builds an environment from plain options (the `gfn` command's --env, --ndim, ... flags): "grid",
// "hypergrid", "bitseq" (non-autoregressive) and "bitseq-ar". Not a command-line parser.
// Bad input throws std::invalid_argument with one line naming the offending option.
//
//   EnvConfig config;  config.env = "hypergrid";  config.ndim = 4;  config.height = 20;
//   std::unique_ptr<Environment> env = make_environment(config);
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "envs/environment.hpp"

namespace gfn {

struct EnvConfig {
  std::string env = "hypergrid";     // grid | hypergrid | bitseq | bitseq-ar
  // hypergrid (grid is fixed: D = 2, H = 16, R0 = 0.01, R1 = 0.5, R2 = 2; it takes none of these)
  int ndim = 2;                      // D >= 1
  int height = 8;                    // H >= 2
  std::string reward = "standard";   // a preset of hypergrid_reward_preset_names()
  std::optional<double> r0, r1, r2;  // each, when set, overrides the preset's value (>= 0)
  // bitseq, bitseq-ar
  int n = 120;                       // bits; 1 <= n <= 4096
  int k = 8;                         // bits per word; 1 <= k <= 16, k divides n
  double beta = 2.0;                 // log R = -beta * Hamming distance to the nearest mode
};

const std::vector<std::string>& environment_names();

std::unique_ptr<Environment> make_environment(const EnvConfig& config);

}  // namespace gfn
