#!/usr/bin/env bash
# Paired benchmark rounds: runs benchmarks A and B in separate processes,
# alternating which goes first, and prints the median of the per-round
# ratios B/A, and the ratio of the two fastest rounds. On a shared machine
# single runs vary by ±30%; pairs taken a second apart see the same
# conditions. With -R rev, A runs in the code of
# git revision rev and B in the working tree: before and after a change.
#
#   scripts/bench-pair.sh [-C dir] [-n rounds] [-t benchtime] [-R rev] A B [test binary flags…]
#   scripts/bench-pair.sh 'BenchmarkChain/clean/slog-json' 'BenchmarkChain/clean/setup-json' -test.cpu 1
#   scripts/bench-pair.sh -C benchmarks 'BenchmarkFile/zap-lumberjack-json' 'BenchmarkFile/codomyrmex-file-json'
#   scripts/bench-pair.sh -R HEAD~5 'BenchmarkChain/clean/setup-json' 'BenchmarkChain/clean/setup-json' -test.cpu 1
set -euo pipefail
dir=. rounds=12 benchtime=1s rev=
while getopts "C:n:t:R:" o; do
  case $o in
    C) dir=$OPTARG ;;
    n) rounds=$OPTARG ;;
    t) benchtime=$OPTARG ;;
    R) rev=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { sed -n '2,11p' "$0"; exit 2; }
a=$1 b=$2
shift 2
cd "$(dirname "$0")/.."
top=$(pwd)
cd "$dir"
tmp=$(mktemp -d)
cleanup() {
  [ -z "$rev" ] || git -C "$top" worktree remove --force "$tmp/rev" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
bin=$tmp/bench.test
go test -c -o "$bin" .
abin=$bin
if [ -n "$rev" ]; then
  git -C "$top" worktree add --detach "$tmp/rev" "$rev" >/dev/null 2>&1
  abin=$tmp/bench-rev.test
  (cd "$tmp/rev/$dir" && go test -c -o "$abin" .)
fi
anchor() { # each element of a sub-benchmark path matched exactly
  local IFS=/ out=() p
  for p in $1; do out+=("^$p\$"); done
  echo "${out[*]}"
}
nsop() { # ns/op of one benchmark run: binary, benchmark, flags
  "$1" -test.run '^$' -test.bench "$(anchor "$2")" -test.benchtime "$benchtime" "${@:3}" |
    awk '/ns\/op/ { for (i = 1; i < NF; i++) if ($(i+1) == "ns/op") print $i }'
}
ratios=() xs=() ys=()
for i in $(seq "$rounds"); do
  if (( i % 2 )); then x=$(nsop "$abin" "$a" "$@"); y=$(nsop "$bin" "$b" "$@"); else y=$(nsop "$bin" "$b" "$@"); x=$(nsop "$abin" "$a" "$@"); fi
  ratios+=("$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.3f", y / x }')")
  xs+=("$x") ys+=("$y")
  echo "round $i: A $x ns/op, B $y ns/op, B/A ${ratios[-1]}"
done
# The fastest round of each is the one least disturbed by the machine's
# other work: their ratio is a second estimate, steadier when the rounds'
# noise is one-sided (a shared VM only ever slows a run down).
fastest=$(awk -v xs="${xs[*]}" -v ys="${ys[*]}" 'BEGIN {
  n = split(xs, x, " "); split(ys, y, " "); mx = x[1]; my = y[1]
  for (i = 2; i <= n; i++) { if (x[i] < mx) mx = x[i]; if (y[i] < my) my = y[i] }
  printf "%.3f", my / mx }')
printf '%s\n' "${ratios[@]}" | sort -n | awk -v f="$fastest" '{ r[NR] = $1 } END {
  m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
  printf "median B/A over %d rounds: %.3f (min %.3f, max %.3f); fastest B / fastest A: %.3f\n", NR, m, r[1], r[NR], f }'
