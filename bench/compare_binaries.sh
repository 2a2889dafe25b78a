#!/usr/bin/env bash
# Two builds of `gfn` side by side: transitions/s of the same `gfn train` run (TB, MLP 2x256, learned
# P_B on the shared trunk, on-policy: the cross-library scenarios of bench_scenarios) on each binary,
# alternating A, B, A, B, ... so both see the same machine load. Prints the median of the repetitions
# and the ratio A / B per scenario and batch. Used to compare a change against an older commit:
#
#   git worktree add /tmp/old 3ae3e2d && (cd /tmp/old && cmake --preset release && cmake --build build/release -j --target gfn_cli)
#   bench/compare_binaries.sh build/release/gfn /tmp/old/build/release/gfn 2
#
# Arguments: binary A, binary B, threads (default 2). Environment: SCENARIOS (DxH words, default
# "2x8 4x16 4x32": the three of bench_scenarios), BATCHES (default "32 128 512"), REPEATS (default 3), A_FLAGS and B_FLAGS
# (extra flags for one binary only, e.g. A_FLAGS="--uniform-ratio 0" when B predates that flag).
set -euo pipefail
a=$1 b=$2 threads=${3:-2}
repeats=${REPEATS:-3}
median() { printf "%s\n" "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
rate() { "$@" 2>/dev/null | grep -o '"transitions_per_s": [0-9.e+]*' | cut -d' ' -f2; }
for scenario in ${SCENARIOS:-2x8 4x16 4x32}; do
  IFS=x read -r ndim height <<< "$scenario"
  for batch in ${BATCHES:-32 128 512}; do
    iters=$((60000 / batch / (ndim * height / 4)))
    ((iters < 20)) && iters=20
    common=(train --env hypergrid --ndim "$ndim" --height "$height" --reward standard --loss tb --pb learned --tied
            --batch "$batch" --iters "$iters" --threads "$threads" --eval-every 100000 --epsilon 0 --json)
    rates_a=() rates_b=()
    for ((r = 0; r < repeats; ++r)); do
      # shellcheck disable=SC2086  # the extra flags are words
      rates_a+=("$(rate "$a" "${common[@]}" ${A_FLAGS:-})")
      # shellcheck disable=SC2086
      rates_b+=("$(rate "$b" "${common[@]}" ${B_FLAGS:-})")
    done
    ma=$(median "${rates_a[@]}") mb=$(median "${rates_b[@]}")
    printf "D=%s H=%-2s batch %4d threads %d iters %4d: A %9.0f  B %9.0f transitions/s  A/B %.2f\n" \
      "$ndim" "$height" "$batch" "$threads" "$iters" "$ma" "$mb" "$(awk -v a="$ma" -v b="$mb" 'BEGIN {print a / b}')"
  done
done
