// Every --loss x --pb combination through the real `gfn` binary on a tiny grid: each trains a few
// iterations with --out (a checkpoint written, then read back by `gfn eval`), or is refused as a usage
// error (exit code 2, one line). Names come from the library's registries, so a new objective or
// backward policy is covered without editing this file. CI runs it in the sanitized build too (.ci/run).
#include <doctest/doctest.h>

#include <string>

#include "core/network/model.hpp"
#include "core/training/objectives.hpp"
#include "support/cli_runner.hpp"

TEST_CASE("cli: every --loss x --pb combination trains a few iterations or is refused with exit code 2") {
  using gfn::testing::run_gfn;
  int trained = 0, refused = 0;
  for (const std::string& loss : gfn::objective_names()) {
    for (int policy = 0; policy <= int(gfn::BackwardPolicy::Pessimistic); ++policy) {
      const std::string pb = gfn::backward_policy_name(gfn::BackwardPolicy(policy));
      CAPTURE(loss);
      CAPTURE(pb);
      const std::string dir = gfn::testing::scratch_dir("grid-" + loss + "-" + pb);
      const gfn::testing::CliResult result =
          run_gfn("train --quiet --env hypergrid --ndim 2 --height 4 --hidden 16 --batch 8 --iters 4 --eval-every 2 "
                  "--threads 2 --loss " + loss + " --pb " + pb + " --out " + dir);
      if (result.exit_code == 2) {
        ++refused;
        gfn::testing::check_one_line_error(result, "gfn: error: ");
        continue;
      }
      REQUIRE(result.exit_code == 0);
      ++trained;
      CHECK(run_gfn("eval --n 16 --checkpoint " + dir + "/checkpoint.bin").exit_code == 0);
    }
  }
  MESSAGE(trained << " combinations trained, " << refused << " refused as usage errors");
  CHECK(trained > refused);
}
