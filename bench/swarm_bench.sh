#!/usr/bin/env bash
# Swarm scaling benchmark on loopback (not a timed test): one seeder capped at R upload and
# N downloaders each capped at R upload share one F-byte file. For N = 1 2 4 8 16 it measures
# the wall time from starting the N downloaders (all at once) until all N hold a verified,
# byte-identical copy, for p2p-share (p2p-seed + p2p-download given only the seeder's address;
# the downloaders meet through peer exchange) and for aria2c in the same shape (aria2c seeder
# + aria2c leechers, opentracker on loopback, PEX on). Lower bound ≈ F/R (the seeder must send
# every byte once); a client-server design needs N×F/R. Target: ≤ 1.5×F/R for every N.
#
#   bash bench/swarm_bench.sh
#
# Writes bench/results/swarm_bench-latest.md (table, commands, versions), swarm_bench-latest.dat
# (one row per run) and bench/results/swarm_bench.png (gnuplot).
# Env: F_MIB (file size in MiB, default 64), R_MIB (upload cap of every process in MiB/s, 8),
#      NS ("1 2 4 8 16"), REPEATS (p2p-share runs per N, 3), ARIA_REPEATS (aria2c runs per N, 1;
#      0 skips aria2c), RUN_TIMEOUT (seconds per run, default max(60, 8×F/R)),
#      P2P_PIECE_SIZE (bytes, default 262144 like mktorrent -l 18; "auto" = p2p-create's choice),
#      P2P_BENCH_SKIP_BUILD=1 (use build/bin as is instead of running scripts/build.sh),
#      KEEP_SCRATCH=1 (keep the runs' JSON logs in the scratch dir; copies are deleted).
set -euo pipefail
# No port mapping requests or LAN announces leave this run (docs: README "Across networks").
export P2P_NO_DISCOVERY=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RESULTS_DIR=$ROOT/bench/results
F_MIB=${F_MIB:-64}
R_MIB=${R_MIB:-8}
NS=${NS:-1 2 4 8 16}
REPEATS=${REPEATS:-3}
ARIA_REPEATS=${ARIA_REPEATS:-1}
P2P_PIECE_SIZE=${P2P_PIECE_SIZE:-262144}
F=$((F_MIB * 1048576))
R=$((R_MIB * 1048576))
FR=$(python3 -c "print(f'{$F / $R:.3f}')")
RUN_TIMEOUT=${RUN_TIMEOUT:-$(python3 -c "print(max(60, int(8 * $F / $R + 0.999)))")}
ARIA=$([ "$ARIA_REPEATS" -gt 0 ] && echo 1 || echo 0)

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'swarm_bench: %s\n' "$*" >&2; exit 1; }

tools=(python3 cmp curl gnuplot)
[ "$ARIA" = 1 ] && tools+=(aria2c mktorrent opentracker)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || die "$tool is not installed; install the bench tools with: P2P_BENCH_DEPS=1 scripts/setup-deps.sh"
done

if [ "${P2P_BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building (scripts/build.sh)"
  "$ROOT/scripts/build.sh" >/dev/null
fi

# --- scratch dir, process bookkeeping -----------------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-swarm.XXXXXX")
PIDS=()   # every background process this script started and has not reaped yet

is_running() {
  local st
  st=$(sed -E 's/^.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
# stop_pids GRACE PID...: SIGTERM to each, wait up to GRACE s for all, SIGKILL the rest, reap.
stop_pids() {
  local grace=$1 p i alive; shift
  [ $# -gt 0 ] || return 0
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for ((i = 0; i < grace * 10; i++)); do
    alive=0
    for p in "$@"; do is_running "$p" && alive=1 && break; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "$@"; do
    if is_running "$p"; then
      echo "swarm_bench: pid $p ignored SIGTERM for ${grace}s; sending SIGKILL" >&2
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
  local kept=() q
  for q in "${PIDS[@]}"; do
    for p in "$@"; do [ "$q" = "$p" ] && continue 2; done
    kept+=("$q")
  done
  PIDS=("${kept[@]}")
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  restore_host_memory
  [ ${#PIDS[@]} -gt 0 ] && stop_pids 5 "${PIDS[@]}"
  if [ "${KEEP_SCRATCH:-0}" = 1 ]; then
    rm -rf "$T/data" "$T/bin"; echo "swarm_bench: logs kept in $T/runs" >&2
  else
    rm -rf "$T"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { echo "$EPOCHREALTIME"; }
usec() { local t=$EPOCHREALTIME; echo "${t/./}"; }
load1() { cut -d' ' -f1 /proc/loadavg; }
json_field() {  # json_field LOG EVENT FIELD: FIELD of the first EVENT line in LOG
  python3 -c 'import json,sys
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("event") == sys.argv[2]: print(e[sys.argv[3]]); break' "$@"
}
infohash() {  # infohash X.torrent: 40-hex SHA-1 of the bencoded info dict
  python3 -c 'import hashlib,sys
b = open(sys.argv[1], "rb").read()
def skip(i):
    c = b[i:i+1]
    if c == b"i": return b.index(b"e", i) + 1
    if c in (b"l", b"d"):
        i += 1
        while b[i:i+1] != b"e": i = skip(i)
        return i + 1
    colon = b.index(b":", i); return colon + 1 + int(b[i:colon])
i = 1
while b[i:i+1] != b"e":
    kend = skip(i); key = b[b.index(b":", i) + 1:kend]; vend = skip(kend)
    if key == b"info": print(hashlib.sha1(b[kend:vend]).hexdigest()); break
    i = vend' "$1"
}

# Binaries are copied so that a concurrent rebuild of build/bin cannot swap them mid-run.
mkdir -p "$T/bin" "$T/data" "$T/ot" "$T/runs"
BIN=$T/bin
for b in p2p-create p2p-seed p2p-download; do
  cp "$ROOT/build/bin/$b" "$BIN/" 2>/dev/null && "$BIN/$b" --help >/dev/null 2>&1 ||
    die "build/bin/$b is missing or broken (a concurrent build?); rerun scripts/build.sh"
done
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
GIT_DIRTY=$(git -C "$ROOT" status --porcelain -- lib apps 2>/dev/null | wc -l)

NAME=swarm-${F_MIB}MiB.bin
SRC=$T/data/$NAME
log "creating a $F_MIB MiB random file"
head -c "$F" /dev/urandom >"$SRC"
META=$T/data/$NAME.p2pmeta
if [ "$P2P_PIECE_SIZE" = auto ]; then
  "$BIN/p2p-create" -q "$SRC" -o "$META"
else
  "$BIN/p2p-create" -q --piece-size "$P2P_PIECE_SIZE" "$SRC" -o "$META"
fi
PIECE_NOTE="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["piece_size"])' "$META" 2>/dev/null || echo '?') bytes"
[ "$P2P_PIECE_SIZE" = auto ] && PIECE_NOTE+=" (p2p-create auto)"

CMDS=("$(printf '%q ' "$BIN/p2p-create" -q "$SRC" -o "$META")$([ "$P2P_PIECE_SIZE" = auto ] || printf -- '--piece-size %s' "$P2P_PIECE_SIZE")")
RAW=$T/raw.tsv   # tool N rep time first seeder_copies peer_upload_copies verify load
: >"$RAW"

# wait_all TOOL N T0: polls every 0.1 s until each downloader i is done (RUN_DIR/done.i holds
# its completion time), one has exited unfinished, or RUN_TIMEOUT passes. Sets WALL (latest
# completion, "timeout" or "failed"), FIRST (earliest completion) and DONE (how many finished).
wait_all() {
  local tool=$1 n=$2 t0=$3 i deadline status=ok
  deadline=$(($(usec) + RUN_TIMEOUT * 1000000))
  while :; do
    DONE=0
    for ((i = 1; i <= n; i++)); do
      if [ -s "$RUN_DIR/done.$i" ]; then DONE=$((DONE + 1)); continue; fi
      # p2p-download renames NAME.partial to NAME once every piece and the whole-file hash are
      # verified; with --seed its JSON "complete" event only comes at exit, so the file is the signal.
      if [ "$tool" = p2p ] && [ -f "$RUN_DIR/d$i/$NAME" ]; then
        now >"$RUN_DIR/done.$i"; DONE=$((DONE + 1))
      fi
    done
    [ "$DONE" -ge "$n" ] && break
    if [ "$(usec)" -ge "$deadline" ]; then status=timeout; break; fi
    for ((i = 1; i <= n; i++)); do   # one that exited unfinished will never finish
      [ -s "$RUN_DIR/done.$i" ] || is_running "${DL_PIDS[i - 1]}" || status=failed
    done
    [ "$status" = ok ] || break
    sleep 0.1
  done
  read -r WALL FIRST < <(python3 - "$RUN_DIR" "$n" "$t0" "$status" <<'PY'
import os, sys
d, n, t0, status = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
ts = [float(open(f"{d}/done.{i}").read().split()[0]) - t0
      for i in range(1, n + 1) if os.path.exists(f"{d}/done.{i}") and os.path.getsize(f"{d}/done.{i}")]
print(f"{max(ts):.2f}" if len(ts) == n else status, f"{min(ts):.2f}" if ts else "-")
PY
)
}

# verify N: cmp every copy against the source; prints "ok" or what is wrong.
verify() {
  local n=$1 i bad=0
  for ((i = 1; i <= n; i++)); do cmp -s "$SRC" "$RUN_DIR/d$i/$NAME" || bad=$((bad + 1)); done
  [ "$bad" = 0 ] && echo ok || echo "${bad}/${n}_copies_missing_or_different"
}

# finish_run TOOL N REP LOAD UPLOADED PEERUP: records the row; keeps the logs of a failed run.
finish_run() {
  local tool=$1 n=$2 rep=$3 load=$4 up=$5 peerup=$6 copies v
  copies=$([ -n "$up" ] && python3 -c "print(f'{$up / $F:.2f}')" || echo '?')
  if [ "$WALL" = timeout ] || [ "$WALL" = failed ]; then v="${DONE}/${n}_done"; else v=$(verify "$n"); fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$n" "$rep" "$WALL" "$FIRST" "$copies" "$peerup" "$v" "$load" >>"$RAW"
  log "   all done: $WALL s (first ${FIRST} s), seeder copies $copies, copies $v"
  if [ "$v" != ok ]; then
    local keep=$RESULTS_DIR/swarm_bench-failed-$tool-n$n-r$rep
    rm -rf "$keep"; cp -r "$RUN_DIR" "$keep" 2>/dev/null || true
    rm -rf "$keep"/d[0-9]*/"$NAME" "$keep"/d[0-9]*/.p2p
    log "   logs of this run kept in ${keep#"$ROOT"/}"
  fi
  rm -rf "$RUN_DIR"/d[0-9]*
}

# --- p2p-share run ---------------------------------------------------------------------------------
run_p2p() {
  local n=$1 rep=$2 i port seed_pid t0 up load
  RUN_DIR=$T/runs/p2p-n$n-r$rep; mkdir -p "$RUN_DIR"
  load=$(load1)
  log "N=$n p2p-share run $rep (load $load)"
  local seed_cmd=("$BIN/p2p-seed" --meta "$META" --source "$SRC" --host 127.0.0.1 --port 0
                  --max-upload-rate "$R" --json)
  "${seed_cmd[@]}" >"$RUN_DIR/seed.log" 2>&1 &
  seed_pid=$!; PIDS+=("$seed_pid")
  for ((i = 0; i < 600; i++)); do
    grep -q '"event":"listening"' "$RUN_DIR/seed.log" 2>/dev/null && break
    is_running "$seed_pid" || die "p2p-seed exited: $(cat "$RUN_DIR/seed.log")"
    sleep 0.1
  done
  port=$(json_field "$RUN_DIR/seed.log" listening port)
  [ -n "$port" ] || die "p2p-seed did not report a port: $(cat "$RUN_DIR/seed.log")"
  DL_PIDS=()
  t0=$(now)
  for ((i = 1; i <= n; i++)); do
    mkdir -p "$RUN_DIR/d$i"
    local dl_cmd=("$BIN/p2p-download" --meta "$META" --peer "127.0.0.1:$port" --workdir "$RUN_DIR/d$i"
                  --listen-host 127.0.0.1 --max-upload-rate "$R" --parallel 1 --seed --json)
    "${dl_cmd[@]}" >"$RUN_DIR/dl$i.log" 2>&1 &
    DL_PIDS+=($!); PIDS+=($!)
  done
  wait_all p2p "$n" "$t0"
  # seeder first: its uploaded_bytes is then what it sent while the swarm downloaded
  stop_pids 10 "$seed_pid"
  stop_pids 10 "${DL_PIDS[@]}"
  up=$(json_field "$RUN_DIR/seed.log" stopped uploaded_bytes || true)
  # what the downloaders uploaded to each other, in copies of F (max uploaded_bytes per log)
  local peerup
  peerup=$(python3 - "$RUN_DIR" "$n" "$F" <<'PY'
import json, sys
d, n, F = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tot = 0
for i in range(1, n + 1):
    last = 0
    for line in open(f"{d}/dl{i}.log"):
        try: e = json.loads(line)
        except ValueError: continue
        if isinstance(e, dict) and "uploaded_bytes" in e: last = max(last, e["uploaded_bytes"])
    tot += last
print(f"{tot / F:.2f}")
PY
)
  [ "${#CMDS[@]}" -ge 3 ] || CMDS+=("$(printf '%q ' "${seed_cmd[@]}")" "$(printf '%q ' "${dl_cmd[@]}") &   # × N, d1..dN")
  finish_run p2p "$n" "$rep" "$load" "$up" "$peerup"
}

# --- aria2c run ------------------------------------------------------------------------------------
# Same caps as p2p-share: --max-overall-upload-limit=R on every process; no DHT/LPD; PEX on;
# tracker re-announce every 2 s so leechers that started together find each other quickly;
# unlimited peers; leechers seed forever (--seed-ratio=0.0) until killed after the last finishes.
ARIA_COMMON=(--no-conf --enable-dht=false --enable-dht6=false --bt-enable-lpd=false
             --enable-peer-exchange=true --bt-tracker-interval=2 --bt-external-ip=127.0.0.1
             --max-overall-upload-limit="$R" --bt-max-peers=0 --file-allocation=none
             --seed-ratio=0.0 --summary-interval=0 --show-console-readout=false
             --console-log-level=warn --auto-save-interval=0)
aria_setup() {
  OT_PORT=$(free_port)
  local announce=http://127.0.0.1:$OT_PORT/announce n i h
  : >"$T/ot/whitelist"
  # one torrent per N (mktorrent -s changes the info hash), so no run meets an earlier run's peers
  for n in $NS; do
    mktorrent -l 18 -s "swarm-bench-n$n" -a "$announce" -o "$T/data/n$n.torrent" "$SRC" >/dev/null
    infohash "$T/data/n$n.torrent" >>"$T/ot/whitelist"
  done
  chmod 755 "$T" "$T/ot"; chmod 644 "$T/ot/whitelist"   # opentracker reads it as user nobody
  # As root opentracker chroots into -d, so the whitelist path is given as seen from there.
  if [ "$(id -u)" = 0 ]; then OT_WHITELIST=/whitelist; else OT_WHITELIST=$T/ot/whitelist; fi
  OT_CMD=(opentracker -i 127.0.0.1 -p "$OT_PORT" -P "$OT_PORT" -d "$T/ot" -w "$OT_WHITELIST")
  (cd "$T/ot" && exec "${OT_CMD[@]}") >"$T/ot.log" 2>&1 &
  OT_PID=$!; PIDS+=("$OT_PID")
  h=$(head -1 "$T/ot/whitelist" | sed 's/../%&/g')
  for ((i = 0; i < 100; i++)); do
    curl -sf "http://127.0.0.1:$OT_PORT/scrape?info_hash=$h" >/dev/null && return 0
    is_running "$OT_PID" || die "opentracker exited: $(cat "$T/ot.log")"
    sleep 0.1
  done
  die "opentracker did not answer: $(cat "$T/ot.log")"
}
# aria2c --on-bt-download-complete hook ($3 = RUN_DIR/dI/NAME): records RUN_DIR/done.I.
cat >"$T/aria-done.sh" <<'SH'
#!/bin/sh
t=$(date +%s.%N); d=$(dirname "$3")
echo "$t" >"$d/../done.$(basename "$d" | tr -d d)"
SH
chmod +x "$T/aria-done.sh"
aria_rpc_upload() {  # aria_rpc_upload PORT: uploadLength of the aria2c seeder's downloads
  curl -sf "http://127.0.0.1:$1/jsonrpc" \
    -d '{"jsonrpc":"2.0","id":"b","method":"aria2.tellActive","params":[["uploadLength"]]}' |
    python3 -c 'import json,sys; print(sum(int(d["uploadLength"]) for d in json.load(sys.stdin)["result"]))'
}
run_aria() {
  local n=$1 rep=$2 i seed_pid t0 up rpc url load tor=$T/data/n$n.torrent
  RUN_DIR=$T/runs/aria-n$n-r$rep; mkdir -p "$RUN_DIR"
  load=$(load1)
  log "N=$n aria2c run $rep (load $load)"
  rpc=$(free_port)
  local seed_cmd=(aria2c "${ARIA_COMMON[@]}" --dir="$T/data" -V --listen-port="$(free_port)"
                  --enable-rpc --rpc-listen-port="$rpc" "$tor")
  "${seed_cmd[@]}" >"$RUN_DIR/seed.log" 2>&1 &
  seed_pid=$!; PIDS+=("$seed_pid")
  # wait until the seeder has checked the file and opentracker lists it as complete
  url="http://127.0.0.1:$OT_PORT/scrape?info_hash=$(infohash "$tor" | sed 's/../%&/g')"
  for ((i = 0; i < 600; i++)); do
    curl -sf "$url" | grep -aq '8:completei[1-9]' && break
    is_running "$seed_pid" || die "aria2c seeder exited: $(tail -20 "$RUN_DIR/seed.log")"
    sleep 0.1
  done
  DL_PIDS=()
  t0=$(now)
  for ((i = 1; i <= n; i++)); do
    mkdir -p "$RUN_DIR/d$i"
    local dl_cmd=(aria2c "${ARIA_COMMON[@]}" --dir="$RUN_DIR/d$i" --listen-port="$(free_port)"
                  --on-bt-download-complete="$T/aria-done.sh" "$tor")
    "${dl_cmd[@]}" >"$RUN_DIR/dl$i.log" 2>&1 &
    DL_PIDS+=($!); PIDS+=($!)
  done
  wait_all aria "$n" "$t0"
  up=$(aria_rpc_upload "$rpc" || true)
  stop_pids 10 "$seed_pid"
  stop_pids 10 "${DL_PIDS[@]}"
  [ "${#CMDS[@]}" -ge 6 ] || CMDS+=("(cd $T/ot && $(printf '%q ' "${OT_CMD[@]}"))"
                                    "mktorrent -l 18 -s swarm-bench-n$n -a http://127.0.0.1:$OT_PORT/announce -o n$n.torrent $NAME"
                                    "$(printf '%q ' "${seed_cmd[@]}")"
                                    "$(printf '%q ' "${dl_cmd[@]}") &   # × N, d1..dN")
  finish_run aria "$n" "$rep" "$load" "$up" -
}

# --- runs (repetitions interleaved over N, so load changes spread over all N) ----------------------
mkdir -p "$RESULTS_DIR"
rm -rf "$RESULTS_DIR"/swarm_bench-failed-*
[ "$ARIA" = 1 ] && aria_setup
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(usec)
MAXREP=$((REPEATS > ARIA_REPEATS ? REPEATS : ARIA_REPEATS))
for ((rep = 1; rep <= MAXREP; rep++)); do
  for n in $NS; do
    [ "$rep" -le "$REPEATS" ] && run_p2p "$n" "$rep"
    [ "$rep" -le "$ARIA_REPEATS" ] && run_aria "$n" "$rep"
  done
done
[ "$ARIA" = 1 ] && stop_pids 5 "$OT_PID"
ELAPSED=$((($(usec) - STARTED) / 1000000))

# --- report ----------------------------------------------------------------------------------------
DAT=$RESULTS_DIR/swarm_bench-latest.dat
MD=$RESULTS_DIR/swarm_bench-latest.md
PNG=$RESULTS_DIR/swarm_bench.png
{
  echo "# swarm_bench $(date -u +%Y-%m-%dT%H:%MZ): F=$F bytes, R=$R bytes/s, F/R=$FR s, p2p piece size $PIECE_NOTE"
  echo "# times in s from starting the downloaders; copies = uploaded bytes / F; load = 1-min load average at run start"
  echo "# tool N run all_done_s first_done_s seeder_copies downloaders_upload_copies check load"
  tr '\t' ' ' <"$RAW"
} >"$DAT"

# summary: table rows (markdown) and plot data (N FR p2p_median p2p_min p2p_max aria_median aria_min aria_max)
TABLE=$(python3 - "$RAW" "$FR" "$NS" "$T/plot.dat" <<'PY'
import statistics, sys
raw, FR, ns, plot = sys.argv[1], float(sys.argv[2]), [int(x) for x in sys.argv[3].split()], sys.argv[4]
rows = [l.rstrip("\n").split("\t") for l in open(raw) if l.strip()]
def runs(tool, n): return [r for r in rows if r[0] == tool and int(r[1]) == n]
def num(s):
    try: return float(s)
    except ValueError: return None
def summary(tool, n):
    rs = runs(tool, n)
    if not rs: return None
    INF = float("inf")
    # per run: seconds, or why not done (timeout, failed, bad copy)
    lab = [r[3] if r[7] == "ok" or r[3] in ("timeout", "failed") else "bad copy" for r in rs]
    t = [num(x) if num(x) is not None else INF for x in lab]
    ok = [x for x in t if x != INF]
    copies = [num(r[5]) for r in rs if num(r[5]) is not None]
    peer = [num(r[6]) for r in rs if num(r[6]) is not None]
    return dict(n=len(rs), lab=lab, med=statistics.median(t), lo=min(ok) if ok else None,
                hi=max(ok) if len(ok) == len(rs) else None,
                within=sum(1 for x in ok if x <= 1.5 * FR + 1e-9),
                copies=statistics.median(copies) if copies else None,
                peer=statistics.median(peer) if peer else None,
                load=[num(r[8]) for r in rs])
def fmt_t(s):
    if s is None: return "-", "-"
    if s["med"] == float("inf"): med, ratio = "not done", "-"
    else: med, ratio = f"{s['med']:.1f}", f"{s['med'] / FR:.2f}×"
    if s["hi"] is None: med += " (" + ", ".join(s["lab"]) + ")"
    elif s["n"] > 1: med += f" ({s['lo']:.1f}–{s['hi']:.1f})"
    return med, ratio
out = []
with open(plot, "w") as pf:
    for n in ns:
        p, a = summary("p2p", n), summary("aria", n)
        pt, pr = fmt_t(p); at, ar = fmt_t(a)
        met = lambda s: "-" if s is None else f"{s['within']}/{s['n']}"
        c = lambda s, k: "-" if s is None or s[k] is None else f"{s[k]:.2f}"
        loads = [x for s in (p, a) if s for x in s["load"] if x is not None]
        out.append(f"| {n} | {FR:g} | {pt} | {pr} | {met(p)} | {c(p, 'copies')} | {c(p, 'peer')} | {at} | {ar} | {met(a)} | {c(a, 'copies')} | {n * FR:g} | {min(loads):.1f}–{max(loads):.1f} |")
        v = lambda s, k: "NaN" if s is None or s[k] is None or s[k] == float("inf") else f"{s[k]:.3f}"
        pf.write(f"{n} {FR} {v(p, 'med')} {v(p, 'lo')} {v(p, 'hi')} {v(a, 'med')} {v(a, 'lo')} {v(a, 'hi')}\n")
print("| N | F/R (s) | p2p-share all done (s) | ÷ F/R | runs ≤ 1.5×F/R | seeder copies | downloaders' upload (copies) | aria2c all done (s) | ÷ F/R | runs ≤ 1.5×F/R | aria2c seeder copies | client-server N×F/R (s) | load (1 min) |")
print("|---:|---:|---:|---:|:---:|---:|---:|---:|---:|:---:|---:|---:|---:|")
print("\n".join(out))
PY
)

MAXN=$(echo "$NS" | tr ' ' '\n' | sort -n | tail -1)
ARIA_PLOT=""; ARIA_MED=""
[ "$ARIA_REPEATS" -gt 1 ] && ARIA_MED=" (median)"
if [ "$ARIA" = 1 ]; then
  ARIA_PLOT=', \
     "" using 1:6 with linespoints lw 2 pt 5 ps 1.3 lc rgb "#ff7f0e" title "aria2c'"$ARIA_MED"'", \
     "" using 1:6:(sprintf("%.1f", $6)) with labels offset 0,1.2 tc rgb "#ff7f0e" notitle'
fi
ARIA_ERR=""
[ "$ARIA_REPEATS" -gt 1 ] && ARIA_ERR=', \
     "" using 1:6:7:8 with yerrorbars lw 1 pt 0 lc rgb "#ff7f0e" title "aria2c min–max"'

P2P_ERR=""
[ "$REPEATS" -gt 1 ] && P2P_ERR=', \
     "" using 1:3:4:5 with yerrorbars lw 1 pt 0 lc rgb "#1f77b4" title "p2p-share min–max"'
gnuplot <<GP
set terminal pngcairo size 1000,650 font "sans,11"
set output "$PNG"
set title "Swarm on loopback: time until all N downloaders hold the file\nF = $F_MIB MiB, every process capped at R = $R_MIB MiB/s upload, F/R = $FR s; p2p-share: median of $REPEATS run(s), aria2c: $ARIA_REPEATS run(s) per N"
set xlabel "N downloaders"
set ylabel "seconds (log scale)"
set logscale x 2
set xrange [0.8:$MAXN * 1.25]
set xtics ($(echo "$NS" | tr ' ' '\n' | awk 'NF{printf "%s\"%s\" %s", (NR>1?", ":""), $1, $1}'))
set logscale y 2
set ytics add ("$(python3 -c "print(f'{1.5 * $FR:g}')")" $FR * 1.5)
set yrange [$FR / 2:$MAXN * $FR * 1.3]
set grid
set key top left
set datafile missing "NaN"
plot "$T/plot.dat" using 1:(\$1 * $FR) with lines dt 3 lw 2 lc rgb "#999999" title "client-server N×F/R", \
     "" using 1:(1.5 * $FR) with lines dt 2 lw 2 lc rgb "#d62728" title "target 1.5×F/R", \
     "" using 1:2 with lines dt 1 lw 1 lc rgb "#000000" title "lower bound F/R"$P2P_ERR$ARIA_ERR, \
     "" using 1:3 with linespoints lw 2 pt 7 ps 1.3 lc rgb "#1f77b4" title "p2p-share$([ "$REPEATS" -gt 1 ] && echo " (median)")", \
     "" using 1:3:(sprintf("%.1f", \$3)) with labels offset 0,-1.2 tc rgb "#1f77b4" notitle$ARIA_PLOT
GP

HOST_INFO="$(nproc) cores, Linux $(uname -r), load average at start $LOAD_START"
VERSIONS="p2p-share $GIT_REV"
[ "$GIT_DIRTY" != 0 ] && VERSIONS+=" (+$GIT_DIRTY uncommitted files in lib/ apps/)"
VERSIONS+=" RelWithDebInfo"
[ "$ARIA" = 1 ] && VERSIONS+="; $(aria2c --version | head -1); $(mktorrent -h 2>&1 | head -1 | sed 's/ (c).*//'); opentracker $(dpkg-query -W -f='${Version}' opentracker 2>/dev/null || echo '?')"
{
  echo "# Swarm scaling benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "$HOST_INFO; $VERSIONS; runs took ${ELAPSED} s."
  echo
  echo "One seeder and N downloaders on loopback, every process capped at R = $R_MIB MiB/s upload, file F = $F_MIB MiB"
  echo "(random). Lower bound F/R = $FR s; target ≤ 1.5×F/R = $(python3 -c "print(f'{1.5 * $FR:g}')") s; a client-server design needs N×F/R."
  echo "\"All done\" = wall clock from starting the N downloaders (together) until the last one finished —"
  echo "p2p-share: DIR/<name> appears (renamed from .partial after every piece and the whole-file hash"
  echo "verified); aria2c: its --on-bt-download-complete hook ran — polled every 0.1 s; afterwards every copy"
  echo "is compared with the source (cmp; a wrong or missing copy counts as not done)."
  echo "p2p-share: median (min–max) of $REPEATS runs per N; aria2c: $ARIA_REPEATS run(s) per N$([ "$ARIA_REPEATS" -gt 1 ] && echo ", median (min–max)")."
  echo "Runs within 1.5×F/R = how many of the runs met the target. Seeder copies = seeder uploaded bytes / F"
  echo "(p2p-seed's \`stopped\` event; aria2c: uploadLength over its RPC), median over runs; downloaders' upload ="
  echo "sum of the downloaders' uploaded_bytes / F. p2p-share piece size: $PIECE_NOTE; aria2c: mktorrent -l 18"
  echo "(262144 bytes). Load: range of the 1-minute load average at the start of the runs of that row."
  echo
  echo "$TABLE"
  echo
  echo "Plot: bench/results/swarm_bench.png; one row per run: bench/results/swarm_bench-latest.dat."
  echo "Reproduce: \`bash bench/swarm_bench.sh\` (env F_MIB=$F_MIB R_MIB=$R_MIB NS=\"$NS\" REPEATS=$REPEATS ARIA_REPEATS=$ARIA_REPEATS"
  echo "P2P_PIECE_SIZE=$P2P_PIECE_SIZE RUN_TIMEOUT=$RUN_TIMEOUT)."
  echo
  echo "Commands (scratch paths vary; the N downloaders are started back to back, each with its own dir):"
  echo
  for c in "${CMDS[@]}"; do echo "    $c"; done
} >"$MD"

echo
echo "Swarm benchmark — $HOST_INFO"
echo "F = $F_MIB MiB, R = $R_MIB MiB/s, F/R = $FR s; p2p piece size $PIECE_NOTE; p2p $REPEATS runs/N, aria2c $ARIA_REPEATS run(s)/N; ${ELAPSED} s"
echo "$TABLE"
echo
echo "wrote ${MD#"$ROOT"/}, ${DAT#"$ROOT"/}, ${PNG#"$ROOT"/}"
