#!/usr/bin/env bash
# Swarm benchmark on a real (virtual) network, as root: every process in its own network
# namespace (scripts/netns/harness.sh), its upload capped by the kernel (tbf), every program
# with its default flags. One seeder (upload R) and N downloaders share an F-byte file:
#   homogeneous:   every downloader uploads at R;
#   heterogeneous: half the downloaders upload at R/4.
# Time = from starting the N downloaders (together) until the last holds a verified copy,
# compared with the minimum distribution time (Kumar & Ross 2006; downloads uncapped)
#   T* = max(F/u_s, N·F/(u_s + Σu_i)).
# p2p-share (p2p-seed + p2p-download given only the seeder's address; they meet by gossip),
# median of REPEATS runs, beside aria2c and libtorrent (python3-libtorrent, TCP only) in the
# same harness, each with its defaults, finding peers through opentracker. Plus p2p-share in
# three more shapes (N = 8, homogeneous): a downloader joining at T*/2, one leaving at T*/2,
# and the seeder (on a 2R link) leaving as soon as it has uploaded one copy.
#
#   sudo bash bench/netns_swarm_bench.sh
#
# Writes bench/results/netns_swarm_bench-latest.md (tables, commands, versions, load),
# netns_swarm_bench-latest.dat (one row per run) and netns_swarm_bench.png (gnuplot).
# Env: F_MIB (default 32), R_MIB (upload cap in MiB/s, default 4), NS ("8 16 32"),
#      SHAPES ("hom het"), REPEATS (p2p-share runs per cell, 3), ANCHOR_REPEATS (aria2c and
#      libtorrent runs per cell, 1; 0 = none), EXTRA (1: late/leave/seed-leaves shapes, default 1),
#      P2P_BENCH_SKIP_BUILD=1 (use build/bin as is), KEEP_SCRATCH=1 (keep logs), OUT (results
#      path prefix), P2P_DL_ARGS and P2P_SEED_ARGS (extra p2p-download / p2p-seed flags, for
#      experiments only: the table is meant to be measured with defaults), P2P_PIECE_SIZE
#      (bytes, likewise), P2P_UPLOAD_PCT (a tuned figure: each p2p-download gets
#      --max-upload-rate at that percentage of its node's kernel cap).
set -euo pipefail
# No port mapping requests or LAN announces leave this run (docs: README "Across networks").
export P2P_NO_DISCOVERY=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RESULTS_DIR=$ROOT/bench/results
F_MIB=${F_MIB:-32}
R_MIB=${R_MIB:-4}
NS=${NS:-8 16 32}
SHAPES=${SHAPES:-hom het}
REPEATS=${REPEATS:-3}
ANCHOR_REPEATS=${ANCHOR_REPEATS:-1}
EXTRA=${EXTRA:-1}
F=$((F_MIB * 1048576))
R=$((R_MIB * 1048576))
OUT=${OUT:-$RESULTS_DIR/netns_swarm_bench}
LT_PY=/usr/bin/python3   # python3-libtorrent is built for Debian's python

source "$ROOT/bench/lib.sh"   # log, die; the netns peers (start_seeder, start_leecher, ...)

tools=(python3 cmp curl gnuplot ip tc)
[ "$ANCHOR_REPEATS" -gt 0 ] && tools+=(aria2c mktorrent opentracker)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || die "$tool is not installed (P2P_BENCH_DEPS=1 scripts/setup-deps.sh; apt-get install python3-libtorrent iproute2)"
done
if [ "$ANCHOR_REPEATS" -gt 0 ]; then
  "$LT_PY" -c 'import libtorrent' 2>/dev/null || die "python3-libtorrent is not installed (apt-get install python3-libtorrent)"
fi

netns_bench_setup netns-bench

load1() { cut -d' ' -f1 /proc/loadavg; }
elapsed_since() {  # seconds since EPOCHREALTIME $1, with builtins (it runs while the clock does)
  local d=$((${EPOCHREALTIME/./} - ${1/./}))
  printf '%d.%02d\n' $((d / 1000000)) $((d % 1000000 / 10000))
}

# Binaries are copied so that a concurrent rebuild of build/bin cannot swap them mid-run.
mkdir -p "$T/bin" "$T/data" "$T/runs"
BIN=$T/bin
for b in p2p-create p2p-seed p2p-download; do
  cp "$ROOT/build/bin/$b" "$BIN/" 2>/dev/null && "$BIN/$b" --help >/dev/null 2>&1 ||
    die "build/bin/$b is missing or broken (a concurrent build?); rerun scripts/build.sh"
done
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
GIT_DIRTY=$(git -C "$ROOT" status --porcelain -- lib apps 2>/dev/null | wc -l)

NAME=netns-${F_MIB}MiB.bin
SRC=$T/data/$NAME
log "creating a $F_MIB MiB random file"
head -c "$F" /dev/urandom >"$SRC"
META=$T/data/$NAME.p2pmeta
# automatic piece size (P2P_PIECE_SIZE=BYTES overrides it, for experiments only)
"$BIN/p2p-create" -q "$SRC" -o "$META" ${P2P_PIECE_SIZE:+--piece-size "$P2P_PIECE_SIZE"}
PIECE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["piece_size"])' "$META")

MAXN=0
for n in $NS; do [ "$n" -gt "$MAXN" ] && MAXN=$n; done
[ "$EXTRA" = 1 ] && [ "$MAXN" -lt 8 ] && MAXN=8
log "creating $((MAXN + 2)) namespaces (seed, tracker, d1..d$MAXN)"
nsh_node seed "$R"
nsh_node tracker 0
for ((i = 1; i <= MAXN; i++)); do nsh_node "d$i" "$R"; done
SEED_ADDR=${NSH_ADDR[seed]}
TRACKER_ADDR=${NSH_ADDR[tracker]}
TORRENT=$T/data/$NAME.torrent
if [ "$ANCHOR_REPEATS" -gt 0 ]; then
  mktorrent -a "http://$TRACKER_ADDR:6969/announce" -o "$TORRENT" "$SRC" >/dev/null   # default piece length
  INFOHASH=$(python3 "$ROOT/bench/bench_util.py" infohash "$TORRENT")
  mkdir -p "$T/ot"; echo "$INFOHASH" >"$T/ot/whitelist"
  chmod 755 "$T" "$T/ot"; chmod 644 "$T/ot/whitelist"   # opentracker reads it as user nobody, chrooted in -d
fi

# caps N HET [SEED_RATE]: seeder (at R unless given) and d1..dN at R; with HET=1 the
# even-numbered downloaders at R/4.
declare -A NODE_CAP=()   # node -> its upload cap (bytes/s), for P2P_UPLOAD_PCT (bench/lib.sh)
caps() {
  local n=$1 het=$2 i
  nsh_shape seed "${3:-$R}"
  for ((i = 1; i <= n; i++)); do
    NODE_CAP[d$i]=$R
    [ "$het" = 1 ] && [ $((i % 2)) = 0 ] && NODE_CAP[d$i]=$((R / 4))
    nsh_shape "d$i" "${NODE_CAP[d$i]}"
  done
}
# tstar N HET [SEED_RATE]: the minimum distribution time in seconds.
tstar() {
  python3 -c "
n, het, F, R, us = $1, $2, $F, $R, ${3:-$R}
up = sum(R / 4 if het and i % 2 == 0 else R for i in range(1, n + 1))
print(f'{max(F / us, n * F / (us + up)):.3f}')"
}

RAW=$OUT-latest.dat
mkdir -p "$(dirname "$OUT")"
: >"$T/raw.tsv"   # tool shape n rep wall first seeder_copies verify load tstar extra cpu
CMDS=()
write_aria_done_hook   # bench/lib.sh: aria2c's completion hook, $T/aria-done.sh

# ---- one run ------------------------------------------------------------------------------------
# run TOOL SHAPE N HET REP: one run; appends a row to raw.tsv. SHAPE: hom/het, or (p2p, N=8)
# late (dN starts at T*/2), leave (dN is stopped at T*/2), seedleave (seeder stops once it
# has uploaded F bytes).
run() {
  local tool=$1 shape=$2 n=$3 het=$4 rep=$5 dir i t0 ts load done_n status=ok wall first up copies v
  local deadline event_at="" event_done=0 last=$n
  dir=$T/runs/$tool-$shape-n$n-r$rep; mkdir -p "$dir"
  # The seeder that leaves after one copy gets a 2R link: at R its single copy (initial
  # seeding sends 1.00) is out only as the swarm finishes, and there would be nothing to show.
  local seed_rate=$R
  [ "$shape" = seedleave ] && seed_rate=$((2 * R))
  ts=$(tstar "$n" "$het" "$seed_rate")
  caps "$n" "$het" "$seed_rate"
  load=$(load1)
  log "$tool $shape N=$n run $rep (T* = $ts s, load $load)"
  start_seeder "$tool" "$dir"
  DL_PID=()
  [ "$shape" = late ] && last=$((n - 1))
  # The loop uses shell builtins only (times in microseconds; its durations are worked out
  # before the clock starts): with 32 downloaders on two cores a python call per check made
  # it lag by a second, and the two calls it kept after the start (python3 can be a pyenv
  # shim: 0.35 CPU-s each) took CPU from the peers in their first second. Completion times
  # are exact anyway: p2p-download's rename sets the file's ctime, which is read afterwards.
  local t0_us now_us half_us deadline_us iter=0
  read -r half_us deadline_us < <(python3 -c "print(int($ts * 500000), int(max(60, 6 * $ts)) * 1000000)")
  start_leechers_together "$tool" "$dir" "$last"   # sets t0
  t0_us=${t0/./}; deadline_us=$((t0_us + deadline_us))
  while :; do
    done_n=0
    for ((i = 1; i <= n; i++)); do
      # p2p-download renames NAME.partial to NAME once every piece and the whole-file hash check out
      if [ -s "$dir/done.$i" ] || { [ "$tool" = p2p ] && [ -f "$dir/d$i/$NAME" ]; }; then done_n=$((done_n + 1)); fi
    done
    [ "$shape" = leave ] && [ "$event_done" = 1 ] && [ ! -f "$dir/d$n/$NAME" ] && [ ! -s "$dir/done.$n" ] && done_n=$((done_n + 1))
    [ "$done_n" -ge "$n" ] && break
    now_us=${EPOCHREALTIME/./}
    if [ "$event_done" = 0 ]; then
      case $shape in
        late) if [ $((now_us - t0_us)) -ge "$half_us" ]; then
                start_leecher "$tool" "$dir" "$n"; event_at=$(elapsed_since "$t0"); event_done=1; fi ;;
        leave) if [ $((now_us - t0_us)) -ge "$half_us" ]; then
                 nsh_stop 10 "${DL_PID[$n]}"; event_at=$(elapsed_since "$t0"); event_done=1
                 { [ -f "$dir/d$n/$NAME" ] || [ -s "$dir/done.$n" ]; } && log "   (d$n had already finished)"; fi ;;
        seedleave) local up_now
                   up_now=$(grep '"event":"progress"' "$dir/seed.log" | tail -n1 | sed -n 's/.*"uploaded_bytes":\([0-9]*\).*/\1/p')
                   if [ "${up_now:-0}" -ge "$F" ]; then
                     nsh_stop 10 "$SEED_PID"; event_at=$(elapsed_since "$t0"); event_done=1; fi ;;
      esac
    fi
    if [ "$now_us" -ge "$deadline_us" ]; then status=timeout; break; fi
    if [ $((++iter % 10)) = 0 ]; then   # one that exited unfinished will never finish
      for ((i = 1; i <= n; i++)); do
        [ -n "${DL_PID[$i]:-}" ] || continue
        [ "$shape" = leave ] && [ "$i" = "$n" ] && continue
        [ -s "$dir/done.$i" ] || [ -f "$dir/d$i/$NAME" ] || nsh_running "${DL_PID[$i]}" || status=failed
      done
    fi
    [ "$status" = ok ] || break
    poll_pause 0.1
  done
  if [ "$tool" = p2p ]; then
    python3 - "$dir" "$n" "$NAME" <<'PY'
import os, sys
d, n, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(1, n + 1):
    f = f"{d}/d{i}/{name}"
    if os.path.exists(f):
        open(f"{d}/done.{i}", "w").write(f"{os.stat(f).st_ctime:.3f}\n")
PY
  fi
  read -r wall first < <(python3 - "$dir" "$n" "$t0" "$status" "$shape" <<'PY'
import os, sys
d, n, t0, status, shape = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
want = range(1, n) if shape == "leave" else range(1, n + 1)   # the leaver does not count
ts = [float(open(f"{d}/done.{i}").read().split()[0]) - t0 for i in want
      if os.path.exists(f"{d}/done.{i}") and os.path.getsize(f"{d}/done.{i}")]
print(f"{max(ts):.2f}" if len(ts) == len(want) and status == "ok" else status, f"{min(ts):.2f}" if ts else "-")
PY
)
  local pids=() cpu
  for ((i = 1; i <= n; i++)); do [ -n "${DL_PID[$i]:-}" ] && pids+=("${DL_PID[$i]}"); done
  # CPU seconds the seeder and the downloaders used (all threads), to tell a CPU-bound run
  cpu=$(cpu_seconds "$SEED_PID" "${pids[@]}")
  up=$(seeder_uploaded "$tool" "$dir")
  nsh_stop 10 "${pids[@]}"
  [ -n "${OT_PID:-}" ] && { nsh_stop 5 "$OT_PID"; OT_PID=""; }
  copies=$([ -n "$up" ] && python3 -c "print(f'{$up / $F:.2f}')" || echo '?')
  if [ "$wall" = timeout ] || [ "$wall" = failed ]; then
    v="${done_n}/${n}_done"
  else
    v=ok
    for ((i = 1; i <= n; i++)); do
      [ "$shape" = leave ] && [ "$i" = "$n" ] && continue
      cmp -s "$SRC" "$dir/d$i/$NAME" || v=bad_copy
    done
  fi
  local extra="-"
  [ -n "$event_at" ] && extra=$event_at
  [ "$shape" = late ] && [ -s "$dir/done.$n" ] && extra="$event_at:$(python3 -c "print(f'{float(open(\"$dir/done.$n\").read()) - $t0:.2f}')")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$shape" "$n" "$rep" "$wall" "$first" "$copies" "$v" \
    "$load" "$ts" "$extra" "$cpu" >>"$T/raw.tsv"
  log "   all done: $wall s = $(python3 -c "print(f'{$wall / $ts:.2f}' if '$wall'[0].isdigit() else '-')" 2>/dev/null)×T* (first $first s), seeder copies $copies, $v${event_at:+, event at $event_at s}, CPU ${cpu} s"
  if [ "$v" != ok ]; then
    local keep=$OUT-failed-$tool-$shape-n$n-r$rep
    rm -rf "$keep"; cp -r "$dir" "$keep" 2>/dev/null || true
    find "$keep" -name "$NAME*" -type f -delete 2>/dev/null || true
    log "   logs of this run kept in ${keep#"$ROOT"/}"
  fi
  if [ ${#CMDS[@]} -lt 6 ] && [ "$shape" = hom ] && ! printf '%s\n' "${CMDS[@]:-}" | grep -q "^$tool:"; then
    CMDS+=("$tool: $(printf '%q ' "${SEED_CMD[@]}")" "$tool: $(printf '%q ' "${DL_CMD[@]}")  # × N, each in its namespace")
  fi
  [ "${KEEP_SCRATCH:-0}" = 1 ] || rm -rf "$dir"/d[0-9]* "$dir/seedwd"
  rm -f "$dir"/d[0-9]*/"$NAME" 2>/dev/null || true
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START=$SECONDS
for shape in $SHAPES; do
  het=0; [ "$shape" = het ] && het=1
  for n in $NS; do
    for ((rep = 1; rep <= REPEATS; rep++)); do run p2p "$shape" "$n" "$het" "$rep"; done
    for ((rep = 1; rep <= ANCHOR_REPEATS; rep++)); do
      run aria "$shape" "$n" "$het" "$rep"
      run lt "$shape" "$n" "$het" "$rep"
    done
  done
done
if [ "$EXTRA" = 1 ]; then
  for shape in late leave seedleave; do run p2p "$shape" 8 0 1; done
fi
ELAPSED=$((SECONDS - START))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

cp "$T/raw.tsv" "$RAW"
VERSIONS="p2p-share $GIT_REV"
[ "$GIT_DIRTY" != 0 ] && VERSIONS+=" (+$GIT_DIRTY uncommitted files in lib/ apps/)"
VERSIONS+=" RelWithDebInfo"
if [ "$ANCHOR_REPEATS" -gt 0 ]; then
  VERSIONS+="; $(aria2c --version | head -1); libtorrent $("$LT_PY" -c 'import libtorrent; print(libtorrent.__version__)')"
  VERSIONS+=" (python3-libtorrent); opentracker $(dpkg-query -W -f='${Version}' opentracker 2>/dev/null || echo '?')"
  VERSIONS+="; $(mktorrent -h 2>&1 | head -1 | sed 's/ (c).*//')"
fi
printf '%s\n' "${CMDS[@]}" >"$T/cmds.txt"
# The settings that make this run not the defaults' (empty for the table's own runs).
TUNED="${P2P_UPLOAD_PCT:+P2P_UPLOAD_PCT=$P2P_UPLOAD_PCT}${P2P_DL_ARGS:+ P2P_DL_ARGS=\"$P2P_DL_ARGS\"}"
TUNED="$TUNED${P2P_SEED_ARGS:+ P2P_SEED_ARGS=\"$P2P_SEED_ARGS\"}${P2P_PIECE_SIZE:+ P2P_PIECE_SIZE=$P2P_PIECE_SIZE}"
TUNED=${TUNED# }
python3 "$ROOT/bench/netns_swarm_report.py" report "$RAW" "$OUT" \
  --F "$F" --R "$R" --piece "$PIECE" --repeats "$REPEATS" --anchor-repeats "$ANCHOR_REPEATS" \
  --host "$(nproc) cores, Linux $(uname -r); load average at start $LOAD_START, at end $LOAD_END" \
  --versions "$VERSIONS" --elapsed "$ELAPSED" --commands "$T/cmds.txt" \
  --tuned "$TUNED" \
  --reproduce "sudo bash bench/netns_swarm_bench.sh  # F_MIB=$F_MIB R_MIB=$R_MIB NS=\"$NS\" SHAPES=\"$SHAPES\" REPEATS=$REPEATS ANCHOR_REPEATS=$ANCHOR_REPEATS EXTRA=$EXTRA${TUNED:+ $TUNED}"
