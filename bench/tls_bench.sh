#!/usr/bin/env bash
# Private-swarm transport cost (not a timed test): one seeder, one downloader on loopback,
# a SIZE file (default 1 GiB) downloaded with default options
#   * plaintext (public meta: the seeder sends with sendfile(2)),
#   * private (p2p-create --private: TLS 1.3, TLS_AES_128_GCM_SHA256 under an external PSK;
#     the seeder preads into a buffer and encrypts, the downloader decrypts),
#   * aria2c -> aria2c plaintext through opentracker (the anchor of bench/core_bench.sh),
# RUNS runs each after one warm-up, interleaved plain/private so load drifts hit both; medians,
# ratios private/plain and private/aria2c, CPU seconds of both processes, and (with perf) where
# the private run's CPU goes. Every output is compared with cmp before it counts.
# Writes bench/results/tls_bench-latest.md.
#
#   bash bench/tls_bench.sh
#
# Env: BENCH_DIR (scratch, default /tmp/p2p-tls-bench; needs ~3x SIZE free), SIZE (bytes,
#      default 1 GiB), RUNS (3), RESULTS_DIR (bench/results), SKIP_ARIA=1, SKIP_PERF=1,
#      P2P_BENCH_SKIP_BUILD=1 (use build/bin).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

BENCH_DIR=${BENCH_DIR:-/tmp/p2p-tls-bench}
SIZE=${SIZE:-$((1 << 30))}
RUNS=${RUNS:-3}
RESULTS_DIR=${RESULTS_DIR:-$HERE/results}
for tool in python3 cmp openssl; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (Debian package: time)"
ARIA=1
[ "${SKIP_ARIA:-0}" = 1 ] && ARIA=0
for tool in aria2c opentracker mktorrent curl; do
  command -v "$tool" >/dev/null || { [ $ARIA = 1 ] && log "$tool missing: no aria2c anchor (P2P_BENCH_DEPS=1 scripts/setup-deps.sh)"; ARIA=0; }
done
PERF=1
{ [ "${SKIP_PERF:-0}" = 1 ] || ! command -v perf >/dev/null; } && PERF=0

build_binaries

trap stop_all EXIT
trap 'exit 130' INT TERM
RUN=$BENCH_DIR/run
rm -rf "$RUN"
mkdir -p "$RUN"/{logs,plain,private,dl,ot}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

log "writing a $SIZE-byte random file"
{ openssl enc -aes-128-ctr -K "$(openssl rand -hex 16)" -iv 0 -nosalt </dev/zero 2>/dev/null || true; } |
  head -c "$SIZE" >"$RUN/plain/f.bin"
[ "$(stat -c %s "$RUN/plain/f.bin")" = "$SIZE" ] || die "could not write the test file"
ln "$RUN/plain/f.bin" "$RUN/private/f.bin"
"$BIN/p2p-create" -q "$RUN/plain/f.bin"
"$BIN/p2p-create" -q --private "$RUN/private/f.bin"
sync

ROWS=$RUN/rows.tsv   # kind wall user sys seeder_cpu
: >"$ROWS"

# seed KIND: starts p2p-seed for that meta; sets SEED_PID, SEED_PORT.
seed() {
  local logf=$RUN/logs/seed-$1.log i
  bg_start "$logf" "$BIN/p2p-seed" --meta "$RUN/$1/f.bin.p2pmeta" --source "$RUN/$1/f.bin" --host 127.0.0.1 --port 0 --quiet
  SEED_PID=$BG_PID
  for ((i = 0; i < 1200; i++)); do
    grep -q '^listening ' "$logf" && break
    is_running "$SEED_PID" || die "p2p-seed exited: $(cat "$logf")"
    sleep 0.1
  done
  SEED_PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$logf")
  [ -n "$SEED_PORT" ] || die "p2p-seed did not start: $(cat "$logf")"
}

# get KIND PORT SEEDPID [record]: one timed download, cmp'd; records a row unless a warm-up.
get() {
  local kind=$1 port=$2 spid=$3 out=$RUN/dl/$1 tl=$RUN/logs/time.txt c0 c1
  rm -rf "$out"
  c0=$(proc_cpu "$spid" | awk '{print $1 + $2}')
  /usr/bin/time -f '%e %U %S' -o "$tl" "$BIN/p2p-download" --meta "$RUN/$kind/f.bin.p2pmeta" \
    --peer "127.0.0.1:$port" --workdir "$out" --no-listen --quiet || die "$kind download failed"
  c1=$(proc_cpu "$spid" | awk '{print $1 + $2}')
  cmp -s "$out/f.bin" "$RUN/plain/f.bin" || die "$kind download differs"
  rm -rf "$out"
  read -r wall user sys <"$tl"
  [ "${4:-}" = record ] || return 0
  printf '%s\t%s\t%s\t%s\t%s\n' "$kind" "$wall" "$user" "$sys" "$(calc "$c1 - $c0")" >>"$ROWS"
  log "$kind: ${wall}s (downloader user ${user}s sys ${sys}s; seeder $(calc "$c1 - $c0") CPU-s)"
}

seed plain
PLAIN_PID=$SEED_PID PLAIN_PORT=$SEED_PORT
seed private
PRIV_PID=$SEED_PID PRIV_PORT=$SEED_PORT
get plain "$PLAIN_PORT" "$PLAIN_PID"
get private "$PRIV_PORT" "$PRIV_PID"
for ((r = 0; r < RUNS; r++)); do
  get plain "$PLAIN_PORT" "$PLAIN_PID" record
  get private "$PRIV_PORT" "$PRIV_PID" record
done

PERF_TXT=$RUN/perf.txt
if [ $PERF = 1 ]; then
  log "perf: where one private download's CPU goes (both processes, whole system)"
  rm -rf "$RUN/dl/private"
  if perf record -a -F 999 -o "$RUN/perf.data" -- "$BIN/p2p-download" --meta "$RUN/private/f.bin.p2pmeta" \
      --peer "127.0.0.1:$PRIV_PORT" --workdir "$RUN/dl/private" --no-listen --quiet >"$RUN/logs/perf.log" 2>&1; then
    perf report -i "$RUN/perf.data" --no-children --sort comm,dso,sym --percent-limit 1.5 --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -30 >"$PERF_TXT" || true
  else
    echo "perf record failed: $(tail -2 "$RUN/logs/perf.log")" >"$PERF_TXT"
  fi
  rm -rf "$RUN/dl/private" "$RUN/perf.data"
fi
stop_pid "$PLAIN_PID"
stop_pid "$PRIV_PID"

if [ $ARIA = 1 ]; then
  log "aria2c -> aria2c plaintext (opentracker)"
  OT_PORT=$(free_port)
  tor=$RUN/plain/f.bin.torrent
  mktorrent -t 2 -p -a "http://127.0.0.1:$OT_PORT/announce" -o "$tor" "$RUN/plain/f.bin" >/dev/null
  hash=$(python3 "$HERE/bench_util.py" infohash "$tor")
  echo "$hash" >"$RUN/ot/whitelist"
  chmod 755 "$BENCH_DIR" "$RUN" "$RUN/ot"; chmod 644 "$RUN/ot/whitelist"
  if [ "$(id -u)" = 0 ]; then wl=/whitelist; else wl=$RUN/ot/whitelist; fi
  bg_start "$RUN/logs/opentracker.log" sh -c "cd $(q "$RUN/ot") && exec opentracker -i 127.0.0.1 -p $OT_PORT -P $OT_PORT -d $RUN/ot -w $wl"
  esc=$(echo "$hash" | sed 's/../%&/g')
  wait_until 10 "opentracker" curl -sf "http://127.0.0.1:$OT_PORT/scrape?info_hash=$esc"
  ARIA_COMMON=(--no-conf --enable-dht=false --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false)
  bg_start "$RUN/logs/aria-seed.log" aria2c "${ARIA_COMMON[@]}" --dir="$RUN/plain" -V --seed-ratio=0.0 \
    --listen-port="$(free_port)" --bt-external-ip=127.0.0.1 --summary-interval=0 --show-console-readout=false "$tor"
  ASEED=$BG_PID
  for ((i = 0; i < 3000; i++)); do
    curl -sf "http://127.0.0.1:$OT_PORT/scrape?info_hash=$esc" | grep -aq '8:completei[1-9]' && break
    is_running "$ASEED" || die "aria2c seeder exited"
    sleep 0.1
  done
  for ((r = 0; r < RUNS; r++)); do
    rm -rf "$RUN/dl/aria"
    c0=$(proc_cpu "$ASEED" | awk '{print $1 + $2}')
    /usr/bin/time -f '%e %U %S' -o "$RUN/logs/time.txt" aria2c "${ARIA_COMMON[@]}" --dir="$RUN/dl/aria" --seed-time=0 \
      --listen-port="$(free_port)" --file-allocation=none --summary-interval=0 -q "$tor" || die "aria2c failed"
    c1=$(proc_cpu "$ASEED" | awk '{print $1 + $2}')
    cmp -s "$RUN/dl/aria/f.bin" "$RUN/plain/f.bin" || die "aria2c download differs"
    read -r wall user sys <"$RUN/logs/time.txt"
    printf 'aria2c\t%s\t%s\t%s\t%s\n' "$wall" "$user" "$sys" "$(calc "$c1 - $c0")" >>"$ROWS"
    log "aria2c: ${wall}s"
  done
  rm -rf "$RUN/dl/aria"
fi

mkdir -p "$RESULTS_DIR"
OUT=$RESULTS_DIR/tls_bench-latest.md
python3 - "$ROWS" "$SIZE" "$PERF_TXT" "$LOAD_START $(cut -d' ' -f1-3 /proc/loadavg)" "$RUNS" >"$OUT" <<'PY'
import os, statistics, sys
rows, size, perf, load, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
by = {}
for line in open(rows):
    k, wall, user, sys_, seed = line.split("\t")
    by.setdefault(k, []).append((float(wall), float(user) + float(sys_), float(seed)))
med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v), statistics.median(r[2] for r in v)) for k, v in by.items()}
print(f"# Private swarm transport: {size / 2**30:.2f} GiB on loopback, medians of {runs}\n")
print("| transfer | wall s | MB/s | downloader CPU-s | seeder CPU-s |")
print("| --- | --- | --- | --- | --- |")
for k in ("plain", "private", "aria2c"):
    if k in med:
        w, c, s = med[k]
        print(f"| {k} | {w:.2f} | {size / w / 1e6:.0f} | {c:.2f} | {s:.2f} |")
print()
if "plain" in med and "private" in med:
    print(f"private / plaintext time: **{med['private'][0] / med['plain'][0]:.2f}x** (target <= 1.3x)  ")
if "aria2c" in med and "private" in med:
    print(f"private / aria2c plaintext time: **{med['private'][0] / med['aria2c'][0]:.2f}x** (target <= 0.2x)  ")
print(f"\nload average (1/5/15 min) at start, end: {load}\n")
if os.path.exists(perf):
    print("## Where a private download's CPU goes (perf, both processes, >= 1.5 %)\n\n```")
    print(open(perf).read().rstrip())
    print("```")
PY
cat "$OUT"
