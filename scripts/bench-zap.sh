#!/usr/bin/env bash
# Runs zap's benchmark scenarios (benchmarks/zap_test.go) for zap, zerolog,
# slog and the library's two set-ups, in rounds: every round runs all of
# them once, one after another in one process, so that the loggers compared
# see the same conditions; the table gives each one's median over the
# rounds, and its ratios to zap and to slog as the medians of the rounds'
# ratios (paired: this VM's speed drifts more between rounds than within
# one). It rewrites the table between the markers in benchmarks/README.md
# (with -p it only prints it).
#
#   scripts/bench-zap.sh [-n rounds] [-t benchtime] [-p]
set -euo pipefail
rounds=5 benchtime=1s print=
while getopts "n:t:p" o; do
  case $o in
    n) rounds=$OPTARG ;;
    t) benchtime=$OPTARG ;;
    p) print=1 ;;
    *) exit 2 ;;
  esac
done
cd "$(dirname "$0")/../benchmarks"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/bench.test" .
for i in $(seq "$rounds"); do
  "$tmp/bench.test" -test.run '^$' -test.bench '^BenchmarkZap$' -test.benchtime "$benchtime" -test.cpu 1 >>"$tmp/raw"
  echo "round $i of $rounds done" >&2
done
# name ns allocs, one line per run; medians per name; the table.
awk '/^BenchmarkZap\// {
  split($1, p, "/"); sc = p[2]; lg = p[3]; sub(/-[0-9]+$/, "", lg)
  for (i = 2; i < NF; i++) { if ($(i+1) == "ns/op") ns = $i; if ($(i+1) == "allocs/op") al = $i }
  print sc, lg, ns, al
}' "$tmp/raw" >"$tmp/runs"
table=$(awk -v rounds="$rounds" -v benchtime="$benchtime" '
function median(arr, n,   i, j, t) {
  for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j+1] = arr[j]; arr[j+1] = t }
  return (n % 2) ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
function fmtns(x) { return x >= 1000 ? sprintf("%.2f µs", x / 1000) : sprintf("%.0f ns", x) }
function rel(r) { return sprintf("%+.0f%%", (r - 1) * 100) }
# ratio: the median over the rounds of the time of x over the time of y, each round alone.
function ratio(sc, x, y,   k, i, m, r) {
  k = sc SUBSEP x; m = n[k]
  for (i = 1; i <= m; i++) r[i] = ns[k, i] / ns[sc SUBSEP y, i]
  return median(r, m)
}
{ k = $1 SUBSEP $2; n[k]++; ns[k, n[k]] = $3; al[k, n[k]] = $4 }
END {
  split("fields context static", scs, " ")
  title["fields"] = "Log a message and 10 fields:"
  title["context"] = "Log a message with a logger that already has 10 fields of context:"
  title["static"] = "Log a static string, without any context or `printf`-style templating:"
  split("zap zerolog slog codomyrmex-setup codomyrmex-wrap-slog", lgs, " ")
  label["zap"] = ":zap: zap"; label["zerolog"] = "rs/zerolog"; label["slog"] = "log/slog (JSON)"
  label["codomyrmex-setup"] = "codomyrmex Setup (JSON)"; label["codomyrmex-wrap-slog"] = "codomyrmex Wrap(slog JSON)"
  for (s = 1; s <= 3; s++) {
    sc = scs[s]
    for (l = 1; l <= 5; l++) {
      k = sc SUBSEP lgs[l]; m = n[k]
      for (i = 1; i <= m; i++) { a[i] = ns[k, i]; b[i] = al[k, i] }
      mns[lgs[l]] = median(a, m); mal[lgs[l]] = median(b, m)
    }
    printf "%s\n\n| Package | Time | Time %% to zap | Time %% to slog | Objects Allocated |\n| :--- | :---: | :---: | :---: | :---: |\n", title[sc]
    for (l = 1; l <= 5; l++) {
      g = lgs[l]
      printf "| %s | %s | %s | %s | %d allocs/op |\n", label[g], fmtns(mns[g]), rel(ratio(sc, g, "zap")), rel(ratio(sc, g, "slog")), mal[g]
    }
    printf "\n"
  }
  printf "Medians of %d rounds (-benchtime %s, -cpu 1), %s; the percentages are the medians of each round'"'"'s ratios.\n", rounds, benchtime, ENVIRON["BENCH_MACHINE"] != "" ? ENVIRON["BENCH_MACHINE"] : "on one machine"
}' "$tmp/runs")
if [ -n "$print" ]; then
  echo "$table"
  exit 0
fi
readme=README.md
grep -q '<!-- zap-table:begin -->' "$readme" || { echo "no table markers in benchmarks/$readme" >&2; exit 1; }
awk -v table="$table" '
/<!-- zap-table:begin -->/ { print; print ""; print table; print ""; skip = 1; next }
/<!-- zap-table:end -->/ { skip = 0 }
!skip { print }' "$readme" >"$tmp/readme"
cp "$tmp/readme" "$readme"
echo "table written to benchmarks/$readme" >&2
