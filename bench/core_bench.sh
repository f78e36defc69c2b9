#!/usr/bin/env bash
# Core transfer-path benchmark (not a timed test). One seeder, one downloader on loopback,
# at 100 MiB, 1 GiB, 4 GiB and 8 GiB:
#   * p2p-share first runs: a fresh random file is written, p2p-create'd and seeded, and the
#     download starts at once (the source's pages are still dirty: what a user's first share is);
#   * p2p-share repeated runs on the same seeder after a `sync` (one warm-up, then RUNS);
#   * aria2c -> aria2c (opentracker) and libtorrent -> libtorrent (python3-libtorrent, TCP only),
#     `cp` and `cp` + `sync -d`, on the same file;
#   * p2p-create vs `mktorrent -t 2` at 1 GiB and 8 GiB;
#   * one seeder and 4 p2p-downloads at once (1 GiB): aggregate rate vs one downloader;
#   * where the CPU goes (perf record -a: hashing, socket receive, writes, seeder's sends...);
#   * 1 MiB process start -> verified file.
# Medians throughout; every output is compared with `cmp` against its source before it counts.
# Writes bench/results/core_bench-latest.md (tables, CPU breakdown, load, exact commands),
# core_bench-latest.tsv (one row per run) and core_bench.png (seconds per GiB against size).
#
#   bash bench/core_bench.sh
#
# Env: BENCH_DIR (scratch, default /tmp/p2p-bench; needs ~2.2x the largest size free),
#      SIZES ("100m 1g 4g 8g"), RUNS (repeated p2p runs per size, 3), FIRST_RUNS (2),
#      PEER_RUNS (aria2c and libtorrent runs up to 1 GiB, 3; above: 1), CREATE_RUNS (3),
#      MULTI_RUNS (3), QUIET_WAIT (seconds to wait for an idle machine before starting, 600),
#      P2P_BENCH_SKIP_BUILD=1 (use build/bin as is), SKIP_PEERS=1, SKIP_PERF=1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
util() { python3 "$HERE/bench_util.py" "$@"; }

BENCH_DIR=${BENCH_DIR:-/tmp/p2p-bench}
SIZES=${SIZES:-100m 1g 4g 8g}
RUNS=${RUNS:-3}
FIRST_RUNS=${FIRST_RUNS:-2}
PEER_RUNS=${PEER_RUNS:-3}
CREATE_RUNS=${CREATE_RUNS:-3}
MULTI_RUNS=${MULTI_RUNS:-3}
QUIET_WAIT=${QUIET_WAIT:-600}
RESULTS_DIR=$HERE/results
LTPY=/usr/bin/python3   # Debian's python3-libtorrent is built for the system python

tools=(aria2c opentracker mktorrent python3 curl cmp timeout gnuplot openssl)
[ "${SKIP_PERF:-0}" = 1 ] || tools+=(perf)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null ||
    die "$tool is not installed; install the bench tools with: P2P_BENCH_DEPS=1 scripts/setup-deps.sh"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (Debian package: time)"
"$LTPY" -c 'import libtorrent' 2>/dev/null || die "python3-libtorrent is not installed (apt-get install python3-libtorrent)"

declare -A BYTES=([1m]=$((1 << 20)) [100m]=$((100 << 20)) [1g]=$((1 << 30)) [4g]=$((4 << 30)) [8g]=$((8 << 30)))
for k in $SIZES; do [ -n "${BYTES[$k]:-}" ] || die "unknown size $k (use 100m 1g 4g 8g)"; done
largest=0
for k in $SIZES; do [ "${BYTES[$k]}" -gt "$largest" ] && largest=${BYTES[$k]}; done
mkdir -p "$BENCH_DIR"
free=$(($(df -P -B1 "$BENCH_DIR" | awk 'NR == 2 {print $4}')))
[ "$free" -gt $((largest * 22 / 10)) ] ||
  die "$BENCH_DIR has $((free >> 30)) GiB free; the $((largest >> 30)) GiB runs need $((largest * 22 / 10 >> 30)) GiB (set BENCH_DIR)"

START_TS=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
build_binaries

# Wait (polling every 30 s, at most QUIET_WAIT s) for the 1-minute load to fall below 1.0:
# other jobs on this 2-core machine would otherwise be measured with us.
for ((waited = 0; waited < QUIET_WAIT; waited += 30)); do
  python3 -c "import sys; sys.exit(0 if float(open('/proc/loadavg').read().split()[0]) < 1.0 else 1)" && break
  log "load $(cut -d' ' -f1-3 /proc/loadavg): waiting for it to fall below 1.0 ($waited/$QUIET_WAIT s)"
  sleep 30
done
LOAD_MEASURE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average when measuring starts: $LOAD_MEASURE"

trap stop_all EXIT
trap 'exit 130' INT TERM
RUN=$BENCH_DIR/run
rm -rf "$RUN"
mkdir -p "$RUN"/{logs,meta,ot,dl} "$BENCH_DIR/data"
chmod 755 "$BENCH_DIR" "$RUN" "$RUN/ot"   # opentracker reads the whitelist as user nobody
ROWS=$RUN/runs.tsv   # tool size mode wall user sys rss_kb seeder_cpu load1 idle_pct
: >"$ROWS"
CMDLOG=$RUN/commands.md
: >"$CMDLOG"
note_cmd() { grep -qxF -- "- \`$*\`" "$CMDLOG" || printf -- '- `%s`\n' "$*" >>"$CMDLOG"; }
# Share of CPU idle over the last half second: whether something else is running right now.
idle_pct() {
  python3 -c '
import time
def s():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(f), f[3] + f[4]
t0, i0 = s(); time.sleep(0.5); t1, i1 = s()
print(round(100 * (i1 - i0) / max(1, t1 - t0)))'
}
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# fresh_file PATH BYTES: random bytes (AES-CTR keystream with a random key: ~1 GB/s, and a
# different file every time, written through the page cache like any new file).
fresh_file() {
  { openssl enc -aes-128-ctr -K "$(openssl rand -hex 16)" -iv 0 -nosalt </dev/zero 2>/dev/null || true; } |
    head -c "$2" >"$1"   # (openssl dies of SIGPIPE when head has enough)
  [ "$(stat -c %s "$1")" = "$2" ] || die "could not write $2 random bytes to $1"
}

# timed TOOL SIZE MODE SEEDPID OUT REF -- CMD...: runs CMD under /usr/bin/time, checks OUT
# against REF with cmp (dies if they differ), records one row.
timed() {
  local tool=$1 k=$2 mode=$3 seedpid=$4 out=$5 ref=$6; shift 7
  local tl=$RUN/logs/time.txt c0=0 c1=0 idle ld
  idle=$(idle_pct); ld=$(load1)
  [ "$seedpid" != - ] && c0=$(proc_cpu "$seedpid" | awk '{print $1 + $2}')
  note_cmd "$*"
  if ! /usr/bin/time -f '%e %U %S %M' -o "$tl" "$@" >"$RUN/logs/last.out" 2>&1; then
    # ALLOW_FAIL=1: an anchor run that failed is logged, not counted, and may be retried.
    [ "${ALLOW_FAIL:-0}" = 1 ] && { log "$tool $k $mode failed (not counted): $(tail -1 "$RUN/logs/last.out")"; return 1; }
    die "$tool $k $mode failed: $(tail -3 "$RUN/logs/last.out")"
  fi
  [ "$seedpid" != - ] && c1=$(proc_cpu "$seedpid" | awk '{print $1 + $2}')
  [ "$out" = - ] || cmp -s "$out" "$ref" || die "$tool $k $mode: $out differs from $ref"
  read -r wall user sys rss <"$tl"
  [ "$mode" = warmup ] && return 0   # not a measurement
  record "$tool" "${BYTES[$k]}" "$mode" "$wall" "$user" "$sys" "$rss" "$(calc "$c1 - $c0")" "$ld" "$idle"
  log "$tool $k $mode: ${wall}s (user ${user}s, sys ${sys}s, peak RSS $((rss / 1024)) MiB)"
}

# p2p_seed_start META SOURCE: sets SEED_PID, SEED_PORT.
p2p_seed_start() {
  local logf=$RUN/logs/p2p-seed.log i
  local cmd=("$BIN/p2p-seed" --meta "$1" --source "$2" --port 0 --host 127.0.0.1 --quiet)
  note_cmd "${cmd[*]}"
  bg_start "$logf" "${cmd[@]}"
  SEED_PID=$BG_PID
  for ((i = 0; i < 1200; i++)); do
    grep -q '^listening ' "$logf" && break
    is_running "$SEED_PID" || die "p2p-seed exited: $(cat "$logf")"
    sleep 0.1
  done
  SEED_PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$logf")
  [ -n "$SEED_PORT" ] || die "p2p-seed did not print 'listening' within 120 s: $(cat "$logf")"
}
# seed_stop TOOL SIZE: records the seeder's peak RSS, stops it.
seed_stop() {
  record "$1-seeder" "${BYTES[$2]}" peak - - - "$(proc_hwm "$SEED_PID")" - "$(load1)" -
  stop_pid "$SEED_PID"
}
p2p_get() {  # p2p_get SIZE MODE NAME SOURCE META
  local out=$RUN/dl/p2p
  rm -rf "$out"
  timed p2p "$1" "$2" "$SEED_PID" "$out/$3" "$4" -- \
    "$BIN/p2p-download" --meta "$5" --peer "127.0.0.1:$SEED_PORT" --workdir "$out" --quiet
  rm -rf "$out"
}

# --- opentracker, for aria2c (it finds peers only through a tracker) --------------------------------
OT_PORT=$(free_port)
ANNOUNCE=http://127.0.0.1:$OT_PORT/announce
: >"$RUN/ot/whitelist"
chmod 644 "$RUN/ot/whitelist"
if [ "$(id -u)" = 0 ]; then OT_WHITELIST=/whitelist; else OT_WHITELIST=$RUN/ot/whitelist; fi
start_tracker() {  # (re)starts opentracker so it reads the current whitelist
  [ -n "${OT_PID:-}" ] && stop_pid "$OT_PID"
  local cmd="opentracker -i 127.0.0.1 -p $OT_PORT -P $OT_PORT -d $RUN/ot -w $OT_WHITELIST"
  note_cmd "(cd $RUN/ot && $cmd)"
  bg_start "$RUN/logs/opentracker.log" sh -c "cd $(q "$RUN/ot") && exec $cmd"
  OT_PID=$BG_PID
  wait_until 10 "opentracker to answer" curl -sf "http://127.0.0.1:$OT_PORT/scrape?info_hash=$1"
}
ARIA_COMMON=(--no-conf --enable-dht=false --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false)

peers_at() {  # peers_at SIZE SOURCE TORRENT: aria2c and libtorrent transfers of SOURCE
  local k=$1 src=$2 tor=$3 runs=$PEER_RUNS r hash dir name
  [ "${BYTES[$k]}" -gt $((1 << 30)) ] && runs=1
  name=$(basename "$src"); dir=$(dirname "$src")
  hash=$(util infohash "$tor")
  echo "$hash" >>"$RUN/ot/whitelist"
  start_tracker "$(echo "$hash" | sed 's/../%&/g')"
  local port; port=$(free_port)
  local seed=(aria2c "${ARIA_COMMON[@]}" --dir="$dir" -V --seed-ratio=0.0 --listen-port="$port"
              --bt-external-ip=127.0.0.1 --summary-interval=0 --show-console-readout=false "$tor")
  note_cmd "${seed[*]}"
  bg_start "$RUN/logs/aria-seed.log" "${seed[@]}"
  SEED_PID=$BG_PID
  local i url="http://127.0.0.1:$OT_PORT/scrape?info_hash=$(echo "$hash" | sed 's/../%&/g')"
  for ((i = 0; i < 3000; i++)); do
    curl -sf "$url" | grep -aq '8:completei[1-9]' && break
    is_running "$SEED_PID" || die "aria2c seeder exited: $(tail -5 "$RUN/logs/aria-seed.log")"
    sleep 0.1
  done
  for ((r = 0; r < runs; r++)); do
    rm -rf "$RUN/dl/aria"
    timed aria2c "$k" repeated "$SEED_PID" "$RUN/dl/aria/$name" "$src" -- \
      aria2c "${ARIA_COMMON[@]}" --dir="$RUN/dl/aria" --seed-time=0 --listen-port="$(free_port)" \
      --file-allocation=none --bt-tracker-connect-timeout=10 --bt-tracker-timeout=10 --summary-interval=0 -q "$tor"
  done
  rm -rf "$RUN/dl/aria"
  seed_stop aria2c "$k"

  bg_start "$RUN/logs/lt-seed.log" "$LTPY" "$HERE/lt_transfer.py" seed "$tor" "$dir"
  note_cmd "$LTPY $HERE/lt_transfer.py seed $tor $dir"
  SEED_PID=$BG_PID
  for ((i = 0; i < 6000; i++)); do
    grep -q '^listening ' "$RUN/logs/lt-seed.log" && break
    is_running "$SEED_PID" || die "libtorrent seeder exited: $(tail -5 "$RUN/logs/lt-seed.log")"
    sleep 0.1
  done
  port=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$RUN/logs/lt-seed.log")
  for ((r = 0; r < runs; r++)); do
    # A libtorrent download that never connects (seen once in ~50 runs) stops after 60 s
    # without progress; it is not counted and is run again (at most twice).
    for ((try = 0; try < 3; try++)); do
      rm -rf "$RUN/dl/lt"
      ALLOW_FAIL=1 timed libtorrent "$k" repeated "$SEED_PID" "$RUN/dl/lt/$name" "$src" -- \
        "$LTPY" "$HERE/lt_transfer.py" get "$tor" "$RUN/dl/lt" "127.0.0.1:$port" && break
    done
  done
  rm -rf "$RUN/dl/lt"
  seed_stop libtorrent "$k"

  for ((r = 0; r < runs; r++)); do
    rm -rf "$RUN/dl/cp" && mkdir -p "$RUN/dl/cp"
    timed cp "$k" repeated - "$RUN/dl/cp/$name" "$src" -- cp "$src" "$RUN/dl/cp/$name"
    rm -rf "$RUN/dl/cp" && mkdir -p "$RUN/dl/cp"
    timed cpsync "$k" repeated - "$RUN/dl/cp/$name" "$src" -- sh -c "cp $(q "$src" "$RUN/dl/cp/$name") && sync -d $(q "$RUN/dl/cp/$name")"
  done
  rm -rf "$RUN/dl/cp"
}

# multi SIZE NAME SOURCE META: one seeder (running), 4 downloaders started at once, no caps.
multi() {
  local k=$1 name=$2 src=$3 meta=$4 r j pids t0 t1 idle ld
  for ((r = 0; r < MULTI_RUNS; r++)); do
    rm -rf "$RUN/dl/multi"
    idle=$(idle_pct); ld=$(load1)
    pids=()
    t0=$(date +%s.%N)
    for j in 1 2 3 4; do
      "$BIN/p2p-download" --meta "$meta" --peer "127.0.0.1:$SEED_PORT" --workdir "$RUN/dl/multi/$j" --quiet \
        >"$RUN/logs/multi-$j.log" 2>&1 &
      pids+=($!)
    done
    for j in "${pids[@]}"; do wait "$j" || die "one of the 4 simultaneous downloads failed: $(cat "$RUN"/logs/multi-*.log)"; done
    t1=$(date +%s.%N)
    for j in 1 2 3 4; do cmp -s "$RUN/dl/multi/$j/$name" "$src" || die "simultaneous download $j differs"; done
    record multi4 "${BYTES[$k]}" repeated "$(calc "$t1 - $t0")" - - - - "$ld" "$idle"
    log "4 downloaders at once, $k: $(calc "$t1 - $t0") s"
  done
  note_cmd "4 x (p2p-download --meta $meta --peer 127.0.0.1:PORT --workdir $RUN/dl/multi/N --quiet &)"
  rm -rf "$RUN/dl/multi"
}

# cpu_breakdown SIZE NAME SOURCE META: one more download (not timed) under perf record -a.
cpu_breakdown() {
  local k=$1 out=$RUN/dl/perf
  rm -rf "$out"
  local cmd=(perf record -F 999 -g -a -o "$RUN/perf-$k.data" -- "$BIN/p2p-download" --meta "$4" --peer
             "127.0.0.1:$SEED_PORT" --workdir "$out" --quiet)
  note_cmd "${cmd[*]}"
  "${cmd[@]}" >"$RUN/logs/perf.log" 2>&1 || die "perf record failed: $(tail -3 "$RUN/logs/perf.log")"
  cmp -s "$out/$2" "$3" || die "download under perf differs"
  perf script -F comm,pid,tid,cpu,time,period,event,ip,sym,dso -i "$RUN/perf-$k.data" 2>/dev/null |
    python3 "$HERE/cpu_breakdown.py" --seeder "$SEED_PID" --bytes "${BYTES[$k]}" >"$RUN/cpu-$k.tsv"
  rm -rf "$out" "$RUN/perf-$k.data"
}

create_vs_mktorrent() {  # SIZE SOURCE
  local k=$1 src=$2 r
  for ((r = 0; r < CREATE_RUNS; r++)); do
    timed p2p-create "$k" repeated - - - -- "$BIN/p2p-create" -q "$src" -o "$RUN/meta/create.p2pmeta"
    rm -f "$RUN/meta/create.torrent"
    timed mktorrent "$k" repeated - - - -- mktorrent -t 2 -p -a "$ANNOUNCE" -o "$RUN/meta/create.torrent" "$src"
  done
  rm -f "$RUN/meta/create.p2pmeta" "$RUN/meta/create.torrent"
}

# --- the sizes ------------------------------------------------------------------------------------------
for k in $SIZES; do
  name=bench-$k.bin
  src=$BENCH_DIR/data/$name
  meta=$RUN/meta/$name.p2pmeta
  log "=== $k: $FIRST_RUNS first runs (fresh file, created, seeded, downloaded at once)"
  for ((r = 0; r < FIRST_RUNS; r++)); do
    rm -f "$src"
    fresh_file "$src" "${BYTES[$k]}"
    timed p2p-create "$k" first - - - -- "$BIN/p2p-create" -q "$src" -o "$meta"
    p2p_seed_start "$meta" "$src"
    p2p_get "$k" first "$name" "$src" "$meta"
    if ((r + 1 < FIRST_RUNS)); then seed_stop p2p "$k"; fi
  done
  log "=== $k: repeated runs (same seeder, after sync and one warm-up)"
  sync
  p2p_get "$k" warmup "$name" "$src" "$meta"
  for ((r = 0; r < RUNS; r++)); do p2p_get "$k" repeated "$name" "$src" "$meta"; done
  [ "${SKIP_PERF:-0}" = 1 ] || cpu_breakdown "$k" "$name" "$src" "$meta"
  if [ "$k" = 1g ]; then multi "$k" "$name" "$src" "$meta"; fi
  seed_stop p2p "$k"
  if [ "${SKIP_PEERS:-0}" != 1 ]; then
    log "=== $k: mktorrent, aria2c, libtorrent, cp"
    tor=$RUN/meta/$name.torrent
    rm -f "$tor"
    mktorrent -t 2 -p -a "$ANNOUNCE" -o "$tor" "$src" >/dev/null
    case $k in 1g | 8g) create_vs_mktorrent "$k" "$src" ;; esac
    peers_at "$k" "$src" "$tor"
  fi
  rm -f "$src"
done

# --- 1 MiB: process start to verified file ----------------------------------------------------------------
k=1m; name=bench-1m.bin; src=$BENCH_DIR/data/$name; meta=$RUN/meta/$name.p2pmeta
fresh_file "$src" "${BYTES[$k]}"
"$BIN/p2p-create" -q "$src" -o "$meta"
p2p_seed_start "$meta" "$src"
p2p_get "$k" warmup "$name" "$src" "$meta"
for ((r = 0; r < 10; r++)); do p2p_get "$k" repeated "$name" "$src" "$meta"; done
seed_stop p2p "$k"
rm -f "$src"
[ -n "${OT_PID:-}" ] && stop_pid "$OT_PID"

# --- report ---------------------------------------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - START_TS))
mkdir -p "$RESULTS_DIR"
cp "$ROWS" "$RESULTS_DIR/core_bench-latest.tsv"
cat "$RUN"/cpu-*.tsv >"$RESULTS_DIR/core_bench-cpu.tsv" 2>/dev/null || : >"$RESULTS_DIR/core_bench-cpu.tsv"
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(git -C "$ROOT" status --porcelain -- lib apps CMakeLists.txt 2>/dev/null | wc -l)
python3 "$HERE/core_report.py" \
  --runs "$RESULTS_DIR/core_bench-latest.tsv" --cpu "$RESULTS_DIR/core_bench-cpu.tsv" \
  --commands "$CMDLOG" --md "$RESULTS_DIR/core_bench-latest.md" --plot "$RESULTS_DIR/core_bench.png" \
  --host "$(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(findmnt -no FSTYPE -T "$BENCH_DIR") at $BENCH_DIR" \
  --versions "p2p-share $GIT_REV$([ "$GIT_DIRTY" != 0 ] && echo " (+$GIT_DIRTY uncommitted changes in lib/ apps/)") RelWithDebInfo; $(aria2c --version | head -1); libtorrent $("$LTPY" -c 'import libtorrent; print(libtorrent.__version__)'); $(mktorrent -h 2>&1 | head -1 | sed 's/ (c).*//'); $(cp --version | head -1); $(perf --version 2>/dev/null || echo 'no perf')" \
  --load "$LOAD_START at start, $LOAD_MEASURE when measuring started, $LOAD_END at end; ${ELAPSED}s in all" \
  --settings "RUNS=$RUNS FIRST_RUNS=$FIRST_RUNS PEER_RUNS=$PEER_RUNS (1 above 1 GiB) CREATE_RUNS=$CREATE_RUNS MULTI_RUNS=$MULTI_RUNS SIZES='$SIZES'"
log "wrote $RESULTS_DIR/core_bench-latest.md and core_bench.png"
