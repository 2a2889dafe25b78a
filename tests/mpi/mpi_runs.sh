#!/usr/bin/env bash
# The MPI tests (ctest -L mpi): `gfn train` under mpirun against the same run in one process.
#   mpi_runs.sh GFN SAME_RUN identical FLAGS...  the run in one process, under -np 2 and under -np 3: the
#                                                same checkpoint bit for bit (tests/mpi/same_run.cpp), and
#                                                one summary line (rank 0 alone prints)
#   mpi_runs.sh GFN SAME_RUN resume              20 iterations in one process = 10 under -np 2 resumed to
#                                                20 under -np 3
#   mpi_runs.sh GFN SAME_RUN failures            a diverging run, a rank that cannot start, a rank with
#                                                other settings: one message, a non-zero exit, no hang
set -euo pipefail
gfn=$1 same_run=$2 case=$3
shift 3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mpi() { timeout 60 mpirun --allow-run-as-root --oversubscribe "$@"; }
small=(train --quiet --json --env hypergrid --ndim 2 --height 8 --batch 48 --eval-every 5 --threads 1)
fail() { echo "mpi_runs: $*" >&2; exit 1; }

# expect_failure CODE TEXT COMMAND...: COMMAND exits with CODE and prints TEXT exactly once on stderr.
expect_failure() {
  local code=$1 text=$2 status=0
  shift 2
  "$@" >"$scratch/out" 2>"$scratch/err" || status=$?
  [[ $status -eq $code ]] || fail "exit code $status instead of $code: $* ($(cat "$scratch/err"))"
  local count
  count=$(grep -cF -- "$text" "$scratch/err" || true)
  [[ $count -eq 1 ]] || fail "'$text' printed $count times instead of once: $(cat "$scratch/err")"
}

case $case in
  identical)
    "$gfn" "${small[@]}" --iters 10 "$@" --out "$scratch/one" >/dev/null
    for n in 2 3; do
      mpi -np $n "$gfn" "${small[@]}" --iters 10 "$@" --out "$scratch/np$n" >"$scratch/out"
      [[ $(wc -l <"$scratch/out") -eq 1 ]] || fail "-np $n printed $(wc -l <"$scratch/out") summary lines"
      "$same_run" "$scratch/one/checkpoint.bin" "$scratch/np$n/checkpoint.bin" || fail "-np $n differs from one process"
    done
    ;;
  resume)
    "$gfn" "${small[@]}" --iters 20 "$@" --out "$scratch/one" >/dev/null
    mpi -np 2 "$gfn" "${small[@]}" --iters 10 "$@" --out "$scratch/split" >/dev/null
    mpi -np 3 "$gfn" train --quiet --threads 1 --resume "$scratch/split/checkpoint.bin" --iters 20 \
      --out "$scratch/split" >/dev/null
    "$same_run" "$scratch/one/checkpoint.bin" "$scratch/split/checkpoint.bin" || fail "resumed under -np 3 differs"
    ;;
  failures)
    # Divergence at iteration 2 (every rank finds it: the rollout is replicated); rank 0 alone reports it.
    expect_failure 1 "training diverged at iteration 2" mpi -np 2 "$gfn" "${small[@]}" --iters 10 --lr 1e30
    # Rank 1 alone fails (its checkpoint cannot be read): rank 0 reports rank 1's message.
    expect_failure 1 "gfn: error: rank 1: " mpi -np 1 "$gfn" "${small[@]}" --iters 10 : \
      -np 1 "$gfn" "${small[@]}" --iters 10 --resume "$scratch/missing.bin"
    # Rank 2 runs other settings: found before the first iteration.
    expect_failure 2 "rank 2 runs with another configuration than rank 0" mpi -np 2 "$gfn" "${small[@]}" --iters 10 : \
      -np 1 "$gfn" "${small[@]}" --iters 10 --lr 0.01
    ;;
  *)
    fail "unknown case '$case'"
    ;;
esac
