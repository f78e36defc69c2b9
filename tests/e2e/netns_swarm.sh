#!/usr/bin/env bash
# A small swarm on a real (virtual) network: one seeder and 4 downloaders, each in its own
# network namespace with its upload capped by the kernel (tbf), every program run with its
# default flags. Asserts that (1) all 4 finish with byte-identical copies, and (2) with a
# seeder (on a 4x faster link) that leaves (SIGTERM) as soon as its /metrics say its peers
# hold every piece between them (p2p_file_distributed_copies >= 1), while some downloader is
# still incomplete, the 4 still all finish from each other. No timing assertions (the times
# are printed). Initial seeding sends each piece about once, so that moment comes shortly
# before the downloaders finish: the leave is decided on the seeder's live gauge (polled
# every 0.05 s, the loop itself kept cheap: since initial seeding ends once the copy is out
# and the seeder then serves everyone, the moment lasts about a second).
# Needs root for `ip netns`; skips with 77 where namespaces cannot be created.
# Uses only the addresses scripts/netns/harness.sh assigns inside the namespaces it creates,
# and checks at the end that no namespace of this run is left.
set -euo pipefail
# $EPOCHREALTIME's decimal point follows the locale (LC_ALL overrides LC_NUMERIC); the arithmetic
# below and python's reading of it need a '.'.
export LC_ALL=C
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/scripts/netns/harness.sh"

N=4
F=$((12 * 1024 * 1024))   # 12 MiB: F/R = 6 s at the cap below
R=$((2 * 1024 * 1024))    # every node's upload, bytes/s (tbf)
WAIT=45                   # seconds a case may take before it counts as not finishing
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-netns.XXXXXX")

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
nsh_on_teardown() {
  if [ "$NSH_EXIT_RC" != 0 ] && [ "$NSH_EXIT_RC" != 77 ]; then
    rm -f "$T"/f.bin "$T"/*/d*/f.bin "$T"/*/d*/f.bin.partial   # keep the logs, not the copies
    echo "--- test failed (rc=$NSH_EXIT_RC); logs in $T:" >&2
    for f in "$T"/*/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 8 "$f" >&2; }; done
  else
    rm -rf "$T"
  fi
}
rc=0; nsh_init || rc=$?
[ "$rc" = 0 ] || exit "$rc"
PREFIX=$NSH_PREFIX

head -c "$F" /dev/urandom >"$T/f.bin"
"$BIN/p2p-create" -q "$T/f.bin"   # automatic piece size, as a new user would
M=$T/f.bin.p2pmeta
nsh_node seed "$R"
for ((i = 1; i <= N; i++)); do nsh_node "d$i" "$R"; done
SEED_ADDR=${NSH_ADDR[seed]}

# last_uploaded LOG: uploaded_bytes of the last progress event in a --json log (0 if none).
last_uploaded() {
  local v
  v=$(grep '"event":"progress"' "$1" 2>/dev/null | tail -n1 | sed -n 's/.*"uploaded_bytes":\([0-9]*\).*/\1/p' || true)
  echo "${v:-0}"
}

# seed_metric ADDR NAME: a value from the seeder's /metrics (0 if unknown); the first series
# of NAME (one file here, so one series).
seed_metric() {
  local v
  v=$(nsh_exec seed curl -s --max-time 2 "http://$1/metrics" 2>/dev/null |
    awk -v n="$2" '$1 == n || index($1, n "{") == 1 { print $2; exit }' || true)
  echo "${v:-0}"
}
seed_sent() { seed_metric "$1" p2p_net_sent_payload_bytes_total | awk '{ printf "%d", $1 }'; }
# peers_hold_a_copy ADDR: the seeder's connected peers hold every piece between them
# (distributed copies >= 1): the seeder can leave without the swarm losing a piece. Its
# sent-bytes counter is no such signal: an endgame duplicate can use up the bytes of F while
# one piece was never sent.
peers_hold_a_copy() { awk -v c="$(seed_metric "$1" p2p_file_distributed_copies)" 'BEGIN { exit !(c >= 1) }'; }

# run_case NAME LEAVE: the seeder and N downloaders (fresh workdirs); LEAVE=1 stops the seeder
# once its peers hold every piece between them. Sets SECONDS_TAKEN and SEED_UP (seeder's uploaded bytes).
run_case() {
  local name=$1 leave=$2 dir=$T/$1 i t0 done_count seed_pid left_at="" dl_pids=() http sent
  mkdir -p "$dir"
  nsh_spawn seed "$dir/seed.log" "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --port 6881 --workdir "$dir/seed" --json \
    --http 127.0.0.1:0
  seed_pid=$NSH_PID
  for i in $(seq 1 200); do
    grep -q '"event":"listening"' "$dir/seed.log" && grep -q '"event":"http"' "$dir/seed.log" && break
    nsh_running "$seed_pid" || fail "$name: p2p-seed exited: $(tail -n 3 "$dir/seed.log")"
    sleep 0.05
  done
  http=$(grep -m1 '"event":"http"' "$dir/seed.log" | sed -n 's/.*"address":"\([^"]*\)".*/\1/p')
  [ -n "$http" ] || fail "$name: p2p-seed did not report its --http address: $(tail -n 3 "$dir/seed.log")"
  t0=$EPOCHREALTIME
  for ((i = 1; i <= N; i++)); do
    nsh_spawn "d$i" "$dir/d$i.log" "$BIN/p2p-download" --meta "$M" --peer "$SEED_ADDR:6881" --workdir "$dir/d$i" \
      --seed --json
    dl_pids+=("$NSH_PID")
  done
  while :; do
    done_count=0
    for ((i = 1; i <= N; i++)); do [ -f "$dir/d$i/f.bin" ] && done_count=$((done_count + 1)); done
    [ "$done_count" = "$N" ] && break
    if [ "$leave" = 1 ] && [ -z "$left_at" ] && peers_hold_a_copy "$http"; then
      SEED_UP=$(seed_sent "$http")
      nsh_stop 10 "$seed_pid"
      left_at=$(python3 -c "print(f'{$EPOCHREALTIME - $t0:.1f}')")
      echo "   $name: seeder left at ${left_at} s having uploaded $SEED_UP bytes ($done_count of $N done)"
    fi
    for ((i = 1; i <= N; i++)); do
      [ -f "$dir/d$i/f.bin" ] || nsh_running "${dl_pids[i - 1]}" ||
        fail "$name: downloader d$i exited unfinished: $(tail -n 2 "$dir/d$i.log")"
    done
    # Shell arithmetic on microseconds, not a python call: python3 can be a pyenv shim taking
    # a third of a CPU-second, which made one turn of this loop longer than the moment it
    # watches for (a fresh-clone CI once missed it).
    [ $((${EPOCHREALTIME/./} - ${t0/./})) -lt $((WAIT * 1000000)) ] ||
      fail "$name: only $done_count of $N downloaders finished within $WAIT s$([ -n "$left_at" ] && echo " (seeder left at $left_at s)")"
    sleep 0.05
  done
  SECONDS_TAKEN=$(python3 -c "print(f'{$EPOCHREALTIME - $t0:.1f}')")
  if [ "$leave" = 1 ]; then
    [ -n "$left_at" ] || fail "$name: everyone finished before the seeder's peers held one copy ($(seed_sent "$http") bytes sent)"
  else
    SEED_UP=$(last_uploaded "$dir/seed.log")
  fi
  for ((i = 1; i <= N; i++)); do cmp "$T/f.bin" "$dir/d$i/f.bin" || fail "$name: d$i's copy differs"; done
  nsh_stop 10 "${dl_pids[@]}"
  nsh_running "$seed_pid" && nsh_stop 10 "$seed_pid"
  return 0
}

run_case all 0
pass "$N downloaders in namespaces (tbf $((R >> 20)) MiB/s each, default flags) hold identical copies" \
  "after ${SECONDS_TAKEN} s (F/R = $((F / R)) s; seeder sent ≥ $(python3 -c "print(f'{$SEED_UP / $F:.2f}')") copies)"
# The seeder's link is made 4x faster here, so that its one copy is out long before the
# downloaders could have traded everything: they must finish from each other alone.
nsh_shape seed $((4 * R))
run_case seeder_leaves 1
pass "seeder left once its peers held one copy between them; all $N still finished with identical copies after ${SECONDS_TAKEN} s"

nsh_teardown
left=$(nsh_leftovers "$PREFIX")
[ -z "$left" ] || fail "namespaces left behind: $left"
pass "no namespace of this run is left"
