#!/bin/sh
# run.sh: the benchmark scenarios of issue 2 ("Performance") against a
# built tree, then a summary against the targets. A benchmark, not a test.
#
# usage: contrib/bench/run.sh [BUILD_DIR]      (default: the current dir)
#
# Environment (all optional):
#   ALERTS=20000         alerts in scenarios a and b
#   CONNS=4              sender connections
#   RATE=1000            alerts/s in scenario c
#   RATE_SECONDS=10      length of scenario c
#   SCENARIOS="a b c"    which to run; "i" adds (a) with nothing routed,
#                        the intake ceiling without deliveries competing
#   BENCH_ARGS=          more tocsin-bench options ("--keep", "--log-level info")
# Exit status: 0 when every scenario met the targets, 1 when one missed,
# 2 when a scenario could not run.
set -u

build=$(cd "${1:-.}" && pwd) || exit 2
bench=$build/contrib/bench/tocsin-bench
tocsind=$build/core/tocsind
plugins=$build/stage/plugins
ALERTS=${ALERTS:-20000}
CONNS=${CONNS:-4}
RATE=${RATE:-1000}
RATE_SECONDS=${RATE_SECONDS:-10}
SCENARIOS=${SCENARIOS:-a b c}
BENCH_ARGS=${BENCH_ARGS:-}

# `make bench` builds the driver, the daemon and the staged plugins.
if [ ! -x "$bench" ] || [ ! -x "$tocsind" ] || [ ! -d "$plugins" ]; then
    make -C "$build" bench >&2 || exit 2
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/tocsin-bench-run.XXXXXX") || exit 2
trap 'rm -rf "$out"' EXIT INT TERM
failed=0

scenario() {
    name=$1
    shift
    echo "=== scenario $name: $*" >&2
    # shellcheck disable=SC2086 # BENCH_ARGS is a word list on purpose
    "$bench" --tocsind "$tocsind" --plugin-dir "$plugins" --name "$name" \
        --connections "$CONNS" "$@" $BENCH_ARGS >"$out/$name.txt"
    rc=$?
    cat "$out/$name.txt"
    grep '^RESULT ' "$out/$name.txt" >>"$out/results" || failed=2
    [ "$rc" -le 1 ] || failed=2
    echo >&2
}

for s in $SCENARIOS; do
    case $s in
    a) scenario a --alerts "$ALERTS" --batch 100 --rate 0 ;;
    b) scenario b --alerts "$ALERTS" --batch 1 --rate 0 ;;
    c) scenario c --alerts $((RATE * RATE_SECONDS)) --batch 1 --rate "$RATE" ;;
    i) scenario i --alerts "$ALERTS" --batch 100 --rate 0 --intake-only ;;
    *) echo "run.sh: unknown scenario $s (a, b, c or i)" >&2; exit 2 ;;
    esac
done
[ -s "$out/results" ] || exit 2

# Summary: one row per scenario, then the targets of the issue.
awk -v failed="$failed" '
function v(k,   i, kv) {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return kv[2] }
    return ""
}
BEGIN {
    printf "\n%-4s %7s %5s %5s %6s %10s %9s %9s %9s %13s %8s %5s\n",
        "run", "alerts", "batch", "conns", "rate", "intake/s", "p50 ms", "p99 ms",
        "max ms", "delivered", "RSS MiB", "exit"
    miss = 0
}
/^RESULT / {
    name = v("name"); rss = v("rss_hwm_kib") / 1024
    printf "%-4s %7s %5s %5s %6s %10s %9s %9s %9s %13s %8.1f %5s\n",
        name, v("alerts"), v("batch"), v("conns"), (v("rate") == 0 ? "max" : v("rate")),
        v("intake_aps"), v("p50_ms"), v("p99_ms"), v("max_ms"),
        v("delivered") "/" v("alerts"), rss, v("exit")
    lost = (v("expected") == 0 && name == "i") ? 0 : v("alerts") - v("delivered")
    if (lost != 0) { miss = 1; notes = notes sprintf("  MISS %s: %d alerts not delivered (accepted %s)\n", name, lost, v("accepted")) }
    if (rss >= 20) { miss = 1; notes = notes sprintf("  MISS %s: peak RSS %.1f MiB >= 20 MiB\n", name, rss) }
    if (v("exit") != "0") { miss = 1; notes = notes sprintf("  MISS %s: daemon exit %s after SIGTERM\n", name, v("exit")) }
    if (name == "a" && v("intake_aps") < 20000) { miss = 1; notes = notes sprintf("  MISS a: intake %s alerts/s < 20000 with batches of 100\n", v("intake_aps")) }
    if (v("rate") > 0 && v("lag_ms") > 50) notes = notes sprintf("  note %s: the senders fell %s ms behind the schedule; latency from the actual send\n", name, v("lag_ms"))
    if (name == "c" && v("p99_ms") >= 50) { miss = 1; notes = notes sprintf("  MISS c: p99 %s ms >= 50 ms at %s alerts/s\n", v("p99_ms"), v("rate")) }
}
END {
    printf "\ntargets: a >= 20000 alerts/s; c p99 < 50 ms; RSS < 20 MiB; nothing lost; exit 0\n"
    if (notes != "") printf "%s", notes; else printf "  all met\n"
    exit failed ? failed : miss
}' "$out/results"
