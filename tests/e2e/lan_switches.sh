#!/usr/bin/env bash
# LAN discovery's off switches: an observer in its own namespace records the announce
# group while a node runs in another (tests/tools/lan_listen.py). Asserts that (1) with
# discovery on (the control) the observer sees the node's announces — otherwise the
# two checks after it could not fail —, (2) with --no-lan (p2p-seed) it sees none,
# (3) with P2P_NO_DISCOVERY=1 it sees none, (4) nor from p2p-download --no-lan with a
# --peer, and (5) p2p-download with --no-lan and no peer source is a usage error (exit 2)
# naming what switched LAN discovery off. Each case watches for 2.5 s (a node announces at
# start and again 1 s later). Needs root for `ip netns`; skips with 77 where it cannot run.
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-lan.XXXXXX")
source "$ROOT/tests/tools/lan_netns.sh"
lan_init

nsh_node obs 0
nsh_node node 0
head -c 100000 /dev/urandom >"$T/s.bin"
"$BIN/p2p-create" -q "$T/s.bin"
M=$T/s.bin.p2pmeta
NODE_ADDR=${NSH_ADDR[node]}

# watch NAME CMD...: runs CMD in `node` for 2.5 s after it listens, with the observer
# recording into $T/NAME.jsonl; sets SEEN to every datagram it recorded (from anyone).
watch() {
  local name=$1 pid; shift
  lan_listener obs "$T/$name.jsonl"
  nsh_spawn node "$T/$name.log" "$@"
  pid=$NSH_PID
  wait_for "$T/$name.log" '"event":"listening"' 10 "$pid" "$name"
  sleep 2.5
  nsh_running "$pid" || fail "$name: the node exited early: $(tail -n 3 "$T/$name.log")"
  nsh_stop 5 "$pid" "$LISTENER_PID"
  SEEN=$(wc -l <"$T/$name.jsonl")
  echo "$name: the observer saw $SEEN datagrams ($(datagrams_from "$T/$name.jsonl" "$NODE_ADDR") from the node at $NODE_ADDR)"
}

SEED=("$BIN/p2p-seed" --meta "$M" --source "$T/s.bin" --port 6881 --json)
watch control env -u P2P_NO_DISCOVERY "${SEED[@]}" --workdir "$T/w1"
[ "$SEEN" -ge 2 ] || fail "control: with discovery on the observer saw $SEEN announces (expected >= 2: start and repeat)"
pass "control: announces seen with discovery on"

watch no_lan env -u P2P_NO_DISCOVERY "${SEED[@]}" --workdir "$T/w2" --no-lan
[ "$SEEN" = 0 ] || fail "p2p-seed --no-lan sent $SEEN datagrams to the group"
grep -q 'LAN discovery' "$T/no_lan.log" && fail "p2p-seed --no-lan reported LAN discovery: $(grep 'LAN discovery' "$T/no_lan.log")"
pass "p2p-seed --no-lan: no datagram"

watch env_off env P2P_NO_DISCOVERY=1 "${SEED[@]}" --workdir "$T/w3"
[ "$SEEN" = 0 ] || fail "P2P_NO_DISCOVERY=1: p2p-seed sent $SEEN datagrams to the group"
pass "P2P_NO_DISCOVERY=1: no datagram"

watch dl_no_lan env -u P2P_NO_DISCOVERY "$BIN/p2p-download" --meta "$M" --workdir "$T/w4" --json --no-lan \
  --peer 10.77.250.250:9 --give-up-after 30
[ "$SEEN" = 0 ] || fail "p2p-download --no-lan sent $SEEN datagrams to the group"
pass "p2p-download --no-lan: no datagram"

rc=0
out=$(nsh_exec node env -u P2P_NO_DISCOVERY "$BIN/p2p-download" --meta "$M" --workdir "$T/w5" --no-lan 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "p2p-download --no-lan without peers: exit $rc, expected 2 (usage): $out"
grep -q 'LAN discovery is off' <<<"$out" || fail "p2p-download --no-lan without peers did not say why: $out"
pass "p2p-download --no-lan without a peer source: usage error"
