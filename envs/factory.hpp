// Builds an environment from plain options (the `gfn` command's --env, --ndim, ... flags): "grid",
// "hypergrid", "bitseq" (non-autoregressive), "bitseq-ar", "ising", and any environment registered with
// register_environment (so a program of your own can offer its environment to every gfn command, see
// examples/motif_gfn.cpp). Not a command-line parser.
// Bad input throws std::invalid_argument with one line naming the offending option.
//
//   EnvConfig config;  config.env = "hypergrid";  config.ndim = 4;  config.height = 20;
//   std::unique_ptr<Environment> env = make_environment(config);
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "envs/environment.hpp"

namespace gfn {

struct EnvConfig {
  std::string env = "hypergrid";     // grid | hypergrid | bitseq | bitseq-ar | ising
  // hypergrid (grid is fixed: D = 2, H = 16, R0 = 0.01, R1 = 0.5, R2 = 2; it takes none of these)
  int ndim = 2;                      // D >= 1
  int height = 8;                    // H >= 2
  std::string reward = "standard";   // a preset of hypergrid_reward_preset_names()
  std::optional<double> r0, r1, r2;  // each, when set, overrides the preset's value (>= 0)
  // bitseq, bitseq-ar
  int n = 120;                       // bits; 1 <= n <= 4096
  int k = 8;                         // bits per word; 1 <= k <= 16, k divides n
  double beta = 2.0;                 // log R = -beta * Hamming distance to the nearest mode
  // ising (defaults: torchgfn's train_ising example, on a 3x3 lattice that enumerates)
  int ising_size = 3;                // lattice side L, 2 <= L <= 64; D = L*L spins
  double ising_j = 0.44;             // coupling: E = -J s^T A s, A the torus adjacency (finite)
  double alpha = 1.0;                // log R = -alpha * E (finite, >= 0)
};

// The built-in names, then the registered ones in the order of registration.
const std::vector<std::string>& environment_names();

std::unique_ptr<Environment> make_environment(const EnvConfig& config);

// Makes `name` an environment of make_environment (and so of --env): `make` builds it from the
// options (it may read any field of EnvConfig, e.g. n, and throw std::invalid_argument for bad ones).
// Register before the first command-line parse or settings lookup, from one thread (e.g. first thing
// in main). Throws std::invalid_argument for a name already taken or an empty one.
using EnvironmentMaker = std::function<std::unique_ptr<Environment>(const EnvConfig&)>;
void register_environment(const std::string& name, EnvironmentMaker make);

}  // namespace gfn
