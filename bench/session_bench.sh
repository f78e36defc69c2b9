#!/usr/bin/env bash
# Session benchmark (not a timed test), for the one-process-many-files engine:
#  A. one p2p-seed serving 1,000 small metas: RSS above an empty session (per idle
#     torrent), time to serve after a first start (hashes every source) and after a
#     restart (remembers verified sources), and the time to download one of them;
#  B. one p2p-seed serving 8 files to 8 downloaders at once: aggregate rate vs one
#     file to one downloader, same run.
# Prints a table and writes it with the commands to bench/results/session_bench-latest.md.
#
#   bash bench/session_bench.sh
#
# Env: BENCH_DIR (scratch, default /tmp/p2p-session-bench), N_SMALL (1000), BIG_MIB (128),
#      RUNS (3), P2P_BENCH_SKIP_BUILD=1 (use build/bin as is).
set -euo pipefail
# No port mapping requests or LAN announces leave this run (docs: README "Across networks").
export P2P_NO_DISCOVERY=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/bin
BENCH_DIR=${BENCH_DIR:-/tmp/p2p-session-bench}
N_SMALL=${N_SMALL:-1000}
BIG_MIB=${BIG_MIB:-128}
RUNS=${RUNS:-3}
RESULTS=$ROOT/bench/results/session_bench-latest.md
[ "${P2P_BENCH_SKIP_BUILD:-0}" = 1 ] || bash "$ROOT/scripts/build.sh" >/dev/null
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
now() { date +%s.%N; }
calc() { python3 -c "print(f'{($1):.3f}')"; }
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.3f}')" "$@"; }
rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
# start_seed LOG ARGS...: p2p-seed in the background; waits for its listening line; sets SEED_PID, SEED_PORT, READY_S.
start_seed() {
  local log=$1; shift
  local t0; t0=$(now)
  : >"$log"  # exists before the reader below looks at it
  "$BIN/p2p-seed" --host 127.0.0.1 --port 0 -q "$@" >"$log" 2>&1 &
  SEED_PID=$!
  PIDS+=("$SEED_PID")
  for _ in $(seq 1 6000); do
    SEED_PORT=$(sed -n 's/^listening [^ ]*:\([0-9]*\)$/\1/p' "$log" 2>/dev/null | head -n1)
    [ -n "$SEED_PORT" ] && break
    kill -0 "$SEED_PID" 2>/dev/null || { cat "$log" >&2; echo "seeder died" >&2; exit 1; }
    sleep 0.01
  done
  READY_S=$(calc "$(now) - $t0")
}
stop_seed() { kill -TERM "$SEED_PID" 2>/dev/null || true; wait "$SEED_PID" 2>/dev/null || true; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
rm -rf "$BENCH_DIR" && mkdir -p "$BENCH_DIR/small" "$BENCH_DIR/empty" "$BENCH_DIR/big"
cd "$BENCH_DIR"

# ---- A. 1,000 small metas --------------------------------------------------------------
args=()
for i in $(seq 1 "$N_SMALL"); do
  f=small/f$i.bin
  head -c $((4096 + (i * 7919) % 61440)) /dev/urandom >"$f"
  "$BIN/p2p-create" -q "$f"
  args+=(--meta "$f.p2pmeta" --source "$f")
done
start_seed empty.log --dir empty --workdir wd-empty
sleep 1
rss_empty=$(rss_kib "$SEED_PID")
stop_seed
start_seed first.log "${args[@]}" --workdir wd-small
first_s=$READY_S
stop_seed
start_seed restart.log "${args[@]}" --workdir wd-small
restart_s=$READY_S
sleep 2
rss_full=$(rss_kib "$SEED_PID")
one=()
mid=$((N_SMALL / 2))
for r in $(seq 1 "$RUNS"); do
  rm -rf "dl-one-$r"
  t0=$(now)
  "$BIN/p2p-download" --meta small/f$mid.bin.p2pmeta --peer 127.0.0.1:$SEED_PORT --workdir "dl-one-$r" --no-listen -q
  one+=("$(calc "($(now) - $t0) * 1000")")
  cmp small/f$mid.bin "dl-one-$r/f$mid.bin"
done
stop_seed
per_torrent=$(calc "($rss_full - $rss_empty) / $N_SMALL")

# ---- B. 8 files to 8 downloaders vs 1 to 1 -----------------------------------------------
big_args=()
for i in 1 2 3 4 5 6 7 8; do
  head -c $((BIG_MIB * 1024 * 1024)) /dev/urandom >big/g$i.bin
  "$BIN/p2p-create" -q big/g$i.bin
  big_args+=(--meta big/g$i.bin.p2pmeta --source big/g$i.bin)
done
start_seed big.log "${big_args[@]}" --workdir wd-big
single=() eight=()
for r in $(seq 1 "$RUNS"); do
  rm -rf dl-1 && t0=$(now)
  "$BIN/p2p-download" --meta big/g1.bin.p2pmeta --peer 127.0.0.1:$SEED_PORT --workdir dl-1 --no-listen -q
  single+=("$(calc "$BIG_MIB / ($(now) - $t0)")")
  rm -rf dl-8 && t0=$(now)
  dl=()
  for i in 1 2 3 4 5 6 7 8; do
    "$BIN/p2p-download" --meta big/g$i.bin.p2pmeta --peer 127.0.0.1:$SEED_PORT --workdir dl-8/$i --no-listen -q &
    dl+=($!)
  done
  for p in "${dl[@]}"; do wait "$p"; done
  eight+=("$(calc "8 * $BIG_MIB / ($(now) - $t0)")")
  for i in 1 2 3 4 5 6 7 8; do cmp big/g$i.bin dl-8/$i/g$i.bin; done
done
stop_seed
single_m=$(median "${single[@]}")
eight_m=$(median "${eight[@]}")
ratio=$(calc "$eight_m / $single_m")

{
  echo "# Session benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg))"
  echo
  echo "Command: \`bash bench/session_bench.sh\` (N_SMALL=$N_SMALL, BIG_MIB=$BIG_MIB, RUNS=$RUNS; medians)"
  echo
  echo "| measure | value | target |"
  echo "| --- | --- | --- |"
  echo "| empty session RSS (p2p-seed --dir of an empty folder) | ${rss_empty} KiB | |"
  echo "| RSS serving $N_SMALL small metas (idle) | ${rss_full} KiB | |"
  echo "| RSS per idle torrent above the empty session | ${per_torrent} KiB | <= 100 KiB |"
  echo "| start to listening, $N_SMALL metas, first start (hashes every source) | ${first_s} s | |"
  echo "| start to listening, $N_SMALL metas, restart (verified sources remembered) | ${restart_s} s | |"
  echo "| download of one of them (process start to verified file) | $(median "${one[@]}") ms (runs: ${one[*]}) | |"
  echo "| 1 file to 1 downloader, ${BIG_MIB} MiB | ${single_m} MiB/s (runs: ${single[*]}) | |"
  echo "| 8 files to 8 downloaders at once, one seeder | ${eight_m} MiB/s aggregate (runs: ${eight[*]}) | |"
  echo "| aggregate 8x8 / 1x1 | ${ratio} x | >= 1.0 x |"
} | tee "$RESULTS"
cd / && rm -rf "$BENCH_DIR"
