# Shell helpers for the bench scripts (sourced, not run; they set ROOT first).
# Every background process goes through bg_start so the EXIT trap can stop it.

# No port mapping requests or LAN announces leave this run (docs: README "Across networks").
export P2P_NO_DISCOVERY=1

BG_PIDS=()
BG_SESSIONS=()

# Free page reporting (virtio-balloon in a VM such as this one) hands freed guest memory
# back to the host; a page the kernel then takes for the page cache is faulted in again on
# the host, and writing 1 GiB costs 5-8 s of "system" time instead of 0.2 s, at random,
# to whichever program happens to write (a download, rsync, aria2c). While a bench runs,
# nothing is reported (page_reporting_order above the largest order); stop_all puts the
# setting back. Root only; elsewhere the parameter does not exist and nothing changes.
PAGE_REPORTING_ORDER_FILE=/sys/module/page_reporting/parameters/page_reporting_order
PAGE_REPORTING_ORDER_WAS=
if [ -w "$PAGE_REPORTING_ORDER_FILE" ]; then
  PAGE_REPORTING_ORDER_WAS=$(cat "$PAGE_REPORTING_ORDER_FILE")
  if echo 11 >"$PAGE_REPORTING_ORDER_FILE" 2>/dev/null; then
    printf '== free page reporting held for this run (page_reporting_order %s -> 11)\n' "$PAGE_REPORTING_ORDER_WAS" >&2
  else
    PAGE_REPORTING_ORDER_WAS=
  fi
fi
# DAMON (a kdamond running a "pageout" scheme on physical memory, as this VM's kernel does)
# evicts memory left idle for a few seconds, page cache included, with 21 GiB free: a meta,
# a tree or the binaries a bench read a minute earlier come from the disk again (6.4 GB
# paged out in this machine's first 100 minutes; a 127 MiB meta found 40 % cached).
# While a bench runs every kdamond that is on is turned off, and back on at the end.
DAMON_KDAMONDS_WERE_ON=()
for kdamond in /sys/kernel/mm/damon/admin/kdamonds/[0-9]*; do
  [ -w "$kdamond/state" ] && [ "$(cat "$kdamond/state" 2>/dev/null)" = on ] || continue
  if echo off >"$kdamond/state" 2>/dev/null; then
    DAMON_KDAMONDS_WERE_ON+=("$kdamond")
    printf '== DAMON held for this run (%s off)\n' "$kdamond" >&2
  fi
done
unset kdamond
# Puts back what was held above; safe to call more than once.
restore_host_memory() {
  local kdamond
  [ -n "$PAGE_REPORTING_ORDER_WAS" ] && echo "$PAGE_REPORTING_ORDER_WAS" >"$PAGE_REPORTING_ORDER_FILE" 2>/dev/null
  PAGE_REPORTING_ORDER_WAS=
  for kdamond in "${DAMON_KDAMONDS_WERE_ON[@]}"; do echo on >"$kdamond/state" 2>/dev/null; done
  DAMON_KDAMONDS_WERE_ON=()
  return 0
}
# Put back even if the bench dies before it sets its own EXIT trap (each bench's own
# cleanup, which replaces this trap, calls restore_host_memory too).
trap restore_host_memory EXIT

log() { printf '== %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# build_binaries: scripts/build.sh (RelWithDebInfo into build/) unless P2P_BENCH_SKIP_BUILD=1;
# sets BIN and checks that the programs are there.
build_binaries() {
  if [ "${P2P_BENCH_SKIP_BUILD:-0}" != 1 ]; then
    log "building (scripts/build.sh: RelWithDebInfo into build/)"
    "$ROOT/scripts/build.sh" >/dev/null
  fi
  BIN=$ROOT/build/bin
  local b
  for b in p2p-create p2p-seed p2p-download; do [ -x "$BIN/$b" ] || die "$BIN/$b is missing (run scripts/build.sh)"; done
}

# bg_start LOGFILE CMD...: runs CMD in the background (stdout+stderr to LOGFILE), sets BG_PID.
bg_start() {
  local logfile=$1; shift
  "$@" >"$logfile" 2>&1 &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# is_running PID: true while PID exists and is not a zombie.
is_running() {
  local st
  st=$(sed -E 's/^.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# stop_pid PID [GRACE_SECONDS]: SIGTERM, wait up to GRACE (default 10) s, then SIGKILL; reaps it.
stop_pid() {
  local pid=$1 grace=${2:-10} i
  [ -n "$pid" ] || return 0
  if is_running "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do is_running "$pid" || break; sleep 0.1; done
    if is_running "$pid"; then
      echo "${0##*/}: pid $pid ignored SIGTERM for ${grace}s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
  local kept=() p
  for p in "${BG_PIDS[@]}"; do [ "$p" != "$pid" ] && kept+=("$p"); done
  BG_PIDS=("${kept[@]}")
}

# kill_session SID: SIGTERM, then after 2 s SIGKILL, to every process of session SID (one
# started by run_bounded), one pid at a time.
kill_session() {
  local sid=$1 sig p pids
  for sig in TERM KILL; do
    pids=$(ps -e -o pid=,sid= | awk -v s="$sid" '$2 == s {print $1}')
    [ -n "$pids" ] || break
    for p in $pids; do kill -"$sig" "$p" 2>/dev/null || true; done
    [ "$sig" = TERM ] && sleep 2
  done
}

# run_bounded TIMEOUT CMD...: runs CMD in a new session in the foreground of this script; after
# TIMEOUT seconds kills the whole session (CMD and everything it started). Returns CMD's status.
run_bounded() {
  local timeout=$1 pid i rc=0; shift
  setsid -w "$@" &
  pid=$!
  BG_SESSIONS+=("$pid")
  for ((i = 0; i < timeout * 10; i++)); do is_running "$pid" || break; sleep 0.1; done
  if is_running "$pid"; then
    echo "${0##*/}: '$*' still running after ${timeout}s; killing it" >&2
    kill_session "$pid"
  fi
  wait "$pid" || rc=$?
  local kept=() p
  for p in "${BG_SESSIONS[@]}"; do [ "$p" != "$pid" ] && kept+=("$p"); done
  BG_SESSIONS=("${kept[@]}")
  return "$rc"
}

# stop_all: stops every bounded command's session, then every tracked process, newest first
# (downloaders/seeders before the tracker).
stop_all() {
  local i
  for ((i = ${#BG_SESSIONS[@]} - 1; i >= 0; i--)); do kill_session "${BG_SESSIONS[i]}"; done
  for ((i = ${#BG_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${BG_PIDS[i]}" 5; done
  restore_host_memory
}

# wait_until TIMEOUT_SECONDS DESCRIPTION CMD...: polls CMD every 0.1 s; dies on timeout.
wait_until() {
  local timeout=$1 what=$2 i; shift 2
  for ((i = 0; i < timeout * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "timed out after ${timeout}s waiting for $what"
}

# wrk_rps FILE, wrk_p99_ms FILE: requests/s and the 99th-percentile latency in ms from the
# output of `wrk --latency` (which prints the latency in us, ms or s).
wrk_rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
wrk_p99_ms() {
  awk '/Latency Distribution/{f=1} f && $1=="99%"{v=$2; u=v; sub(/[0-9.]+/,"",u); sub(/[a-z]+$/,"",v);
       if (u=="us") v/=1000; else if (u=="s") v*=1000; printf "%.2f\n", v; exit}' "$1"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# proc_cpu PID: "user_seconds sys_seconds" consumed so far by PID.
proc_cpu() {
  local tck; tck=$(getconf CLK_TCK)
  sed -E 's/^.*\) //' "/proc/$1/stat" | awk -v t="$tck" '{printf "%.3f %.3f\n", $12 / t, $13 / t}'
}

# proc_hwm PID: peak resident set size (VmHWM) in KiB.
proc_hwm() { awk '/^VmHWM/{print $2}' "/proc/$1/status"; }

# calc EXPR: floating point arithmetic via python3.
calc() { python3 -c "print(f'{($1):.6f}')"; }

# q ARGS...: shell-quoted words, for command strings handed to hyperfine.
q() { local s; s=$(printf '%q ' "$@"); printf '%s' "${s% }"; }

# ---- peers in network namespaces (bench/netns_swarm_bench.sh, bench/wan_bench.sh) --------------
# Used after sourcing scripts/netns/harness.sh, with nodes named seed and tracker (and d1..dN),
# and these set: BIN (p2p-share programs), META + SRC (the .p2pmeta and the source file),
# SEED_ADDR, T (scratch: T/data holds the source for aria2c and libtorrent, T/ot opentracker's
# whitelist), TORRENT + INFOHASH + TRACKER_ADDR (mktorrent's .torrent announcing to opentracker
# on the tracker node), LT_PY (Debian's python with python3-libtorrent), ROOT; optional
# P2P_DL_ARGS and P2P_SEED_ARGS (extra p2p-download / p2p-seed flags, experiments only),
# P2P_UPLOAD_PCT with NODE_CAP (associative array, node name -> its upload cap in bytes/s):
# each p2p-download gets --max-upload-rate at that percentage of its node's cap.
# Every program runs with its defaults.

# json_last LOG EVENT FIELD: FIELD of the last EVENT line in LOG (empty if none)
json_last() {
  python3 -c 'import json,sys
v = ""
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    if isinstance(e, dict) and e.get("event") == sys.argv[2] and sys.argv[3] in e: v = e[sys.argv[3]]
print(v)' "$@" 2>/dev/null || true
}

# cpu_seconds PID...: user + system CPU seconds used so far by these processes (all threads).
cpu_seconds() {
  local p tck total=0 u st
  tck=$(getconf CLK_TCK)
  for p in "$@"; do
    read -r u st < <(sed -E 's/^.*\) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12, $13}') || continue
    total=$((total + ${u:-0} + ${st:-0}))
  done
  python3 -c "print(f'{$total / $tck:.1f}')"
}

# poll_pause SECONDS: a pause with no process started (`read -t` on a FIFO nobody writes):
# the completion loops run while the measured peers need every cycle of the machine, and a
# `sleep` is a fork and an exec each time.
poll_pause() {
  if [ -z "${POLL_FD:-}" ]; then
    local f; f=$(mktemp -u "${TMPDIR:-/tmp}/p2p-poll.XXXXXX"); mkfifo "$f"
    exec {POLL_FD}<>"$f"; rm -f "$f"   # held open read-write: `read` waits, never sees EOF
  fi
  read -r -t "$1" -u "$POLL_FD" _ || true
}

# start_seeder TOOL DIR: starts the tool's seeder (and for the anchors, opentracker first).
start_seeder() {
  local tool=$1 dir=$2 i
  case $tool in
    p2p)
      SEED_CMD=("$BIN/p2p-seed" --meta "$META" --source "$SRC" --port 6881 --workdir "$dir/seedwd" --json
                ${P2P_SEED_ARGS:-})
      nsh_spawn seed "$dir/seed.log" "${SEED_CMD[@]}"; SEED_PID=$NSH_PID
      for ((i = 0; i < 200; i++)); do
        grep -q '"event":"listening"' "$dir/seed.log" 2>/dev/null && return 0
        nsh_running "$SEED_PID" || die "p2p-seed exited: $(cat "$dir/seed.log")"
        sleep 0.05
      done
      die "p2p-seed did not start" ;;
    aria|lt)
      nsh_spawn tracker "$dir/ot.log" sh -c "cd '$T/ot' && exec opentracker -i $TRACKER_ADDR -p 6969 -P 6969 -d '$T/ot' -w /whitelist"
      OT_PID=$NSH_PID
      if [ "$tool" = aria ]; then
        SEED_CMD=(aria2c --enable-dht=false --bt-enable-lpd=false --seed-ratio=0.0 --dir="$T/data" -V
                  --enable-rpc --rpc-listen-port=6800 "$TORRENT")
      else
        SEED_CMD=("$LT_PY" "$ROOT/bench/lt_swarm_node.py" "$TORRENT" "$T/data" --seed)
      fi
      nsh_spawn seed "$dir/seed.log" "${SEED_CMD[@]}"; SEED_PID=$NSH_PID
      # ready once opentracker lists the seeder as complete
      local url="http://$TRACKER_ADDR:6969/scrape?info_hash=$(echo "$INFOHASH" | sed 's/../%&/g')"
      for ((i = 0; i < 600; i++)); do
        nsh_exec tracker curl -sf "$url" 2>/dev/null | grep -aq '8:completei[1-9]' && return 0
        nsh_running "$SEED_PID" || die "$tool seeder exited: $(tail -5 "$dir/seed.log")"
        sleep 0.1
      done
      die "$tool seeder never announced itself complete: $(tail -5 "$dir/seed.log")" ;;
  esac
}
# start_leecher TOOL DIR I: downloader I; its completion time goes to DIR/done.I.
start_leecher() {
  local tool=$1 dir=$2 i=$3
  mkdir -p "$dir/d$i"
  case $tool in
    p2p) DL_CMD=("$BIN/p2p-download" --meta "$META" --peer "$SEED_ADDR:6881" --workdir "$dir/d$i" --seed --json
                 ${P2P_DL_ARGS:-})
         # P2P_UPLOAD_PCT (a tuned figure, never the default one): --max-upload-rate at that
         # percentage of the node's kernel cap, where the bench set one (NODE_CAP).
         if [ -n "${P2P_UPLOAD_PCT:-}" ] && declare -p NODE_CAP &>/dev/null && [ -n "${NODE_CAP[d$i]:-}" ]; then
           DL_CMD+=(--max-upload-rate "$((NODE_CAP[d$i] * P2P_UPLOAD_PCT / 100))")
         fi ;;
    aria) DL_CMD=(aria2c --enable-dht=false --bt-enable-lpd=false --seed-ratio=0.0 --dir="$dir/d$i"
                  --on-bt-download-complete="$T/aria-done.sh" "$TORRENT") ;;
    lt) DL_CMD=("$LT_PY" "$ROOT/bench/lt_swarm_node.py" "$TORRENT" "$dir/d$i" "$dir/done.$i") ;;
  esac
  if [ "${#LEECHER_GATE[@]}" -gt 0 ]; then
    # Held at the gate (start_leechers_together): the gate opened, then "ready", then one
    # line read from the gate (a shell reads a pipe a byte at a time), then the tool itself.
    nsh_spawn "d$i" "$dir/dl$i.log" sh -c 'exec 3<"$2"; echo >"$1"; read -r _ <&3; exec 3<&-; shift 2; exec "$@"' \
      leecher-gate "${LEECHER_GATE[@]}" "${DL_CMD[@]}"
  else
    nsh_spawn "d$i" "$dir/dl$i.log" "${DL_CMD[@]}"
  fi
  DL_PID[$i]=$NSH_PID
}
LEECHER_GATE=()

# start_leechers_together TOOL DIR LAST: downloaders 1..LAST, all released at one moment,
# which it stores in t0 (EPOCHREALTIME). Each is spawned first (its folder, `ip netns exec`,
# a shell) and waits at a gate, a FIFO, until it reads a line there; the bench writes LAST
# lines at once. Launched one after another instead, 32 downloaders took the bench 1.8-2.4 s
# to start (a fork and exec of mkdir and ip each, on the two cores the first ones were
# already using): the last began ~2 s after the clock, whichever tool was measured.
start_leechers_together() {
  local tool=$1 dir=$2 last=$3 i ready_fd gate_fd lines
  mkfifo "$dir/leechers-ready" "$dir/leechers-gate"
  # Held open for reading and writing: nobody's open() blocks, and what is written waits in the pipe.
  exec {ready_fd}<>"$dir/leechers-ready" {gate_fd}<>"$dir/leechers-gate"
  LEECHER_GATE=("$dir/leechers-ready" "$dir/leechers-gate")
  for ((i = 1; i <= last; i++)); do start_leecher "$tool" "$dir" "$i"; done
  LEECHER_GATE=()
  for ((i = 1; i <= last; i++)); do
    read -r -t 60 -u "$ready_fd" _ || die "downloader $i of $last never reached the start gate"
  done
  printf -v lines '%*s' "$last" ''
  t0=$EPOCHREALTIME
  printf '%s' "${lines// /$'\n'}" >&"$gate_fd"
  exec {ready_fd}>&- {gate_fd}>&-   # every downloader holds the gate open until it has read its line
  rm -f "$dir/leechers-ready" "$dir/leechers-gate"
}
write_aria_done_hook() {
cat >"$T/aria-done.sh" <<'SH'
#!/bin/sh
# aria2c --on-bt-download-complete hook: $3 = RUN/dI/NAME -> RUN/done.I
t=$(date +%s.%N); d=$(dirname "$3")
echo "$t" >"$d/../done.$(basename "$d" | tr -d d)"
SH
chmod +x "$T/aria-done.sh"
}

# seeder_uploaded TOOL DIR: bytes the seeder uploaded; stops it (the seeder goes first so that
# the figure is what it sent while the swarm downloaded).
seeder_uploaded() {
  local tool=$1 dir=$2 up=""
  case $tool in
    aria) up=$(nsh_exec seed curl -sf "http://127.0.0.1:6800/jsonrpc" \
                 -d '{"jsonrpc":"2.0","id":"b","method":"aria2.tellActive","params":[["uploadLength"]]}' |
               python3 -c 'import json,sys; print(sum(int(d["uploadLength"]) for d in json.load(sys.stdin)["result"]))' || true) ;;
  esac
  nsh_running "$SEED_PID" && nsh_stop 10 "$SEED_PID"
  case $tool in
    p2p) up=$(json_last "$dir/seed.log" stopped uploaded_bytes) ;;
    lt) up=$(sed -n 's/^uploaded \([0-9]*\)$/\1/p' "$dir/seed.log" | tail -1) ;;
  esac
  echo "$up"
}

# netns_bench_setup NAME: for the benches in network namespaces. Builds (unless
# P2P_BENCH_SKIP_BUILD=1), sources scripts/netns/harness.sh, makes the scratch folder $T
# (p2p-NAME.XXXXXX) and starts the harness (exits with its 77 where namespaces cannot be
# made). Teardown removes $T, or keeps its runs/ logs with KEEP_SCRATCH=1.
netns_bench_setup() {
  if [ "${P2P_BENCH_SKIP_BUILD:-0}" != 1 ]; then
    log "building (scripts/build.sh)"
    "$ROOT/scripts/build.sh" >/dev/null
  fi
  source "$ROOT/scripts/netns/harness.sh"
  T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-$1.XXXXXX")
  nsh_on_teardown() {
    restore_host_memory
    if [ "${KEEP_SCRATCH:-0}" = 1 ]; then
      rm -rf "${T:?}/data" "${T:?}/bin"; echo "${0##*/}: logs kept in $T/runs" >&2
    else
      rm -rf "$T"
    fi
  }
  local rc=0
  nsh_init || rc=$?
  [ "$rc" = 0 ] || exit "$rc"
}
