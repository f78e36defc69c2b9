# Shared helpers for end-to-end tests: start the real executables on loopback,
# wait for their "listening HOST:PORT" line, and never leave a process behind.
set -euo pipefail
# A test that sets OWN_LOOPBACK=1 before sourcing this file runs in a network
# namespace of its own whose only interface is lo (when it can make one): a
# port it frees and binds again later, as a seeder that comes back does,
# cannot be taken meanwhile by a test running beside it.
if [ "${OWN_LOOPBACK:-}" = 1 ] && [ -z "${P2P_E2E_OWN_NETNS:-}" ] && command -v unshare >/dev/null &&
   command -v ip >/dev/null && unshare --net true 2>/dev/null; then
  export P2P_E2E_OWN_NETNS=1
  exec unshare --net -- sh -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
BIN=${1:?usage: $0 BIN_DIR}
BIN=$(cd "$BIN" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-e2e.XXXXXX")
PIDS=()

cleanup() {
  local rc=$?
  # A test may define on_cleanup (e.g. to unmount what it mounted); it runs after the kills.
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && wait "$p" 2>/dev/null || true
  done
  if declare -f on_cleanup >/dev/null; then on_cleanup || true; fi
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then  # 77: skipped, nothing to look at
    echo "--- test failed (rc=$rc); logs in $T:" >&2
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 20 "$f" >&2; }; done
  else
    rm -rf "$T"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# start NAME CMD... : runs CMD in the background with output in $T/NAME.log,
# then waits for its "listening HOST:PORT" line (or JSON listening event); sets PORT and LAST_PID.
start() {
  local name=$1; shift
  : >"$T/$name.log"  # exists before the background job opens it: no race with the reader below
  "$@" >>"$T/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  local i
  for i in $(seq 1 600); do
    # The plain form, or the JSON event printed under --json.
    PORT=$(sed -n -e 's/^listening [^ ]*:\([0-9][0-9]*\)$/\1/p' \
                  -e 's/^{"event":"listening",.*"port":\([0-9][0-9]*\)}$/\1/p' "$T/$name.log" | head -n1)
    if [ -n "$PORT" ]; then
      return 0
    fi
    kill -0 "$LAST_PID" 2>/dev/null || { cat "$T/$name.log" >&2; fail "$name exited before listening"; }
    sleep 0.05
  done
  fail "$name did not print its listening line"
}

# stop PID: SIGTERM, wait up to 10 s, then SIGKILL.
stop() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.05
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# random_file PATH BYTES
random_file() { head -c "$2" /dev/urandom >"$1"; }

# expect_exit CODE CMD... : runs CMD, asserts its exit code.
expect_exit() {
  local want=$1; shift
  set +e
  "$@" >"$T/last.out" 2>"$T/last.err"
  local got=$?
  set -e
  [ "$got" -eq "$want" ] || { cat "$T/last.err" >&2; fail "expected exit $want, got $got: $*"; }
}

# make_meta FILE NAME: prints a valid .p2pmeta for FILE published under NAME (made by p2p-create).
make_meta() {
  local dir
  dir=$(mktemp -d "$T/meta.XXXXXX")
  cp "$1" "$dir/$2"
  "$BIN/p2p-create" -q -o "$dir/meta" "$dir/$2"
  cat "$dir/meta"
}

# partial_of META WORKDIR: where p2p-download keeps the data of META while it runs
# (WORKDIR/.p2p/<info hash>.partial; see lib/storage/workdir_layout.hpp).
partial_of() {
  local h
  h=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["info_hash"])' "$1")
  echo "$2/.p2p/$h.partial"
}

# --- Redis (tests of p2p-tracker --store redis://) -----------------------------------

# require_packaging: skip the test (exit 77) unless this build can be packaged and
# installed here: root, dpkg, dpkg-shlibdeps (dpkg-dev) and cpack, a plain (unsanitized)
# build, and no p2p-share package installed already (never touched). Sets BUILD.
require_packaging() {
  BUILD=$(cd "$BIN/.." && pwd)
  [ "$(id -u)" -eq 0 ] || { echo "skip: needs root (namespaces, mounts, dpkg -i)"; exit 77; }
  if ! command -v dpkg >/dev/null || ! command -v cpack >/dev/null || ! command -v dpkg-shlibdeps >/dev/null; then
    echo "skip: needs dpkg, dpkg-shlibdeps (dpkg-dev) and cpack"; exit 77
  fi
  grep -q '^P2P_SANITIZE:STRING=$' "$BUILD/CMakeCache.txt" || { echo "skip: a sanitizer build is not packaged"; exit 77; }
  if dpkg-query -W p2p-share >/dev/null 2>&1; then
    echo "skip: a p2p-share package is installed already: not touching it"; exit 77
  fi
}

# require_redis: skip the test (exit 77) when the Debian package is not installed.
require_redis() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    echo "SKIP: redis-server is not installed (apt-get install redis-server)"
    exit 77
  fi
}

# start_redis: a private redis-server on a free loopback port with its data in
# $T/redis, persisted as docs/TRACKER.md documents (append-only file, fsync every
# second, no RDB snapshots). Redis cannot pick a port itself (--port 0 disables
# TCP), so a free one is found by binding port 0 and retried on a collision.
# Sets REDIS_PORT, REDIS_PID and REDIS_URL; the EXIT trap kills it.
start_redis() {
  mkdir -p "$T/redis"
  local try
  for try in 1 2 3 4 5; do
    REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    run_redis && return 0
  done
  fail "could not start redis-server (see $T/redis.log)"
}

# run_redis: (re)starts redis-server on $REDIS_PORT over $T/redis; waits until
# *this* process answers (not another one that owns the port).
run_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T/redis" --save '' \
    --appendonly yes --appendfsync everysec --daemonize no >>"$T/redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  REDIS_URL=redis://127.0.0.1:$REDIS_PORT
  local i
  for i in $(seq 1 200); do
    kill -0 "$REDIS_PID" 2>/dev/null || return 1
    if redis-cli -p "$REDIS_PORT" info server 2>/dev/null | grep -q "^process_id:$REDIS_PID"; then return 0; fi
    sleep 0.05
  done
  return 1
}

# json EXPR: evaluates a Python expression over the JSON on stdin bound to j, e.g. json 'j["count"]'.
json() { python3 -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# wait_for SECONDS DESCRIPTION CMD...: polls CMD every 0.1 s until it succeeds; fails the test on timeout.
wait_for() {
  local seconds=$1 what=$2 i; shift 2
  for i in $(seq 1 $((seconds * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "timed out after ${seconds}s waiting for $what"
}

# under_sanitizer: true when the suite runs under ASan/TSan (scripts/test.sh sets
# their options): RSS bounds do not hold there (shadow memory, ASan's quarantine).
under_sanitizer() { [ -n "${ASAN_OPTIONS:-}${TSAN_OPTIONS:-}" ]; }

# page_of LOG: sets URL (http://H:P) and TOKEN from the "page http://H:P/#token=T" line.
page_of() {
  local line i
  for i in $(seq 1 200); do
    line=$(grep -m1 '^page http' "$1" || true)
    [ -n "$line" ] && break
    sleep 0.05
  done
  [ -n "$line" ] || fail "no page line in $1"
  URL=$(echo "$line" | sed 's|^page \(http://[^/]*\)/#token=.*|\1|')
  TOKEN=$(echo "$line" | sed 's|.*#token=||')
}
# expect CODE SUBSTRING DESCRIPTION: the last req (CODE, BODY) answered CODE with SUBSTRING in its body.
expect() {
  [ "$CODE" = "$1" ] || fail "$3: want HTTP $1, got $CODE: $BODY"
  case "$BODY" in *"$2"*) ;; *) fail "$3: body lacks '$2': $BODY" ;; esac
  pass "$3"
}
