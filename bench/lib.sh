# Shell helpers for the bench scripts (sourced, not run; they set ROOT first).
# Every background process goes through bg_start so the EXIT trap can stop it.

# No port mapping requests or LAN announces leave this run (docs: README "Across networks").
export P2P_NO_DISCOVERY=1

BG_PIDS=()
BG_SESSIONS=()

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
