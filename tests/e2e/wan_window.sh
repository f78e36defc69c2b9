#!/usr/bin/env bash
# The request window follows the link, not a constant (issue 21): one connection between two
# network namespaces with a 100 ms round trip (scripts/netns/harness.sh's nsh_delay: a
# delay_relay, 50 ms each way), no rate cap, default flags, a 160 MiB file (48 MiB came to take
# under a second: too short to time a second half or to be sure of reading the API while it ran).
# A downloader whose window were fixed at 4 MiB could get at most 4 MiB per round trip, 40 MiB/s;
# this asserts more than 1.5 times that (> 60 MiB/s), measured by the relay over the second half
# of the file (from the 80th MiB delivered to the last: past the start-up and the window's ramp-up),
# and more than a fixed 4 MiB window could deliver in that interval even at its best
# (4 MiB × (interval / RTT + 1)); and that the copy is byte-identical. A shape check, not a
# timing goal: it fails if the window is fixed again. One more attempt if the first falls
# short (a busy machine); a fixed window falls short in both. Also: the round trip the
# downloader measures on the connection (its API's `round_trip_ms`, polled while it runs) is
# never below the relay's 100 ms: a block of a request dropped by a choke once measured 9 ms
# there and held a long link at the 8 MiB base budget.
# Needs root for `ip netns` and nftables; skips with 77 where namespaces cannot be made, and
# in sanitizer builds (scripts/test.sh leaves it out of its ASan mode: a throughput shape).
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/scripts/netns/harness.sh"

F=$((160 << 20))
RTT_MS=100
FIXED_WINDOW=$((4 << 20))   # what the pipeline's former per-connection cap allowed in flight
FROM_MIB=80                 # the steady rate is measured from this MiB on (the second half)
WAIT=120                    # seconds the download may take before the test fails
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-wan.XXXXXX")
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

deps=$(ldd "$BIN/p2p-download" 2>/dev/null || true)  # read whole: `| grep -q` races under pipefail
if [[ $deps == *lib[at]san* ]]; then
  echo "skipped: a sanitizer build (a throughput shape check means nothing there)" >&2
  exit 77
fi
nsh_on_teardown() {
  if [ "$NSH_EXIT_RC" != 0 ] && [ "$NSH_EXIT_RC" != 77 ]; then
    echo "--- test failed (rc=$NSH_EXIT_RC); logs:" >&2
    for f in "$T"/*.log "${NSH_DELAY_DIR:-/nonexistent}"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -c 600 "$f" >&2; echo >&2; }; done
  fi
  rm -rf "$T"
}
rc=0; nsh_init || rc=$?
[ "$rc" = 0 ] || exit "$rc"
PREFIX=$NSH_PREFIX

head -c "$F" /dev/urandom >"$T/f.bin"
"$BIN/p2p-create" -q "$T/f.bin"
nsh_node seed 0
nsh_node dl 0
NSH_RELAY=$BIN/delay_relay NSH_DELAY_STATS=1
rc=0; nsh_delay dl seed "$RTT_MS" || rc=$?
[ "$rc" = 0 ] || exit "$rc"

# await_line FILE REGEX PID WHAT: waits up to 20 s for a line of FILE matching REGEX while PID runs.
await_line() {
  local file=$1 regex=$2 pid=$3 what=$4 i
  for ((i = 0; i < 400; i++)); do
    grep -qE "$regex" "$file" 2>/dev/null && return 0
    nsh_running "$pid" || fail "$what exited: $(tail -n 3 "$file")"
    sleep 0.05
  done
  fail "$what did not start within 20 s"
}

# attempt N: a fresh seeder and download; checks the copy, sets MIB_S (the relay's rate over the
# second half) and NEED (what it must beat), and prints the figures.
attempt() {
  local n=$1 i t0 wall rc stats lines dir=$T/try$1 mib_s overall secs fixed best per_rtt
  stats=${NSH_DELAY_LOG[dl>seed]}
  lines=$(wc -l <"$stats")
  nsh_spawn seed "$dir-seed.log" "$BIN/p2p-seed" --meta "$T/f.bin.p2pmeta" --source "$T/f.bin" --port 6881 \
    --workdir "$dir/seedwd" --json
  SEED_PID=$NSH_PID
  await_line "$dir-seed.log" '"event":"listening"' "$SEED_PID" p2p-seed

  # The round trips the downloader measures, every 20 ms from inside its namespace until its API
  # closes. Started (and its imports done) before the download: a transfer of about a second
  # was once over before a poller started after it under a loaded CI had read the API once.
  nsh_spawn dl "$dir-rtt.txt" python3 -c '
import json, sys, time, urllib.request
print("polling", flush=True)
seen, until = False, time.time() + float(sys.argv[1])
while time.time() < until:
    try:
        st = json.load(urllib.request.urlopen("http://127.0.0.1:7080/api/status", timeout=1))
    except Exception:
        if seen: break
        time.sleep(0.02); continue
    seen = True
    for f in st.get("files", []):
        for p in f.get("peer_list", []):
            if p.get("round_trip_ms", 0) > 0: print(p["round_trip_ms"], flush=True)
    time.sleep(0.02)' "$WAIT"
  POLL_PID=$NSH_PID
  await_line "$dir-rtt.txt" '^polling$' "$POLL_PID" "the API poller"

  t0=$EPOCHREALTIME
  nsh_spawn dl "$dir-dl.log" "$BIN/p2p-download" --meta "$T/f.bin.p2pmeta" --peer "${NSH_ADDR[seed]}:6881" \
    --workdir "$dir/dl" --json --http 127.0.0.1:7080
  DL_PID=$NSH_PID
  # Builtins only while it runs (microseconds): a python3 per check (a pyenv shim here,
  # ~0.35 CPU-s each) took CPU from the transfer being measured.
  local deadline_us=$((${t0/./} + WAIT * 1000000))
  while nsh_running "$DL_PID"; do
    [ "${EPOCHREALTIME/./}" -lt "$deadline_us" ] ||
      fail "the download did not finish within $WAIT s: $(tail -n 2 "$dir-dl.log")"
    sleep 0.1
  done
  nsh_stop 2 "$POLL_PID"   # it ends by itself once the API closes; not if it never saw it
  wall=$(python3 -c "print(f'{$EPOCHREALTIME - $t0:.2f}')")
  rc=0; wait "$DL_PID" || rc=$?
  [ "$rc" = 0 ] || fail "p2p-download exited with $rc: $(tail -n 3 "$dir-dl.log")"
  cmp "$T/f.bin" "$dir/dl/f.bin" || fail "the downloaded copy differs"
  pass "attempt $n: $((F >> 20)) MiB through a ${RTT_MS} ms round trip, byte-identical, in $wall s (wall, from start)"
  local samples low
  samples=$(grep -cE '^[0-9.]+$' "$dir-rtt.txt" || true)
  [ "$samples" -gt 0 ] || fail "no round trip read from the downloader's /api/status while it ran: $(tail -n 2 "$dir-rtt.txt")"
  low=$(grep -E '^[0-9.]+$' "$dir-rtt.txt" | sort -g | head -n 1)
  python3 -c "import sys; sys.exit(0 if $low >= 0.9 * $RTT_MS else 1)" ||
    fail "the downloader measured a round trip of $low ms on a ${RTT_MS} ms link ($samples samples of /api/status)"
  pass "attempt $n: the round trip measured stayed at or above ${RTT_MS} ms (lowest $low ms in $samples samples)"

  # The relay prints the connection's figures once both sides have closed it.
  nsh_stop 10 "$SEED_PID"
  for ((i = 0; i < 100; i++)); do tail -n +"$((lines + 1))" "$stats" | grep -q '"event": *"closed"' && break; sleep 0.05; done
  [ -n "${WAN_WINDOW_KEEP:-}" ] && cp "$stats" "$WAN_WINDOW_KEEP"
  tail -n +"$((lines + 1))" "$stats" >"$dir-stats.json"
  read -r mib_s overall secs <<<"$(python3 - "$dir-stats.json" "$F" "$FROM_MIB" <<'PY'
import json, sys
stats, F, k0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
conns = []
for line in open(stats):
    try: e = json.loads(line)
    except ValueError: continue
    if isinstance(e, dict) and e.get("event") == "closed": conns.append(e)
if not conns:
    print("none none none"); sys.exit()
c = max(conns, key=lambda e: e["bytes_down"])
if c["bytes_down"] < 0.9 * F:   # the piece bytes did not cross the relay
    print(f"short:{c['bytes_down']} none none"); sys.exit()
ms = c["down_mib_ms"]
secs = (ms[-1] - ms[k0 - 1]) / 1000
print(f"{(len(ms) - k0) / secs:.1f} {len(ms) / (ms[-1] / 1000):.1f} {secs:.3f}")
PY
)"
  case $mib_s in
    none) fail "the delay relay reported no connection (was the transfer not relayed?)" ;;
    short:*) fail "the relayed connection carried only ${mib_s#short:} bytes of $F (did the download bypass the relay?)" ;;
  esac
  fixed=$(python3 -c "print(f'{$FIXED_WINDOW / 1048576 / ($RTT_MS / 1000):.0f}')")
  # the most a fixed window could show over an interval this short (a window's worth at each end)
  best=$(python3 -c "print(f'{$FIXED_WINDOW / 1048576 * ($secs / ($RTT_MS / 1000) + 1) / $secs:.1f}')")
  NEED=$(python3 -c "print(max(1.5 * $fixed, $best))")
  per_rtt=$(python3 -c "print(f'{$mib_s * $RTT_MS / 1000:.2f}')")
  echo "   one connection, RTT ${RTT_MS} ms, uncapped: $mib_s MiB/s from MiB $FROM_MIB to the end, in $secs s" \
    "($per_rtt MiB per round trip; $overall MiB/s over the whole connection); a fixed 4 MiB window: ≤ $fixed MiB/s" \
    "(≤ $best MiB/s over an interval of $secs s)"
  MIB_S=$mib_s PER_RTT=$per_rtt FIXED=$fixed BEST=$best
}

# A second attempt only if the first falls short: a fixed window falls short in both; a
# window that follows the link should not fall short twice on a busy machine.
attempt 1
if ! python3 -c "import sys; sys.exit(0 if $MIB_S > $NEED else 1)"; then
  echo "   attempt 1: $MIB_S MiB/s is not above $NEED MiB/s; once more" >&2
  attempt 2
fi
python3 -c "import sys; sys.exit(0 if $MIB_S > $NEED else 1)" ||
  fail "$MIB_S MiB/s at RTT ${RTT_MS} ms is not above $NEED MiB/s (1.5 × $FIXED, and $BEST): the request window does not follow the link ($PER_RTT MiB in flight per round trip)"
pass "$MIB_S MiB/s > 1.5 × what a fixed 4 MiB window reaches at RTT ${RTT_MS} ms"

nsh_teardown
left=$(nsh_leftovers "$PREFIX")
[ -z "$left" ] || fail "namespaces left behind: $left"
pass "no namespace of this run is left"
