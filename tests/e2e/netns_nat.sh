#!/usr/bin/env bash
# Across NATs, in network namespaces made by this test (scripts/netns/nat.sh): a public
# network with a tracker, home networks behind gateways that masquerade and drop
# unsolicited inbound packets like home routers, port-preserving (keep) and symmetric
# (random). Every program runs with its default flags (the tracker with --relay); port
# mapping and LAN announces stay off (P2P_NO_DISCOVERY=1): this is about dialling.
#   A  a seeder behind a NAT serves a public downloader (the seeder dials, told by the
#      tracker's rendezvous);
#   B  a public seeder serves a downloader behind a NAT;
#   C  two port-preserving NATs: both ends dial at once (a punched hole), not relayed;
#      time to the first verified piece <= 10 s with the tracker's default interval;
#   D  two symmetric NATs: direct dials fail, both meet at the tracker's relay;
#   E  the same for a private swarm: its TLS runs end to end through the relay;
#   L  two machines on one home LAN, no tracker in the meta, no --peer: LAN discovery
#      (on, in these namespaces only) finds the seeder.
# Each case compares bytes and prints the time to the first connection, to the first
# verified piece and the throughput ("figure:" lines, read by bench/nat_bench.sh).
# NAT_TEST_BYTES sets the file size (default 8 MiB); NAT_CASES a subset ("C D").
# Needs root and nft; skips with 77 otherwise.
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/scripts/netns/harness.sh"
source "$ROOT/scripts/netns/nat.sh"
export P2P_NO_DISCOVERY=1

SIZE=${NAT_TEST_BYTES:-$((8 * 1024 * 1024))}
CASES=${NAT_CASES:-A B C D E L}
RELAY_RATE=${NAT_RELAY_RATE:-16M}
WAIT=${NAT_WAIT:-60}   # seconds a download may take
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-nat.XXXXXX")

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
nsh_on_teardown() {
  if [ "$NSH_EXIT_RC" != 0 ] && [ "$NSH_EXIT_RC" != 77 ]; then
    echo "--- test failed (rc=$NSH_EXIT_RC); logs in $T:" >&2
    for f in "$T"/*.log "$T"/*.json; do [ -f "$f" ] && { echo "== $f" >&2; grep -v '"progress"' "$f" | tail -n 12 >&2; }; done
    rm -f "$T"/*.bin "$T"/*/*.bin
  else
    rm -rf "$T"
  fi
}
rc=0; nsh_init || rc=$?
[ "$rc" = 0 ] || exit "$rc"
rc=0; nat_init || rc=$?
[ "$rc" = 0 ] || exit "$rc"

nat_public tracker
nat_public pub1
nat_gateway gw1 keep;   nat_host home1 gw1; nat_host home1b gw1
nat_gateway gw2 keep;   nat_host home2 gw2
nat_gateway gw3 random; nat_host sym1 gw3
nat_gateway gw4 random; nat_host sym2 gw4
# NAT_LINK_RATE (bytes/s, default 0: uncapped): every home's uplink (its gateway's WAN) and
# every host's own link capped with tbf, as a home or office line would be.
if [ "${NAT_LINK_RATE:-0}" -gt 0 ]; then
  for gw in gw1 gw2 gw3 gw4; do nat_shape_wan "$gw" "$NAT_LINK_RATE"; done
  for h in pub1 home1 home1b home2 sym1 sym2; do nsh_shape "$h" "$NAT_LINK_RATE"; done
fi
TR=${NSH_ADDR[tracker]}:6969
nsh_spawn tracker "$T/tracker.log" "$BIN/p2p-tracker" --host 0.0.0.0 --port 6969 --db "$T/tracker.db" \
  --relay --relay-port 6970 --relay-swarm-rate "$RELAY_RATE" --relay-rate "$RELAY_RATE"
for i in $(seq 1 100); do grep -q "^relay listening" "$T/tracker.log" && break; sleep 0.05; done
grep -q "^relay listening" "$T/tracker.log" || fail "tracker did not start: $(tail -n 3 "$T/tracker.log")"

now() { date +%s.%N; }
START=$(now)
# first_match FILE REGEX DEADLINE_S: waits for a line; prints seconds since $START when seen.
first_match() {
  local f=$1 re=$2 deadline=$3 i
  for ((i = 0; i < deadline * 20; i++)); do
    if grep -Eq "$re" "$f" 2>/dev/null; then awk -v a="$(now)" -v b="$START" 'BEGIN { printf "%.2f\n", a - b }'; return 0; fi
    sleep 0.05
  done
  return 1
}

# run_case NAME SEED_NODE DL_NODE: a fresh file (its own swarm), the seeder on SEED_NODE
# with its default flags, the downloader on DL_NODE; sets FIRST_PEER, FIRST_PIECE, RATE.
# LAN=1: no tracker in the meta, and the programs run with discovery on (inside our namespaces).
run_case() {
  local name=$1 seed_node=$2 dl_node=$3 seed_pid dl_pid t_end run=()
  head -c "$SIZE" /dev/urandom >"$T/$name.bin"
  if [ "${LAN:-0}" = 1 ]; then
    "$BIN/p2p-create" -q ${CREATE_FLAGS:-} "$T/$name.bin"
    run=(env -u P2P_NO_DISCOVERY)
  else
    "$BIN/p2p-create" -q --tracker "$TR" ${CREATE_FLAGS:-} "$T/$name.bin"
  fi
  nsh_spawn "$seed_node" "$T/$name.seed.json" "${run[@]}" "$BIN/p2p-seed" --meta "$T/$name.bin.p2pmeta" --source "$T/$name.bin" \
    --port 6881 --workdir "$T/$name.seedwd" --json
  seed_pid=$NSH_PID
  if [ "${LAN:-0}" = 1 ]; then
    first_match "$T/$name.seed.json" '"listening"' 15 >/dev/null || fail "$name: the seeder did not start"
  else
    # The seeder has announced and, behind a NAT, learnt from the probe that nobody can dial it.
    first_match "$T/$name.seed.json" "reachable from outside" 15 >/dev/null ||
      fail "$name: the seeder never heard from the tracker's probe"
  fi
  START=$(now)
  nsh_spawn "$dl_node" "$T/$name.dl.json" "${run[@]}" "$BIN/p2p-download" --meta "$T/$name.bin.p2pmeta" --workdir "$T/$name.dl" --json
  dl_pid=$NSH_PID
  FIRST_PEER=$(first_match "$T/$name.dl.json" '"peer_connected"' "$WAIT") || fail "$name: the downloader never connected"
  FIRST_PIECE=$(first_match "$T/$name.dl.json" '"pieces_verified":[1-9]' "$WAIT") || fail "$name: no piece verified"
  for ((i = 0; i < WAIT * 20; i++)); do nsh_running "$dl_pid" || break; sleep 0.05; done
  t_end=$(now)
  wait "$dl_pid" || fail "$name: the download failed: $(grep -v progress "$T/$name.dl.json" | tail -n 2)"
  cmp "$T/$name.bin" "$T/$name.dl/$name.bin" || fail "$name: the downloaded file differs"
  # From the first connected peer to the downloader's exit: what the path carries (meaningful
  # with NAT_LINK_RATE, which makes a transfer take seconds rather than a few polls).
  RATE=$(awk -v n="$SIZE" -v e="$t_end" -v s="$START" -v p="$FIRST_PEER" 'BEGIN { printf "%.2f", n / 1048576 / (e - s - p) }')
  nsh_stop 5 "$seed_pid"
  echo "figure: case=$name first_peer_s=$FIRST_PEER first_piece_s=$FIRST_PIECE MiB_s=$RATE bytes=$SIZE"
}

for c in $CASES; do
  case $c in
    A)
      run_case A home1 pub1
      grep -q "not reachable from outside at ${NSH_ADDR[gw1]}:6881" "$T/A.seed.json" ||
        fail "A: the seeder did not say it cannot be dialled from outside"
      grep -Eq '"text":"[0-9.]+:[0-9]+ \(outgoing, punched\)"' "$T/A.seed.json" ||
        fail "A: the seeder behind the NAT did not dial the downloader at the rendezvous"
      pass "A: a seeder behind a NAT served a public downloader (it dialled out at the tracker's rendezvous)"
      ;;
    B)
      run_case B pub1 home1
      grep -q "\"text\":\"reachable from outside at ${NSH_ADDR[pub1]}:6881 " "$T/B.seed.json" || fail "B: the public seeder was not found reachable"
      grep -q "\"${NSH_ADDR[pub1]}:6881 (outgoing" "$T/B.dl.json" || fail "B: the downloader did not dial the seeder"
      pass "B: a public seeder served a downloader behind a NAT"
      ;;
    C)
      run_case C home1 home2
      grep -q "\"${NSH_ADDR[gw1]}:6881 (outgoing, punched)" "$T/C.dl.json" ||
        fail "C: no direct connection to the seeder's gateway address at the rendezvous"
      ! grep -Eq ', relay\)|via relay' "$T/C.dl.json" "$T/C.seed.json" || fail "C: went through the relay (the NATs keep ports)"
      awk -v x="$FIRST_PIECE" 'BEGIN { exit !(x <= 10) }' || fail "C: first verified piece after $FIRST_PIECE s (> 10 s)"
      pass "C: two NATed machines connected directly (hole punched) in ${FIRST_PEER}s, first piece in ${FIRST_PIECE}s"
      ;;
    D)
      run_case D sym1 sym2
      grep -Eq '\((outgoing|incoming), relay\)' "$T/D.dl.json" || fail "D: the connection did not go through the relay"
      stats=$(nsh_exec tracker curl -s --max-time 5 "http://127.0.0.1:6969/metrics" | grep '^p2p_tracker_relay_bytes' || true)
      [ -n "$stats" ] || fail "D: the tracker's metrics show no relayed bytes"
      pass "D: two symmetric NATs met at the relay (first piece in ${FIRST_PIECE}s)"
      ;;
    E)
      CREATE_FLAGS=--private run_case E sym1 sym2
      grep -Eq '\((outgoing|incoming), relay\)' "$T/E.dl.json" || fail "E: the private swarm did not go through the relay"
      pass "E: a private swarm crossed two symmetric NATs through the relay (TLS end to end)"
      ;;
    L)
      LAN=1 run_case L home1 home1b
      grep -q "\"${NSH_ADDR[home1]}:6881 (outgoing, lan)" "$T/L.dl.json" || fail "L: the seeder was not found by a LAN announce"
      awk -v x="$FIRST_PEER" 'BEGIN { exit !(x <= 2) }' || fail "L: first peer after $FIRST_PEER s (> 2 s)"
      pass "L: found the seeder on the LAN with no tracker in ${FIRST_PEER}s"
      ;;
    *) fail "unknown case $c" ;;
  esac
done
