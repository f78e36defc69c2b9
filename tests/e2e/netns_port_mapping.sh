#!/usr/bin/env bash
# Port mapping through a real home gateway: a seeder on a home LAN behind a NAT (nft
# masquerade, unsolicited inbound dropped) running Debian's miniupnpd; a tracker and a
# downloader on the public network (scripts/netns/nat.sh). Cases:
#   (a) NAT-PMP only, (b) UPnP only: the seeder prints "port mapping: GW:6881 via ...",
#       miniupnpd holds the mapping while it runs, the downloader (which knows the seeder
#       only from the tracker) dials the gateway's address and gets the file (cmp), the
#       seeder sees that connection as coming through the mapping (origin "mapped", in its
#       --json events and its page's peer table), and the mapping is gone within 5 s of
#       SIGTERM to the seeder;
#   (c) --no-port-mapping: no mapping appears, no mapping line, and the downloader cannot
#       reach the seeder (the gateway drops what nobody asked for);
#   (d) another LAN host holds outside port 6881 (mapped with natpmpc first): NAT-PMP grants
#       the seeder another outside port, the seeder announces that one, and the downloader,
#       which learns the seeder only from the tracker, dials the gateway at that port;
#   (e) a gateway (UPnP only) that refuses every mapping: the line says so, in the router's words;
#   (f) as (a), behind a symmetric NAT (`masquerade random`): the mapping does not depend on
#       how the gateway rewrites outgoing connections;
#   (g) renewal: the library's PortMapper (tests/tools/port_mapper_probe) asks for a lifetime
#       of seconds; the mapping is still held well past that lifetime, by NAT-PMP and by UPnP,
#       while a mapping made once with natpmpc for as long is gone (so the check can fail).
# Only the seeder runs with discovery allowed (P2P_NO_DISCOVERY unset inside its own
# namespace, on a LAN that exists only in this run). Needs root, nft, miniupnpd-nftables;
# skips with 77 otherwise. Checks at the end that no namespace of this run is left.
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/scripts/netns/harness.sh"
source "$ROOT/scripts/netns/nat.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-portmap.XXXXXX")
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
nsh_on_teardown() {
  if [ "$NSH_EXIT_RC" != 0 ] && [ "$NSH_EXIT_RC" != 77 ]; then
    echo "--- test failed (rc=$NSH_EXIT_RC); logs in $T:" >&2
    for f in "$T"/*/*.log "$T"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 12 "$f" >&2; }; done
    [ -n "$NAT_DIR" ] && for f in "$NAT_DIR"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 12 "$f" >&2; }; done
    rm -f "$T"/f.bin "$T"/*/dl/f.bin
  else
    rm -rf "$T"
  fi
}
rc=0; nsh_init || rc=$?
[ "$rc" = 0 ] || exit "$rc"
nat_init || exit $?
command -v miniupnpd >/dev/null || { echo "skipped: miniupnpd (miniupnpd-nftables) is not installed" >&2; exit 77; }
PREFIX=$NSH_PREFIX

nat_public tracker
nat_public dl
# The downloader's own firewall takes no new connections: seeders dial too (both ends dial),
# and here the point is that the downloader reaches the seeder through the mapping.
nsh_exec dl nft -f - <<'NFT' || fail "cannot set the downloader's firewall"
table inet dlfw {
  chain input { type filter hook input priority filter; policy accept; tcp flags syn / syn,ack ct state new drop; }
}
NFT
nat_gateway gw keep
nat_host home gw
nat_host neighbour gw
G=gw H=home          # the gateway and the seeder's host of the case at hand
GW=${NSH_ADDR[gw]}   # that gateway's outside address
TR=${NSH_ADDR[tracker]}:7000

nsh_spawn tracker "$T/tracker.log" "$BIN/p2p-tracker" --host 0.0.0.0 --port 7000 --db "$T/tracker.db" --interval 2
TRACKER_PID=$NSH_PID
head -c $((3 << 20)) /dev/urandom >"$T/f.bin"
"$BIN/p2p-create" -q --tracker "$TR" "$T/f.bin"
M=$T/f.bin.p2pmeta

# wait_for SECONDS CMD...: polls CMD every 0.1 s; false when it never succeeded.
wait_for() {
  local n=$(($1 * 10)) i; shift
  for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}
mapped_6881() { nat_mappings "$G" | grep -q 'dport 6881 '; }
not_mapped() { ! nat_mappings "$G" | grep -q 'dport '; }

# start_seed DIR ARGS...: the seeder on the home host, discovery allowed; sets SEED_PID.
start_seed() {
  local dir=$1; shift
  mkdir -p "$dir"
  nsh_spawn "$H" "$dir/seed.log" env -u P2P_NO_DISCOVERY "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --port 6881 \
    --workdir "$dir/seed" --json --http 127.0.0.1:0 "$@"
  SEED_PID=$NSH_PID
  wait_for 10 grep -q '"event":"listening"' "$dir/seed.log" || fail "seeder did not listen: $(tail -n 3 "$dir/seed.log")"
}

# run_mapped CASE PROTOCOLS METHOD: cases (a) and (b).
run_mapped() {
  local name=$1 protos=$2 method=$3 dir=$T/$1 line http ih peers t0 dt
  nat_upnp "$G" "$protos" || fail "$name: miniupnpd did not start"
  start_seed "$dir"
  wait_for 15 grep -q 'port mapping: ' "$dir/seed.log" || fail "$name: no port mapping line"
  line=$(grep -m1 'port mapping: ' "$dir/seed.log")
  echo "$line" | grep -qF "\"text\":\"port mapping: $GW:6881 via $method\"" ||
    fail "$name: expected 'port mapping: $GW:6881 via $method', got $line"
  [ "$(grep -c 'port mapping: ' "$dir/seed.log")" = 1 ] || fail "$name: more than one mapping line"
  mapped_6881 || fail "$name: miniupnpd holds no mapping of port 6881: $(nat_mappings "$G")"
  pass "$name: seeder mapped $GW:6881 via $method, miniupnpd holds it"

  # The downloader knows only the tracker: it gets the gateway's address and dials it.
  nsh_exec dl "$BIN/p2p-download" --meta "$M" --workdir "$dir/dl" --listen-port 6882 --json --give-up-after 30 \
    >"$dir/dl.log" 2>&1 || fail "$name: download failed"
  cmp "$T/f.bin" "$dir/dl/f.bin" || fail "$name: downloaded file differs"
  grep -q "\"text\":\"$GW:6881 (outgoing" "$dir/dl.log" ||
    fail "$name: downloader did not connect to the mapped address $GW:6881: $(grep peer_connected "$dir/dl.log" | head -3)"
  grep -q '(incoming, mapped)' "$dir/seed.log" ||
    fail "$name: seeder did not see the connection as mapped: $(grep peer_connected "$dir/seed.log" | head -3)"
  pass "$name: downloader fetched the file through $GW:6881, seeder says incoming through the mapping"

  # The seeder's page shows the mapping (node.port_mapping) and the peer's origin while the
  # connection lasts; the downloader has gone, so the origin check is on the event above.
  http=$(grep -m1 '"event":"http"' "$dir/seed.log" | sed -n 's/.*"address":"\([^"]*\)".*/\1/p')
  nsh_exec "$H" curl -sf --max-time 3 "http://$http/api/status" >"$dir/status.json" || fail "$name: /api/status failed"
  grep -q "\"external\":\"$GW:6881\"" "$dir/status.json" || fail "$name: status JSON lacks the mapping: $(head -c 400 "$dir/status.json")"
  grep -q '"reachable":true' "$dir/status.json" || fail "$name: status JSON does not say reachable"
  pass "$name: the node's status JSON shows $GW:6881 via $method, reachable"

  t0=$EPOCHREALTIME
  nsh_stop 10 "$SEED_PID"
  wait_for 5 not_mapped || fail "$name: mapping still held 5 s after SIGTERM: $(nat_mappings "$G")"
  dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  pass "$name: mapping removed ${dt} s after SIGTERM to the seeder"
  nat_upnp_stop "$G"
}

run_mapped a natpmp NAT-PMP
run_mapped b upnp UPnP

# (c) --no-port-mapping: nothing is asked of the gateway, so nothing from outside gets in.
dir=$T/c
nat_upnp gw both || fail "c: miniupnpd did not start"
start_seed "$dir" --no-port-mapping
sleep 3  # NAT-PMP answers in milliseconds, UPnP within the 2 s search: enough to have mapped
not_mapped || fail "c: a mapping appeared with --no-port-mapping: $(nat_mappings gw)"
grep -q 'port mapping: ' "$dir/seed.log" && fail "c: a mapping line with --no-port-mapping"
# The gateway drops unsolicited inbound: the seeder's port is unreachable from outside.
if nsh_exec dl timeout 3 bash -c "exec 3<>/dev/tcp/$GW/6881" 2>/dev/null; then
  fail "c: $GW:6881 accepted a connection without a mapping"
fi
pass "c: --no-port-mapping: no mapping, no line, $GW:6881 unreachable from outside"
nsh_stop 10 "$SEED_PID"
nat_upnp_stop gw

# (d) NAT-PMP grants another outside port: what is announced and dialled is that one.
if ! command -v natpmpc >/dev/null; then
  echo "skipped (d): natpmpc is not installed" >&2
else
  dir=$T/d
  nat_upnp gw natpmp || fail "d: miniupnpd did not start"
  nsh_exec neighbour natpmpc -g "${NAT_LAN_ADDR[gw]}" -a 6881 6881 tcp 600 >"$T/natpmpc.log" 2>&1 ||
    fail "d: natpmpc could not map 6881 for the neighbour: $(tail -n 3 "$T/natpmpc.log")"
  start_seed "$dir"
  wait_for 15 grep -q 'port mapping: ' "$dir/seed.log" || fail "d: no port mapping line"
  ext=$(grep -m1 'port mapping: ' "$dir/seed.log" | sed -n "s/.*port mapping: $GW:\([0-9]*\) via NAT-PMP.*/\1/p")
  [ -n "$ext" ] || fail "d: expected a NAT-PMP mapping on $GW: $(grep -m1 'port mapping: ' "$dir/seed.log")"
  [ "$ext" != 6881 ] || fail "d: granted 6881, which the neighbour holds"
  nsh_exec dl "$BIN/p2p-download" --meta "$M" --workdir "$dir/dl" --listen-port 6882 --json --give-up-after 30 \
    >"$dir/dl.log" 2>&1 || fail "d: download failed"
  cmp "$T/f.bin" "$dir/dl/f.bin" || fail "d: downloaded file differs"
  grep -q "\"text\":\"$GW:$ext (outgoing" "$dir/dl.log" ||
    fail "d: downloader did not dial the granted port $GW:$ext: $(grep peer_connected "$dir/dl.log" | head -3)"
  grep -q '(incoming, mapped)' "$dir/seed.log" || fail "d: seeder did not see the connection as mapped"
  pass "d: NAT-PMP granted $GW:$ext (6881 taken): announced, dialled, file fetched"
  nsh_stop 10 "$SEED_PID"
  nat_upnp_stop gw
fi

# (e) the gateway refuses: one line with the router's words for each protocol.
dir=$T/e
nat_upnp gw upnp deny || fail "e: miniupnpd did not start"
start_seed "$dir"
wait_for 15 grep -q 'port mapping: ' "$dir/seed.log" || fail "e: no port mapping line"
line=$(grep -m1 'port mapping: ' "$dir/seed.log")
echo "$line" | grep -q '"text":"port mapping: refused by the gateway (UPnP: AddPortMapping 6881: [0-9][0-9]* [^)]*)"' ||
  fail "e: expected a UPnP refusal with its error code, got $line"
not_mapped || fail "e: a mapping appeared on a refusing gateway"
nsh_exec home curl -sf --max-time 3 "http://$(grep -m1 '"event":"http"' "$dir/seed.log" | sed -n 's/.*"address":"\([^"]*\)".*/\1/p')/api/status" \
  | grep -q '"reachable":false' || fail "e: status JSON does not say unreachable"
line=${line#*port mapping: }; line=${line%\"*}; pass "e: $line"
nsh_stop 10 "$SEED_PID"
nat_upnp_stop gw

# (f) behind a gateway that randomizes outgoing ports.
nat_gateway gw2 random
nat_host home2 gw2
G=gw2 H=home2 GW=${NSH_ADDR[gw2]}
run_mapped f natpmp NAT-PMP

# (g) renewal, with lifetimes of seconds (a node asks for 2 h / 1 h; the schedule is the same).
if [ ! -x "$BIN/port_mapper_probe" ] || ! command -v natpmpc >/dev/null || ! command -v upnpc >/dev/null; then
  echo "skipped (g): port_mapper_probe, natpmpc or upnpc (miniupnpc) is not there" >&2
else
  G=gw H=home GW=${NSH_ADDR[gw]}
  for proto in natpmp upnp; do
    nat_upnp gw "$proto" || fail "g: miniupnpd did not start"
    # The control: asked once for 4 s, never renewed, gone once miniupnpd's timer expires it.
    if [ "$proto" = natpmp ]; then
      nsh_exec neighbour natpmpc -g "${NAT_LAN_ADDR[gw]}" -a 7001 7001 tcp 4 >"$T/control-g.log" 2>&1
    else
      nsh_exec neighbour upnpc -e control -a "${NSH_ADDR[neighbour]}" 7001 7001 TCP 4 >"$T/control-g.log" 2>&1
    fi || fail "g ($proto): the control mapping of 7001 failed: $(tail -n 2 "$T/control-g.log")"
    nat_mappings gw | grep -q 'dport 7001 ' || fail "g ($proto): the control mapping of 7001 is not in miniupnpd's chain"
    nsh_spawn home "$T/probe-$proto.log" env -u P2P_NO_DISCOVERY "$BIN/port_mapper_probe" --port 7000 --seconds 16 \
      --natpmp-lifetime 6 --upnp-lease 8
    probe=$NSH_PID
    sleep 12  # 2x NAT-PMP's 6 s, 1.5x the 8 s lease: held now only if renewed
    nat_mappings gw | grep -q 'dport 7000 ' || fail "g ($proto): mapping not renewed: gone after 12 s: $(cat "$T/probe-$proto.log")"
    nat_mappings gw | grep -q 'dport 7001 ' && fail "g ($proto): the 4 s control mapping is still there after 12 s"
    wait_for 25 bash -c "! kill -0 $probe 2>/dev/null" || fail "g ($proto): the probe did not end"
    nsh_stop 1 "$probe"
    n=$(grep -c "^status: $GW:7000 via" "$T/probe-$proto.log" || true)
    [ "$n" -ge 3 ] || fail "g ($proto): expected the first mapping and >= 2 renewals, saw $n: $(cat "$T/probe-$proto.log")"
    grep -q '^removed$' "$T/probe-$proto.log" || fail "g ($proto): probe did not finish"
    not_mapped || fail "g ($proto): mapping left after the probe removed it: $(nat_mappings gw)"
    pass "g ($proto): mapped, renewed $((n - 1)) times in 16 s (lifetime of seconds), held past its lifetime, removed"
    nat_upnp_stop gw
  done
fi

nsh_teardown
[ -z "$(nsh_leftovers "$PREFIX")" ] || fail "namespaces left behind: $(nsh_leftovers "$PREFIX")"
pass "no namespace left"
