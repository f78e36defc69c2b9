#!/usr/bin/env bash
# Forged LAN announces cannot make a node flood a third party. Four namespaces on one LAN:
# a downloader (discovery on, no seeder anywhere), a third party running a TCP listener that
# counts connections (tests/tools/tcp_count.py), and a forger that sends 1,000 announces
# (100 a second, tests/tools/lan_forge.py over a raw socket) naming the downloader's swarm,
# each with the third party's address as its IP SOURCE and the counter's port as the
# claimed TCP port. Asserts that the downloader dials the counter at least once (the forged
# datagrams did arrive and were believed as a hint) and at most 3 times
# (PeerDirectory::kMaxPexDialAttempts) however many arrive, and that it is still running.
# Needs root for `ip netns` and a raw socket; skips with 77 where it cannot run.
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-lan.XXXXXX")
source "$ROOT/tests/tools/lan_netns.sh"
lan_init

MAX_DIALS=3       # PeerDirectory::kMaxPexDialAttempts: a LAN hint is tried that many times
MAX_PORTS=4       # lan_limits::kMaxPortsPerSource
CLAIM_PORT=7000
MANY_PORTS=20
nsh_node dl 0
nsh_node third 0
nsh_node forger 0
head -c 100000 /dev/urandom >"$T/s.bin"
"$BIN/p2p-create" -q "$T/s.bin"
M=$T/s.bin.p2pmeta
IH=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["info_hash"])' "$M")

nsh_spawn third "$T/count.log" python3 "$ROOT/tests/tools/tcp_count.py" --addr "${NSH_ADDR[third]}" \
  --port "$CLAIM_PORT" --ports $((MANY_PORTS + 1)) --out "$T/count"
COUNTER_PID=$NSH_PID
wait_for "$T/count.log" ready 10 "$COUNTER_PID" "connection counter"
nsh_spawn dl "$T/dl.log" env -u P2P_NO_DISCOVERY "$BIN/p2p-download" --meta "$M" --workdir "$T/dlwd" --json \
  --http 127.0.0.1:0
DL_PID=$NSH_PID
wait_for "$T/dl.log" '"LAN discovery on ' 10 "$DL_PID" "p2p-download"

nsh_exec forger python3 "$ROOT/tests/tools/lan_forge.py" --src "${NSH_ADDR[third]}" --swarm "$IH" \
  --claim-port "$CLAIM_PORT" --count 1000 --per-second 100 >"$T/forge.log" 2>&1 ||
  fail "the forger failed: $(tail -n 3 "$T/forge.log")"
sleep 4   # dials in back-off (0.5 s, 1 s, 2 s) that the last forged datagrams could still cause
read -r dials ports <"$T/count"
echo "forged announces sent: $(sed -n 's/^sent //p' "$T/forge.log"); connections the third party received: $dials (bound $MAX_DIALS)"
[ "$dials" -ge 1 ] || fail "the node never dialled the forged address: the forged announces did not arrive, so the bound is untested"
[ "$dials" -le "$MAX_DIALS" ] || fail "the node dialled the third party $dials times (at most $MAX_DIALS allowed)"
nsh_running "$DL_PID" || fail "p2p-download exited: $(tail -n 3 "$T/dl.log")"
pass "1,000 forged announces: the third party was dialled $dials times (<= $MAX_DIALS)"
# The intake limit held: from one source at 100/s for 10 s, 16 + 4/s pass, the rest is dropped and counted.
http=$(grep -m1 '"event":"http"' "$T/dl.log" | sed -n 's/.*"address":"\([^"]*\)".*/\1/p' || true)
metrics=$(nsh_exec dl curl -s --max-time 2 "http://$http/metrics" || true)
received=$(awk '$1 == "p2p_lan_datagrams_received_total" { printf "%d", $2 }' <<<"$metrics")
dropped=$(awk '$1 == "p2p_lan_datagrams_dropped_total{reason=\"per_source_limit\"}" { printf "%d", $2 }' <<<"$metrics")
echo "the node received ${received:-?} datagrams and dropped ${dropped:-?} over the per-source limit"
[ "${dropped:-0}" -ge 500 ] || fail "the per-source limit dropped ${dropped:-nothing} of 1,000 forged datagrams (expected >= 500)"
pass "per-source intake limit: ${dropped} of ${received} datagrams dropped unparsed, counted"

# Phase 2: the same forged source claims ports CLAIM_PORT+1 .. CLAIM_PORT+MANY_PORTS in turn.
nsh_exec forger python3 "$ROOT/tests/tools/lan_forge.py" --src "${NSH_ADDR[third]}" --swarm "$IH" \
  --claim-port $((CLAIM_PORT + 1)) --claim-ports "$MANY_PORTS" --count 1000 --per-second 100 >"$T/forge2.log" 2>&1 ||
  fail "the forger failed: $(tail -n 3 "$T/forge2.log")"
sleep 4
read -r total ports <"$T/count"
echo "phase 2: connections in all: $total on $ports distinct ports (bounds: $MAX_PORTS ports, $((MAX_PORTS * MAX_DIALS)) connections)"
[ "$ports" -le "$MAX_PORTS" ] || fail "the node dialled $ports distinct ports of the third party (at most $MAX_PORTS allowed)"
[ "$total" -le $((MAX_PORTS * MAX_DIALS)) ] || fail "the third party received $total connections (at most $((MAX_PORTS * MAX_DIALS)))"
[ "$total" -gt "$dials" ] || fail "phase 2 caused no dial: the forged announces for other ports were not seen"
nsh_running "$DL_PID" || fail "p2p-download exited: $(tail -n 3 "$T/dl.log")"
pass "1,000 announces over $MANY_PORTS claimed ports: $total connections on $ports ports (<= $MAX_PORTS ports)"
nsh_stop 5 "$DL_PID" "$COUNTER_PID"
