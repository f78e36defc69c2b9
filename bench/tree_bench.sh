#!/usr/bin/env bash
# Directory benchmark for issue 11 (not a timed test). On a generated tree (bench/gen_tree.py:
# default 20,000 files, 100 B..10 MiB log-uniform spreads mixed to ~1 GiB, nested folders, empty
# files and folders, executable files; generated once into CACHE_DIR and reused):
#   1. p2p-create TREE vs `mktorrent -t 2` (one first run, then median of CREATE_RUNS);
#   2. loopback transfer into an empty folder, default flags, one verified warm-up each, then
#      median of RUNS, interleaved p2p / rsync / aria2c / libtorrent so load drifts hit all:
#      p2p-seed -> p2p-download, rsync daemon -> `rsync -a rsync://...`, aria2c -> aria2c with
#      the mktorrent torrent (through opentracker, as bench/core_bench.sh does), and libtorrent
#      -> libtorrent (bench/lt_transfer.py, TCP, no tracker) on the same torrent if
#      python3-libtorrent is installed;
#   3. `p2p-download --only PATH`: one 1 MiB file of the tree alone, process start to exit 0,
#      median of ONLY_RUNS (hyperfine, else a python loop); the file is then cmp-checked;
#   4. meta size and parse time (p2p-download with no peer parses and validates the meta, then
#      exits "no peers to download from"; a one-file meta's time is subtracted) for the tree's
#      meta and for a META_ENTRIES-entry meta made by gen_tree.py.
# Page cache: the tree is read once before measuring and every figure is taken with it warm
# (1 GiB, far below RAM), the same for every tool; each transfer starts after `sync` (outside
# the timing). COLD=1 (root only) adds one create run of each tool after dropping the caches.
# Steps that need tree support in p2p-share fail with a message and the anchors still run; the
# exit status is then 3. Prints a summary table; writes it with the raw runs, tool versions and
# the exact command to RESULTS_FILE.
#
#   bash bench/tree_bench.sh
#   SHAPE=small bash bench/tree_bench.sh   (issue 21, item 6: 20,000 files of 100 B..500 KiB)
#   nice -n 19 env FILES=500 TOTAL=50m RUNS=1 CREATE_RUNS=1 ONLY_RUNS=3 META_ENTRIES=20000 \
#     QUIET_WAIT=0 RESULTS_DIR=/tmp/tree-smoke bash bench/tree_bench.sh      (smoke run)
#
# Env: SHAPE (mixed: the sizes above; small: every size log-uniform over 100 B..500 KiB, TOTAL
#      ignored (20,000 files come to ~1.2 GB), a folder per 15 files (~1,300): the shape that
#      costs per file and per piece, issue 21 item 6), FILES (20000), TOTAL (1g; bytes or k/m/g),
#      SEED (1), CACHE_DIR (/tmp/p2p-tree-cache:
#      trees and the big meta, kept), BENCH_DIR (scratch, /tmp/p2p-tree-bench; needs ~2x TOTAL
#      free), RUNS (3), CREATE_RUNS (3), ONLY_RUNS (10), PARSE_RUNS (5), META_ENTRIES (1000000),
#      PARSE_TIMEOUT (seconds one parse may take before it is killed and reported, 120),
#      QUIET_WAIT (seconds to wait for the 1-minute load to fall below 1.0, 600), RESULTS_DIR
#      (bench/results), RESULTS_FILE (RESULTS_DIR/tree-<UTC date>.txt), COLD=1,
#      P2P_BENCH_SKIP_BUILD=1 (use build/bin as is), SKIP_RSYNC=1, SKIP_ARIA=1, SKIP_LT=1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
gen() { python3 "$HERE/gen_tree.py" "$@"; }

# The command as given (the settings that were set, then the script), for the results file.
COMMAND=""
for v in SHAPE FILES TOTAL SEED CACHE_DIR BENCH_DIR RUNS CREATE_RUNS ONLY_RUNS PARSE_RUNS PARSE_TIMEOUT META_ENTRIES QUIET_WAIT \
         RESULTS_DIR RESULTS_FILE COLD P2P_BENCH_SKIP_BUILD SKIP_RSYNC SKIP_ARIA SKIP_LT; do
  [ -n "${!v+x}" ] && COMMAND+="$v=$(printf %q "${!v}") "
done
COMMAND+="bash bench/tree_bench.sh"
[ "$(nice)" != 0 ] && COMMAND="nice -n $(nice) env $COMMAND"

SHAPE=${SHAPE:-mixed}
case $SHAPE in mixed | small) ;; *) die "SHAPE is mixed or small, not '$SHAPE'" ;; esac
FILES=${FILES:-20000}
TOTAL=${TOTAL:-1g}
SEED=${SEED:-1}
CACHE_DIR=${CACHE_DIR:-/tmp/p2p-tree-cache}
BENCH_DIR=${BENCH_DIR:-/tmp/p2p-tree-bench}
RUNS=${RUNS:-3}
CREATE_RUNS=${CREATE_RUNS:-3}
ONLY_RUNS=${ONLY_RUNS:-10}
PARSE_RUNS=${PARSE_RUNS:-5}
META_ENTRIES=${META_ENTRIES:-1000000}
PARSE_TIMEOUT=${PARSE_TIMEOUT:-120}
QUIET_WAIT=${QUIET_WAIT:-600}
RESULTS_DIR=${RESULTS_DIR:-$HERE/results}
RESULTS_FILE=${RESULTS_FILE:-$RESULTS_DIR/tree-$([ "$SHAPE" = small ] && echo small-)$(date -u +%Y-%m-%d).txt}
COLD=${COLD:-0}
RSYNC=1; [ "${SKIP_RSYNC:-0}" = 1 ] && RSYNC=0
ARIA=1; [ "${SKIP_ARIA:-0}" = 1 ] && ARIA=0
LTPY=/usr/bin/python3   # Debian's python3-libtorrent is built for the system python
LT=1; [ "${SKIP_LT:-0}" = 1 ] && LT=0
if [ $LT = 1 ] && ! "$LTPY" -c 'import libtorrent' 2>/dev/null; then
  log "python3-libtorrent is not installed: no libtorrent anchor"; LT=0
fi

for tool in python3 openssl diff cmp curl mktorrent setsid; do
  command -v "$tool" >/dev/null ||
    die "$tool is not installed; install the bench tools with: P2P_BENCH_DEPS=1 scripts/setup-deps.sh"
done
[ $RSYNC = 1 ] && { command -v rsync >/dev/null || die "rsync is not installed (apt-get install rsync), or set SKIP_RSYNC=1"; }
if [ $ARIA = 1 ]; then
  for tool in aria2c opentracker; do
    command -v "$tool" >/dev/null || die "$tool is not installed (P2P_BENCH_DEPS=1 scripts/setup-deps.sh), or set SKIP_ARIA=1"
  done
fi
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (Debian package: time)"
HF=0; command -v hyperfine >/dev/null && HF=1

TOTAL_BYTES=$(python3 -c "import sys; sys.path.insert(0, '$HERE'); import gen_tree; print(gen_tree.parse_bytes('$TOTAL'))")
# The small shape's size follows from FILES (~60 kB a file), not TOTAL: room for that.
[ "$SHAPE" = small ] && TOTAL_BYTES=$((FILES * 62000))
mkdir -p "$BENCH_DIR" "$CACHE_DIR"
free=$(($(df -P -B1 "$BENCH_DIR" | awk 'NR == 2 {print $4}')))
[ "$free" -gt $((TOTAL_BYTES * 2 + (64 << 20))) ] ||
  die "$BENCH_DIR has $((free >> 20)) MiB free; a transfer of the tree needs $((TOTAL_BYTES * 2 >> 20)) MiB (set BENCH_DIR)"

START_TS=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
build_binaries

trap stop_all EXIT
trap 'exit 130' INT TERM
RUN=$BENCH_DIR/run
rm -rf "$RUN"
mkdir -p "$RUN"/{logs,meta,dl,ot,rsyncd,parse}
ROWS=$RUN/runs.tsv     # step tool mode wall user sys rss_kb load1 idle_pct server_cpu
FAILS=$RUN/fails.tsv   # step message
INFO=$RUN/info.tsv     # key value
CMDLOG=$RUN/commands.txt
: >"$ROWS"; : >"$FAILS"; : >"$INFO"; : >"$CMDLOG"
note_cmd() { grep -qxF -- "  $*" "$CMDLOG" || printf '  %s\n' "$*" >>"$CMDLOG"; }
info() { printf '%s\t%s\n' "$1" "$2" >>"$INFO"; }
fail() { printf '%s\t%s\n' "$1" "$2" >>"$FAILS"; log "FAILED ($1): $2"; }
load1() { cut -d' ' -f1 /proc/loadavg; }
idle_pct() {  # share of CPU idle over the last half second
  python3 -c '
import time
def s():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(f), f[3] + f[4]
t0, i0 = s(); time.sleep(0.5); t1, i1 = s()
print(round(100 * (i1 - i0) / max(1, t1 - t0)))'
}
# last_err: the last line of the last timed command's output (its error, usually).
last_err() { grep -v '^\s*$' "$RUN/logs/last.out" 2>/dev/null | tail -1; }

# cpu_of PID: CPU seconds (user + system) PID and its reaped children have used so far.
cpu_of() {
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || { echo -; return; }
  sed -E 's/^.*\) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($12 + $13 + $14 + $15) / hz}'
}
# timed STEP TOOL MODE -- CMD...: runs CMD under /usr/bin/time; records a row unless MODE is
# warmup; returns CMD's status (a failure is not recorded: the caller says what it means).
# SERVER_PID (if set): the serving end, whose CPU seconds over the run are recorded too.
timed() {
  local step=$1 tool=$2 mode=$3 tl=$RUN/logs/time.txt idle ld c0 c1 server=-; shift 4
  idle=$(idle_pct); ld=$(load1)
  note_cmd "$*"
  c0=$(cpu_of "${SERVER_PID:-}")
  /usr/bin/time -f '%e %U %S %M' -o "$tl" "$@" >"$RUN/logs/last.out" 2>&1 || return $?
  sleep 0.3  # the rsync daemon's child for this transfer exits and is reaped (its CPU joins the daemon's)
  c1=$(cpu_of "${SERVER_PID:-}")
  [ "$c0" != - ] && [ "$c1" != - ] && server=$(python3 -c "print(f'{$c1 - $c0:.2f}')")
  read -r wall user sys rss < <(tail -1 "$tl")
  log "$step $tool $mode: ${wall}s (user ${user}s, sys ${sys}s, peak RSS $((rss / 1024)) MiB; serving end ${server} CPU-s)"
  [ "$mode" = warmup ] || printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$step" "$tool" "$mode" "$wall" "$user" "$sys" "$rss" "$ld" "$idle" "$server" >>"$ROWS"
}

# Wait (polling every 30 s, at most QUIET_WAIT s) for the 1-minute load to fall below 1.0.
for ((waited = 0; waited < QUIET_WAIT; waited += 30)); do
  python3 -c "import sys; sys.exit(0 if float(open('/proc/loadavg').read().split()[0]) < 1.0 else 1)" && break
  log "load $(cut -d' ' -f1-3 /proc/loadavg): waiting for it to fall below 1.0 ($waited/$QUIET_WAIT s)"
  sleep 30
done
LOAD_MEASURE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average when measuring starts: $LOAD_MEASURE"

# --- the tree -------------------------------------------------------------------------------------
if [ "$SHAPE" = small ]; then
  TREE_KEY=small-$FILES-s$SEED
  log "tree: $FILES small files (100 B..500 KiB, log-uniform), seed $SEED ($CACHE_DIR/$TREE_KEY)"
else
  TREE_KEY=tree-$FILES-$TOTAL_BYTES-s$SEED
  log "tree: $FILES files, $TOTAL_BYTES bytes, seed $SEED ($CACHE_DIR/$TREE_KEY)"
fi
note_cmd "python3 bench/gen_tree.py tree $CACHE_DIR/$TREE_KEY --files $FILES --total $TOTAL_BYTES --seed $SEED --shape $SHAPE"
PARAMS=$(gen tree "$CACHE_DIR/$TREE_KEY" --files "$FILES" --total "$TOTAL_BYTES" --seed "$SEED" --shape "$SHAPE")
param() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$PARAMS" "$1"; }
TREE=$(param root); NAME=$(param name); ONLY=$(param only)
TREE_FILES=$(param file_count); TREE_BYTES=$(param bytes)
info tree "$TREE: $TREE_FILES files, $TREE_BYTES bytes, $(param dirs) folders ($(param empty_dirs) empty), $(param empty_files) empty files, $(param exec_files) executable, up to $(param max_depth) path components, sizes $(param size_min_nonzero) B..$(param size_max) B (share of the wide spread q = $(param wide_share_q)), seed $SEED"
info only_file "$ONLY ($(param only_size) bytes)"
sync
log "reading the tree once (every figure below is taken with it in the page cache)"
find "$TREE" -type f -print0 | xargs -0 cat >/dev/null

# Cheap check of a timed copy: same number of files and bytes as the tree.
same_size() {  # same_size TOOL DIR
  local got; got=$(gen stat "$2")
  [ "$got" = "$TREE_FILES $TREE_BYTES" ] && return 0
  fail transfer "$1: $2 has '$got' (files bytes), the tree '$TREE_FILES $TREE_BYTES'"; return 1
}
# Full check (once per tool, outside the timing).
verify_tree() {  # verify_tree TOOL DIR [--torrent]
  local tool=$1 dir=$2 out; shift 2
  if [ "$tool" != aria2c ] && [ "$tool" != libtorrent ] && ! diff -r "$TREE" "$dir" >"$RUN/logs/diff-$tool.txt" 2>&1; then
    fail transfer "$tool: diff -r $TREE $dir: $(head -2 "$RUN/logs/diff-$tool.txt" | tr '\n' ' ')"; return 1
  fi
  if out=$(gen verify "$TREE" "$dir" "$@"); then
    info "verified_$tool" "$([ "$#" = 0 ] && echo 'diff -r: identical; ')$out"; return 0
  fi
  fail transfer "$tool: $out"; return 1
}

OT_PORT=$(free_port)
ANNOUNCE=http://127.0.0.1:$OT_PORT/announce
META=$RUN/meta/$NAME.p2pmeta
TOR=$RUN/meta/$NAME.torrent

# --- 1. p2p-create vs mktorrent -t 2 ----------------------------------------------------------------
P2P=1
p2p_create() {  # p2p_create MODE: one timed p2p-create of the tree; on failure P2P=0
  [ $P2P = 1 ] || return 0
  rm -f "$META"
  if ! timed create p2p-create "$1" -- "$BIN/p2p-create" -q "$TREE" -o "$META"; then
    P2P=0
    fail create "p2p-create does not support directories yet: 'p2p-create $TREE' said: $(last_err)"
    return 0
  fi
  local v; v=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("version"))' "$META" 2>&1) || v="unreadable"
  if [ "$v" != 3 ]; then
    P2P=0
    fail create "p2p-create does not support directories yet: it wrote a meta of format $v, not a tree meta (3)"
    sed -i '$d' "$ROWS"
  fi
}
mktor() {  # mktor MODE
  rm -f "$TOR"
  timed create mktorrent "$1" -- mktorrent -t 2 -p -a "$ANNOUNCE" -o "$TOR" "$TREE" ||
    die "mktorrent failed: $(last_err)"
}
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
if [ "$COLD" = 1 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "create: cold runs (page cache dropped before each)"
    drop_caches; p2p_create cold
    drop_caches; mktor cold
    find "$TREE" -type f -print0 | xargs -0 cat >/dev/null
  else
    log "COLD=1 needs root (to write /proc/sys/vm/drop_caches): no cold runs"
  fi
fi
log "create: one first run each, then $CREATE_RUNS repeated (order alternating)"
p2p_create first
mktor first
for ((r = 0; r < CREATE_RUNS; r++)); do
  if ((r % 2)); then mktor repeated; p2p_create repeated; else p2p_create repeated; mktor repeated; fi
done
info meta_size_tree "$([ $P2P = 1 ] && stat -c %s "$META" || echo -) bytes (p2p-create, $TREE_FILES files)"
info torrent_size_tree "$(stat -c %s "$TOR") bytes (mktorrent)"
info entries "$TREE_FILES $META_ENTRIES"
[ $P2P = 1 ] && info p2p_meta "$(python3 "$HERE/tree_report.py" metainfo "$META" 2>&1)"
info torrent "$(python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
i = b.index(b"12:piece lengthi") + 16
print("piece length", int(b[i:b.index(b"e", i)]), "(mktorrent default)")' "$TOR")"

# --- 2. transfers -------------------------------------------------------------------------------------
# p2p: the seeder serves the tree in place.
SEED_PID=""
if [ $P2P = 1 ]; then
  logf=$RUN/logs/p2p-seed.log
  cmd=("$BIN/p2p-seed" --meta "$META" --source "$TREE" --port 0 --host 127.0.0.1 --workdir "$RUN/seed-workdir" --quiet)
  note_cmd "${cmd[*]}"
  bg_start "$logf" "${cmd[@]}"
  SEED_PID=$BG_PID
  for ((i = 0; i < 1200; i++)); do
    grep -q '^listening ' "$logf" && break
    is_running "$SEED_PID" || break
    sleep 0.1
  done
  SEED_PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$logf")
  if [ -z "$SEED_PORT" ]; then
    P2P=0
    fail transfer "p2p-seed does not serve the tree: $(grep -v '^\s*$' "$logf" | tail -1)"
    stop_pid "$SEED_PID"; SEED_PID=""
  fi
else
  fail transfer "p2p: no tree meta (p2p-create does not support directories yet)"
fi
p2p_get() {  # p2p_get MODE
  local out=$RUN/dl/p2p
  rm -rf "$out"; sync
  if ! SERVER_PID=${SEED_PID:-} timed transfer p2p "$1" -- "$BIN/p2p-download" --meta "$META" --peer "127.0.0.1:$SEED_PORT" --workdir "$out" --quiet; then
    P2P=0; fail transfer "p2p-download of the tree failed: $(last_err)"; return 0
  fi
  if [ "$1" = warmup ]; then verify_tree p2p "$out/$NAME" || P2P=0
  else same_size p2p "$out/$NAME" || { P2P=0; sed -i '$d' "$ROWS"; }; fi
  [ -e "$out/$NAME.partial" ] && { fail transfer "p2p: $out/$NAME.partial left behind by a finished download"; P2P=0; }
  rm -rf "$out"
}

# rsync daemon on loopback, the tree as a read-only module.
if [ $RSYNC = 1 ]; then
  RS_PORT=$(free_port)
  {
    echo "use chroot = no"
    echo "numeric ids = yes"
    [ "$(id -u)" = 0 ] && { echo "uid = root"; echo "gid = root"; }
    echo "log file = $RUN/logs/rsyncd.log"
    echo "[tree]"
    echo "  path = $TREE"
    echo "  read only = yes"
  } >"$RUN/rsyncd/rsyncd.conf"
  cmd=(rsync --daemon --no-detach --address=127.0.0.1 --port="$RS_PORT" --config="$RUN/rsyncd/rsyncd.conf")
  note_cmd "${cmd[*]}   (rsyncd.conf: use chroot = no, numeric ids = yes, [tree] path = TREE, read only = yes)"
  bg_start "$RUN/logs/rsyncd.out" "${cmd[@]}"
  RS_PID=$BG_PID
  wait_until 10 "the rsync daemon" rsync "rsync://127.0.0.1:$RS_PORT/"
fi
rsync_get() {  # rsync_get MODE
  local out=$RUN/dl/rsync
  rm -rf "$out"; mkdir -p "$out"; sync
  if ! SERVER_PID=${RS_PID:-} timed transfer rsync "$1" -- rsync -a "rsync://127.0.0.1:$RS_PORT/tree/" "$out/"; then
    fail transfer "rsync failed: $(last_err)"; RSYNC=0; return 0
  fi
  if [ "$1" = warmup ]; then verify_tree rsync "$out" || RSYNC=0
  else same_size rsync "$out" || { RSYNC=0; sed -i '$d' "$ROWS"; }; fi
  rm -rf "$out"
}

# aria2c seeder and leecher through opentracker (aria2c finds peers only through a tracker; the
# setup of bench/core_bench.sh).
ARIA_COMMON=(--no-conf --enable-dht=false --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false)
if [ $ARIA = 1 ]; then
  hash=$(python3 "$HERE/bench_util.py" infohash "$TOR")
  esc=$(echo "$hash" | sed 's/../%&/g')
  echo "$hash" >"$RUN/ot/whitelist"
  chmod 755 "$BENCH_DIR" "$RUN" "$RUN/ot"; chmod 644 "$RUN/ot/whitelist"   # opentracker reads it as nobody
  if [ "$(id -u)" = 0 ]; then wl=/whitelist; else wl=$RUN/ot/whitelist; fi
  otcmd="opentracker -i 127.0.0.1 -p $OT_PORT -P $OT_PORT -d $RUN/ot -w $wl"
  note_cmd "(cd $RUN/ot && $otcmd)"
  bg_start "$RUN/logs/opentracker.log" sh -c "cd $(q "$RUN/ot") && exec $otcmd"
  wait_until 10 "opentracker" curl -sf "http://127.0.0.1:$OT_PORT/scrape?info_hash=$esc"
  cmd=(aria2c "${ARIA_COMMON[@]}" --dir="$(dirname "$TREE")" -V --seed-ratio=0.0 --listen-port="$(free_port)"
       --bt-external-ip=127.0.0.1 --summary-interval=0 --show-console-readout=false "$TOR")
  note_cmd "${cmd[*]}"
  bg_start "$RUN/logs/aria-seed.log" "${cmd[@]}"
  ASEED=$BG_PID
  for ((i = 0; i < 6000; i++)); do
    curl -sf "http://127.0.0.1:$OT_PORT/scrape?info_hash=$esc" | grep -aq '8:completei[1-9]' && break
    is_running "$ASEED" || die "aria2c seeder exited: $(tail -5 "$RUN/logs/aria-seed.log")"
    sleep 0.1
  done
fi
ALEECH_PORT=$(free_port)
aria_get() {  # aria_get MODE
  local out=$RUN/dl/aria
  rm -rf "$out"; sync
  if ! SERVER_PID=${ASEED:-} timed transfer aria2c "$1" -- aria2c "${ARIA_COMMON[@]}" --dir="$out" --seed-time=0 --listen-port="$ALEECH_PORT" \
      --file-allocation=none --bt-tracker-connect-timeout=10 --bt-tracker-timeout=10 --summary-interval=0 -q "$TOR"; then
    fail transfer "aria2c failed: $(last_err)"; ARIA=0; return 0
  fi
  if [ "$1" = warmup ]; then verify_tree aria2c "$out/$NAME" --torrent || ARIA=0
  else
    # BitTorrent v1 carries no empty folders: count files and bytes only.
    same_size aria2c "$out/$NAME" || { ARIA=0; sed -i '$d' "$ROWS"; }
  fi
  rm -rf "$out"
}

# libtorrent seeder (bench/lt_transfer.py: no tracker, the downloader is given its address).
if [ $LT = 1 ]; then
  note_cmd "$LTPY bench/lt_transfer.py seed $TOR $(dirname "$TREE")"
  bg_start "$RUN/logs/lt-seed.log" "$LTPY" "$HERE/lt_transfer.py" seed "$TOR" "$(dirname "$TREE")"
  LSEED=$BG_PID
  for ((i = 0; i < 6000; i++)); do
    grep -q '^listening ' "$RUN/logs/lt-seed.log" && break
    is_running "$LSEED" || break
    sleep 0.1
  done
  LT_PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$RUN/logs/lt-seed.log")
  if [ -z "$LT_PORT" ]; then
    fail transfer "libtorrent seeder did not start: $(tail -1 "$RUN/logs/lt-seed.log")"; LT=0; stop_pid "$LSEED"
  fi
fi
lt_get() {  # lt_get MODE
  local out=$RUN/dl/lt
  rm -rf "$out"; sync
  if ! SERVER_PID=${LSEED:-} timed transfer libtorrent "$1" -- "$LTPY" "$HERE/lt_transfer.py" get "$TOR" "$out" "127.0.0.1:$LT_PORT"; then
    fail transfer "libtorrent failed: $(last_err)"; LT=0; return 0
  fi
  if [ "$1" = warmup ]; then verify_tree libtorrent "$out/$NAME" --torrent || LT=0
  else same_size libtorrent "$out/$NAME" || { LT=0; sed -i '$d' "$ROWS"; }; fi
  rm -rf "$out"
}

log "transfers: one verified warm-up each, then $RUNS rounds of p2p, rsync, aria2c, libtorrent"
[ $P2P = 1 ] && p2p_get warmup
[ $RSYNC = 1 ] && rsync_get warmup
[ $ARIA = 1 ] && aria_get warmup
[ $LT = 1 ] && lt_get warmup
for ((r = 0; r < RUNS; r++)); do
  [ $P2P = 1 ] && p2p_get repeated
  [ $RSYNC = 1 ] && rsync_get repeated
  [ $ARIA = 1 ] && aria_get repeated
  [ $LT = 1 ] && lt_get repeated
done
[ -n "${ASEED:-}" ] && stop_pid "$ASEED"
[ -n "${LSEED:-}" ] && stop_pid "$LSEED"
[ -n "${RS_PID:-}" ] && stop_pid "$RS_PID"

# --- 3. one 1 MiB file alone with --only ----------------------------------------------------------------
ONLY_DIR=$RUN/dl/only
only_cmd=("$BIN/p2p-download" --meta "$META" --peer "127.0.0.1:${SEED_PORT:-0}" --workdir "$ONLY_DIR" --only "$ONLY" --quiet)
# hf_median JSON: median seconds of hyperfine's (or timeit's) first command.
hf_median() { python3 "$HERE/tree_report.py" hfmedian "$1"; }
# bench_cmd STEP RUNS JSON PREPARE ALLOW_FAIL TIMEOUT CMD...: hyperfine (or the python loop) into
# JSON; the whole series is killed (with everything it started) after TIMEOUT seconds.
bench_cmd() {
  local step=$1 runs=$2 json=$3 prep=$4 allow=$5 limit=$6; shift 6
  note_cmd "$*"
  if [ $HF = 1 ]; then
    local hfargs=(-N --runs "$runs" --warmup 1 --export-json "$json" --style none)
    [ -n "$prep" ] && hfargs+=(--prepare "$prep")
    [ "$allow" = 1 ] && hfargs+=(-i)
    run_bounded "$limit" hyperfine "${hfargs[@]}" "$(q "$@")" >"$RUN/logs/hf-$step.log" 2>&1
  else
    run_bounded "$limit" python3 "$HERE/tree_report.py" timeit --runs "$runs" --prepare "$prep" --allow-fail "$allow" \
      --json "$json" -- "$@" >"$RUN/logs/hf-$step.log" 2>&1
  fi
}
# only_found: where the --only run left the file (relative to ONLY_DIR), if it is the tree's:
# WORKDIR/<name>.partial/PATH while the tree is unfinished (the brief), or WORKDIR/<name>/PATH.
only_found() {
  local c
  for c in "$NAME.partial/$ONLY" "$NAME/$ONLY"; do
    cmp -s "$ONLY_DIR/$c" "$TREE/$ONLY" && { echo "$c"; return 0; }
  done
  return 1
}
if [ $P2P = 1 ]; then
  rm -rf "$ONLY_DIR"
  if ! run_bounded 120 "${only_cmd[@]}" >"$RUN/logs/only-check.log" 2>&1; then
    fail only "p2p-download --only does not fetch one file of the tree: $(grep -v '^\s*$' "$RUN/logs/only-check.log" | tail -1)"
  elif ! only_out=$(only_found); then
    fail only "p2p-download --only exited 0 but neither $ONLY_DIR/$NAME.partial/$ONLY nor $ONLY_DIR/$NAME/$ONLY is the tree's $ONLY"
  else
    info only_output "verified at WORKDIR/$only_out"
    info only_fetched_bytes "$(du -sb "$ONLY_DIR" | cut -f1) bytes in the workdir after one --only run (the file is $(stat -c %s "$TREE/$ONLY"))"
    if bench_cmd only "$ONLY_RUNS" "$RUN/only.json" "rm -rf $ONLY_DIR" 0 600 "${only_cmd[@]}"; then
      cmp -s "$ONLY_DIR/$only_out" "$TREE/$ONLY" || fail only "the last timed --only run left a file that differs from the tree's"
      read -r med mn mx n < <(hf_median "$RUN/only.json")
      printf 'only\tp2p\tmedian\t%s\t-\t-\t-\t%s\t-\n' "$med" "$(load1)" >>"$ROWS"
      info only_runs "median $med s, min $mn s, max $mx s over $n runs ($([ $HF = 1 ] && echo hyperfine || echo 'python loop'))"
      log "--only: median ${med}s over $n runs"
    else
      fail only "timing --only failed: $(tail -2 "$RUN/logs/hf-only.log" | tr '\n' ' ')"
    fi
  fi
  rm -rf "$ONLY_DIR"
else
  fail only "p2p: no tree meta (p2p-create does not support directories yet)"
fi
[ -n "$SEED_PID" ] && stop_pid "$SEED_PID"

# --- 4. meta size and parse time ----------------------------------------------------------------------
log "metas: reference tree meta (python), $META_ENTRIES-entry meta, parse times"
PS=65536
[ $P2P = 1 ] && PS=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["piece_size"])' "$META")
note_cmd "python3 bench/gen_tree.py tree-meta $TREE $RUN/meta/ref.p2pmeta --piece-size $PS"
read -r _ ref_size ref_hash < <(gen tree-meta "$TREE" "$RUN/meta/ref.p2pmeta" --piece-size "$PS")
info ref_meta "bench/gen_tree.py tree-meta (format 3 as the brief describes it, piece_size $PS): $ref_size bytes, info hash $ref_hash"
if [ $P2P = 1 ]; then
  p2p_hash=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["info_hash"])' "$META")
  info ref_vs_p2p "$([ "$p2p_hash" = "$ref_hash" ] && echo 'the same info hash as p2p-create: the format matches the brief' || echo "p2p-create's info hash $p2p_hash differs from the reference's: the formats differ (gen_tree.py write_meta needs adjusting)")"
fi
# Keyed by the generator's own hash: a change to the format it writes makes a new file.
BIG=$CACHE_DIR/meta-$META_ENTRIES-$(sha256sum "$HERE/gen_tree.py" | cut -c1-12).p2pmeta
if [ ! -s "$BIG" ]; then
  note_cmd "python3 bench/gen_tree.py meta $BIG --entries $META_ENTRIES"
  gen meta "$BIG.tmp" --entries "$META_ENTRIES" >/dev/null && mv "$BIG.tmp" "$BIG"
fi
info meta_size_big "$(stat -c %s "$BIG") bytes ($META_ENTRIES files, all empty, in nested folders, no pieces; bench/gen_tree.py meta)"
head -c 1 /dev/zero >"$RUN/meta/one"
"$BIN/p2p-create" -q "$RUN/meta/one" -o "$RUN/meta/one.p2pmeta"

# parse_time LABEL META: p2p-download with no peer loads, parses and validates the meta, then
# exits with "no peers to download from"; anything else means the meta was refused.
# A parse that takes longer than PARSE_TIMEOUT is killed and reported as such.
parse_time() {
  local label=$1 m=$2 msg t0 t1 rc=0
  local cmd=("$BIN/p2p-download" --meta "$m" --workdir "$RUN/parse" --quiet)
  t0=$(date +%s.%N)
  run_bounded "$PARSE_TIMEOUT" "${cmd[@]}" >"$RUN/logs/parse-$label.log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  msg=$(grep -v '^\s*$' "$RUN/logs/parse-$label.log" | grep -v 'still running after' | tail -1 | cut -c1-300)
  if python3 -c "import sys; sys.exit(0 if $t1 - $t0 >= $PARSE_TIMEOUT else 1)"; then
    fail parse "$label: p2p-download had not finished reading the $(stat -c %s "$m")-byte meta after ${PARSE_TIMEOUT}s (killed; PARSE_TIMEOUT)"
    return 1
  fi
  info "parse_check_$label" "$(calc "$t1 - $t0") s for one untimed run (exit $rc): $msg"
  [ "$rc" = 0 ] && { fail parse "$label: p2p-download without a peer exited 0 (expected 'no peers to download from')"; return 1; }
  if ! grep -q 'no peers to download from' <<<"$msg"; then
    fail parse "p2p-download refuses the $label meta (after $(calc "$t1 - $t0") s): $msg"; return 1
  fi
  if bench_cmd "parse-$label" "$PARSE_RUNS" "$RUN/parse-$label.json" "" 1 $((PARSE_TIMEOUT * (PARSE_RUNS + 2))) "${cmd[@]}"; then
    read -r med mn mx n < <(hf_median "$RUN/parse-$label.json")
    printf 'parse\t%s\tmedian\t%s\t-\t-\t-\t%s\t-\n' "$label" "$med" "$(load1)" >>"$ROWS"
    log "parse $label: median ${med}s (process start to exit) over $n runs"
  else
    fail parse "$label: timing failed: $(tail -2 "$RUN/logs/hf-parse-$label.log" | tr '\n' ' ')"
  fi
}
parse_time one "$RUN/meta/one.p2pmeta" || true
if [ $P2P = 1 ]; then parse_time tree "$META" || true; else parse_time tree "$RUN/meta/ref.p2pmeta" || true; fi
parse_time big "$BIG" || true
info parse_method "p2p-download --meta M --workdir DIR --quiet (no peer: it loads, parses and validates the meta, computes the info hash, then exits 'no peers to download from'); parse ~ that time minus the same for a one-file meta"

# --- report ----------------------------------------------------------------------------------------------
stop_all
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$({ git -C "$ROOT" status --porcelain -- lib apps CMakeLists.txt 2>/dev/null || true; } | wc -l)
info command "$COMMAND"
info date "$(date -u '+%Y-%m-%d %H:%M UTC')"
info host "$(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(findmnt -no FSTYPE -T "$BENCH_DIR") at $BENCH_DIR, tree on $(findmnt -no FSTYPE -T "$TREE")"
info versions "p2p-share $GIT_REV$([ "$GIT_DIRTY" != 0 ] && echo " (+$GIT_DIRTY uncommitted changes in lib/ apps/)"); $(rsync --version | head -1 | sed 's/  */ /g'); $(mktorrent -h 2>&1 | head -1 | sed 's/ (c).*//'); $(aria2c --version | head -1); libtorrent $("$LTPY" -c 'import libtorrent; print(libtorrent.__version__)' 2>/dev/null || echo '-'); opentracker $(dpkg-query -W -f='${Version}' opentracker 2>/dev/null || echo '?'); $([ $HF = 1 ] && hyperfine --version || echo 'no hyperfine (python loop)')"
info load "$LOAD_START at start, $LOAD_MEASURE when measuring started, $LOAD_END at end; $(($(date +%s) - START_TS)) s in all"
info settings "SHAPE=$SHAPE FILES=$FILES TOTAL=$TOTAL_BYTES SEED=$SEED RUNS=$RUNS CREATE_RUNS=$CREATE_RUNS ONLY_RUNS=$ONLY_RUNS PARSE_RUNS=$PARSE_RUNS META_ENTRIES=$META_ENTRIES COLD=$COLD"
info cache "page cache warm for every figure (the tree read once before measuring, $TREE_BYTES bytes vs $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM), the same for every tool; sync before each transfer; $([ "$COLD" = 1 ] && [ "$(id -u)" = 0 ] && echo 'cold create rows: after echo 3 > /proc/sys/vm/drop_caches' || echo 'no cold runs (COLD=1 as root adds them)')"
mkdir -p "$(dirname "$RESULTS_FILE")"
python3 "$HERE/tree_report.py" report --rows "$ROWS" --fails "$FAILS" --info "$INFO" --commands "$CMDLOG" --out "$RESULTS_FILE"
log "wrote $RESULTS_FILE"
if [ -s "$FAILS" ]; then
  log "$(wc -l <"$FAILS") step(s) failed (listed above and in $RESULTS_FILE)"
  exit 3
fi
