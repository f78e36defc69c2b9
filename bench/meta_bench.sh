#!/usr/bin/env bash
# What reading and publishing metas costs (issue 22), Release build, default flags:
#   1. a 1,000,000-file tree meta (bench/gen_tree.py meta --entries 1000000 --tiny, 108 MiB):
#      p2p-download --meta with no peer reads and validates it, then exits 2 ("no peers");
#      wall time and peak RSS (/usr/bin/time -v), medians of RUNS, minus a one-file meta's run.
#   2. the costliest meta lib/base/limits.hpp allows (gen_tree.py costly: 2^20 entries and
#      pieces, 64 MiB of 8-component paths, ~230,000 folders, escapes up to kMaxMetaFileBytes):
#      the same measure (read in full: it is valid).
#   3. --only: one 1 MiB file of the 20,000-file tree of bench/tree_bench.sh (gen_tree.py tree,
#      seed 1, 1 GiB), process start to verified file, from a p2p-seed on loopback; median of
#      ONLY_RUNS, the file compared with cmp.
#   4. the tracker: announce latency (wrk -t1 -c16 -d10s --latency, one announce URL) alone,
#      then while 3 addresses (127.0.0.2-4) publish the costliest 8 MiB meta a tracker takes
#      (gen_tree.py costly --entries 40000 --max-file-bytes 8388608, different bytes each time)
#      in a loop (the publishers at nice 19: they stand for other machines); p50 / p99, ratio;
#      and, as a control, the same loops publishing to another p2p-tracker.
# Env: P2P_BENCH_BIN (binaries to use; default: a Release build into build-release/), RUNS (3),
# ONLY_RUNS (10), WORK (scratch folder, default /tmp/p2p-meta-bench; metas and the tree are kept
# there between runs). Prints a table; writes bench/results/meta_bench-latest.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
RUNS=${RUNS:-3}
ONLY_RUNS=${ONLY_RUNS:-10}
WORK=${WORK:-/tmp/p2p-meta-bench}
OUT=$ROOT/bench/results/meta_bench-latest.txt
GEN=$ROOT/bench/gen_tree.py
mkdir -p "$WORK" "$ROOT/bench/results"
trap 'stop_all' EXIT
command -v wrk >/dev/null || die "wrk is needed (apt-get install wrk)"
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (apt-get install time)"

if [ -n "${P2P_BENCH_BIN:-}" ]; then
  BIN=$P2P_BENCH_BIN
else
  log "building Release into build-release/"
  cmake -S "$ROOT" -B "$ROOT/build-release" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$ROOT/build-release" -j2 --target p2p-create p2p-seed p2p-download p2p-tracker >/dev/null
  BIN=$ROOT/build-release/bin
fi
for b in p2p-create p2p-seed p2p-download p2p-tracker; do [ -x "$BIN/$b" ] || die "$BIN/$b is missing"; done

ROWS=()
row() { ROWS+=("$(printf '| %s | %s | %s | %s |' "$@")"); }

# --- metas -------------------------------------------------------------------------------
[ -s "$WORK/million.p2pmeta" ] || python3 "$GEN" meta "$WORK/million.p2pmeta" --entries 1000000 --tiny >/dev/null
[ -s "$WORK/costly.p2pmeta" ] || python3 "$GEN" costly "$WORK/costly.p2pmeta" >/dev/null
[ -s "$WORK/costly8m.p2pmeta" ] || python3 "$GEN" costly "$WORK/costly8m.p2pmeta" --entries 40000 --max-file-bytes 8388608 >/dev/null
head -c 1000 /dev/urandom >"$WORK/one.bin"
"$BIN/p2p-create" -q -o "$WORK/one.p2pmeta" "$WORK/one.bin"

# read_cost META: "SECONDS CPU_SECONDS PEAK_KIB EXIT MESSAGE" of p2p-download --meta META with no peer
# (medians of wall and user+system time, the highest peak RSS).
read_cost() {
  local m=$1 i times=() cpus=() peak=0 rc msg kib
  for ((i = 0; i < RUNS; i++)); do
    rm -rf "$WORK/parse"
    rc=0
    /usr/bin/time -v "$BIN/p2p-download" --meta "$m" --workdir "$WORK/parse" --quiet >"$WORK/parse.out" 2>"$WORK/parse.err" || rc=$?
    times+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + p[k]; print s}' "$WORK/parse.err")")
    cpus+=("$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {print u + s}' "$WORK/parse.err")")
    kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/parse.err")
    [ "$kib" -gt "$peak" ] && peak=$kib
  done
  msg=$(grep -v -e '^\s' -e '^$' "$WORK/parse.err" | head -1 | cut -c1-160)
  printf '%s %s %s %s %s\n' "$(median "${times[@]}")" "$(median "${cpus[@]}")" "$peak" "$rc" "$msg"
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

log "1-2. reading metas ($RUNS runs each)"
read -r base_s base_cpu base_kib _ _ < <(read_cost "$WORK/one.p2pmeta")
for label in million costly; do
  m=$WORK/$label.p2pmeta
  read -r s cpu kib rc msg < <(read_cost "$m")
  [ "$rc" = 2 ] || log "$label: exit $rc (expected 2, no peers): $msg"
  mib=$(( $(stat -c %s "$m") >> 20 ))
  row "read + validate: $label meta ($mib MiB)" "$(calc "$s - $base_s" | cut -c1-5) s wall, $(calc "$cpu - $base_cpu" | cut -c1-5) s CPU" \
      "$((kib / 1024)) MiB" "p2p-download with no peer: $s s process (one-file meta: $base_s s); exit $rc: $msg"
done

# --- 3. --only ----------------------------------------------------------------------------
log "3. --only one 1 MiB file of the 20,000-file tree ($ONLY_RUNS runs)"
python3 "$GEN" tree "$WORK/tree" --files 20000 --total 1g --seed 1 >/dev/null
TREE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["root"])' "$WORK/tree/params.json")
ONLY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["only"])' "$WORK/tree/params.json")
[ -s "$WORK/tree.p2pmeta" ] || "$BIN/p2p-create" -q -o "$WORK/tree.p2pmeta" "$TREE"
read -r tree_s tree_cpu tree_kib _ _ < <(read_cost "$WORK/tree.p2pmeta")
row "read + validate: the 20,000-file tree's meta ($(stat -c %s "$WORK/tree.p2pmeta") B)" \
    "$(calc "$tree_s - $base_s" | cut -c1-5) s wall, $(calc "$tree_cpu - $base_cpu" | cut -c1-5) s CPU" "$((tree_kib / 1024)) MiB" \
    "the part of the --only run below that reads the meta"
bg_start "$WORK/seed.log" "$BIN/p2p-seed" --meta "$WORK/tree.p2pmeta" --source "$TREE" --host 127.0.0.1 --port 0 --workdir "$WORK/seedwd"
SEED=$BG_PID
wait_until 120 "the seeder" grep -q '^listening ' "$WORK/seed.log"
PORT=$(sed -n 's/^listening [^ ]*:\([0-9]*\)$/\1/p' "$WORK/seed.log" | head -1)
ms=()
for ((i = 0; i <= ONLY_RUNS; i++)); do
  rm -rf "$WORK/only"
  t0=${EPOCHREALTIME/./}  # microseconds, read by bash itself (a `date` fork would be timed too)
  "$BIN/p2p-download" --meta "$WORK/tree.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$WORK/only" --only "$ONLY" --quiet
  t1=${EPOCHREALTIME/./}
  got=$(find "$WORK/only" -path "*/$ONLY" -type f | head -1)
  cmp -s "$got" "$TREE/$ONLY" || die "--only: the file differs from the tree's"
  [ "$i" -gt 0 ] && ms+=($(( (t1 - t0) / 1000 )))  # the first run warms the caches
done
stop_pid "$SEED"
only_med=$(median "${ms[@]}")
only_rng=$(printf '%s\n' "${ms[@]}" | sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "-" hi}')
row "\`--only\` one 1 MiB file of the 20,000-file tree ($(stat -c %s "$WORK/tree.p2pmeta") B meta)" \
    "$only_med ms (range $only_rng ms, median of ${#ms[@]})" "—" "start to verified file, cmp ok"

# --- 4. the tracker -----------------------------------------------------------------------
log "4. tracker: announce latency alone, then while 3 addresses publish 8 MiB metas"
rm -f "$WORK"/tracker.db* "$WORK"/tracker2.db*  # a fresh catalog each run: the first publish creates
bg_start "$WORK/tracker.log" "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$WORK/tracker.db"
TRACKER=$BG_PID
wait_until 30 "the tracker" grep -q '^listening ' "$WORK/tracker.log"
TPORT=$(sed -n 's/^listening [^ ]*:\([0-9]*\)$/\1/p' "$WORK/tracker.log" | head -1)
URL="http://127.0.0.1:$TPORT/announce?info_hash=$(printf 'a%.0s' {1..64})&peer_id=$(printf '1%.0s' {1..40})&port=7000&left=0"
# wrk_lat: "P50 P99" (ms) of 10 s of announces.
wrk_lat() {
  wrk -t1 -c16 -d10s --latency "$URL" >"$WORK/wrk.txt" 2>&1
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" {p50 = ms($2)} $1 == "99%" {p99 = ms($2)} END {printf "%.3f %.3f\n", p50, p99}' "$WORK/wrk.txt"
}
read -r alone50 alone99 < <(wrk_lat)
for k in 2 3 4; do
  for v in 1 2 3; do { cat "$WORK/costly8m.p2pmeta"; head -c $((k * 10 + v)) /dev/zero | tr '\0' ' '; } >"$WORK/pub$k-$v.json"; done
  : >"$WORK/codes$k.txt"
  # At nice 19: the publishers stand for other machines; here they share the tracker's 2 cores.
  bg_start "$WORK/publisher$k.log" nice -n 19 bash -c "while :; do for v in 1 2 3; do
      curl -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.$k --data-binary @'$WORK/pub$k-$v.json' \
        'http://127.0.0.1:$TPORT/publish' >>'$WORK/codes$k.txt' || true; done; done"
done
sleep 1
read -r busy50 busy99 < <(wrk_lat)
for pid in "${BG_PIDS[@]}"; do [ "$pid" != "$TRACKER" ] && stop_pid "$pid" 2; done
codes=$(cat "$WORK"/codes*.txt | sort | uniq -c | awk '{printf "%s%s x %s", (NR > 1 ? ", " : ""), $1, $2}')
# The control: the same three publish loops sent to another p2p-tracker (same answers,
# same checks, same bodies read), so what the publishers and their traffic cost this
# 2-core machine is told apart from what publishing costs the tracker being measured.
bg_start "$WORK/tracker2.log" "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$WORK/tracker2.db"
wait_until 30 "the control tracker" grep -q '^listening ' "$WORK/tracker2.log"
CONTROL_PORT=$(sed -n 's/^listening [^ ]*:\([0-9]*\)$/\1/p' "$WORK/tracker2.log" | head -1)
for k in 2 3 4; do
  bg_start "$WORK/control-publisher$k.log" nice -n 19 bash -c "while :; do for v in 1 2 3; do
      curl -s -o /dev/null --interface 127.0.0.$k --data-binary @'$WORK/pub$k-$v.json' \
        'http://127.0.0.1:$CONTROL_PORT/publish' || true; done; done"
done
sleep 1
read -r control50 control99 < <(wrk_lat)
for pid in "${BG_PIDS[@]}"; do [ "$pid" != "$TRACKER" ] && stop_pid "$pid" 2; done
stop_pid "$TRACKER"
row "announce p50 / p99, alone (wrk -t1 -c16 -d10s)" "$alone50 / $alone99 ms" "—" ""
row "announce p50 / p99, while 3 addresses publish the costliest 8 MiB meta in a loop" "$busy50 / $busy99 ms" \
    "p99 ratio $(calc "$busy99 / $alone99" | cut -c1-4)× alone, $(calc "$busy99 / $control99" | cut -c1-4)× the control" "publish answers: $codes"
row "control: announce p50 / p99 while the same 3 loops publish to another p2p-tracker" "$control50 / $control99 ms" \
    "p99 ratio $(calc "$control99 / $alone99" | cut -c1-4)× alone" "what the publishers cost this machine, whichever tracker they publish to"

{
  echo "meta_bench $(date -u +%FT%TZ) $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') load $(cut -d' ' -f1-3 /proc/loadavg)" \
       "cpu pressure: $(head -1 /proc/pressure/cpu 2>/dev/null || echo n/a)"
  echo "| measure | time | peak RSS | notes |"
  echo "| --- | --- | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
} | tee "$OUT"
