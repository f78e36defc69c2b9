#!/usr/bin/env bash
# P2P_NO_DISCOVERY=1 keeps a node off the network beyond its peers: two hosts on a home LAN
# behind a gateway (a default route, so port mapping would have somewhere to go), a seeder
# and a downloader both listening on 0.0.0.0 (not loopback), the file transferred. nft
# counters in each host's output hook count every packet to udp 5351 (NAT-PMP/PCP), udp 1900
# (SSDP), 224.0.0.0/4 and non-ICMPv6 ff00::/8 (ICMPv6 there is the kernel's own neighbour
# discovery and MLD, not ours): all must stay 0. Then the seeder runs once without the
# variable and its NAT-PMP request and SSDP search must be counted (so the check can fail).
# All inside namespaces of this run (scripts/netns/nat.sh); skips with 77 without root or nft.
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/scripts/netns/harness.sh"
source "$ROOT/scripts/netns/nat.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-nodisc.XXXXXX")
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
nsh_on_teardown() {
  if [ "$NSH_EXIT_RC" != 0 ] && [ "$NSH_EXIT_RC" != 77 ]; then
    echo "--- test failed (rc=$NSH_EXIT_RC); logs in $T:" >&2
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 12 "$f" >&2; }; done
  else
    rm -rf "$T"
  fi
}
rc=0; nsh_init || rc=$?
[ "$rc" = 0 ] || exit "$rc"
nat_init || exit $?
PREFIX=$NSH_PREFIX

nat_gateway gw keep
nat_host h1 gw
nat_host h2 gw

# count_rules NODE: counters in NODE's output hook, one per kind of discovery packet.
count_rules() {
  nsh_exec "$1" nft -f - <<'EOF'
table inet disco {
  chain out {
    type filter hook output priority 0; policy accept;
    udp dport 5351 counter comment "natpmp"
    udp dport 1900 counter comment "ssdp"
    ip daddr 224.0.0.0/4 counter comment "mcast4"
    ip6 daddr ff00::/8 meta l4proto != ipv6-icmp counter comment "mcast6"
  }
}
EOF
}
# packets NODE KIND: that counter's packets.
packets() {
  nsh_exec "$1" nft list chain inet disco out | sed -n "s/.*counter packets \([0-9]*\) bytes.*comment \"$2\".*/\1/p"
}
count_rules h1
count_rules h2

head -c $((1 << 20)) /dev/urandom >"$T/f.bin"
"$BIN/p2p-create" -q "$T/f.bin"
M=$T/f.bin.p2pmeta
H1=${NSH_ADDR[h1]}

# 1. With the variable: seeder and downloader transfer the file, no discovery packet.
nsh_spawn h1 "$T/seed1.log" env P2P_NO_DISCOVERY=1 "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --port 6881 \
  --workdir "$T/s1" --json
SEED=$NSH_PID
for i in $(seq 1 100); do grep -q '"event":"listening"' "$T/seed1.log" && break; sleep 0.05; done
nsh_exec h2 env P2P_NO_DISCOVERY=1 "$BIN/p2p-download" --meta "$M" --peer "$H1:6881" --listen-port 6882 \
  --workdir "$T/d1" --json >"$T/dl1.log" 2>&1 || fail "download with P2P_NO_DISCOVERY=1 failed"
cmp "$T/f.bin" "$T/d1/f.bin" || fail "downloaded file differs"
sleep 3  # the downloader is done; the seeder keeps running as long as a mapping round would take
nsh_stop 10 "$SEED"
for n in h1 h2; do
  for k in natpmp ssdp mcast4 mcast6; do
    v=$(packets "$n" "$k")
    [ "$v" = 0 ] || fail "P2P_NO_DISCOVERY=1: $v $k packet(s) left $n"
  done
done
grep -q 'port mapping' "$T/seed1.log" && fail "P2P_NO_DISCOVERY=1: the seeder reported a port mapping"
pass "P2P_NO_DISCOVERY=1: file transferred, 0 packets to udp 5351, udp 1900, 224.0.0.0/4, ff00::/8"

# 2. Without it the same seeder asks the gateway (nothing answers there: no miniupnpd).
nsh_spawn h1 "$T/seed2.log" env -u P2P_NO_DISCOVERY "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --port 6881 \
  --workdir "$T/s2" --json
SEED=$NSH_PID
for i in $(seq 1 150); do grep -q 'port mapping: ' "$T/seed2.log" && break; sleep 0.1; done
nsh_stop 10 "$SEED"
grep -q '"text":"port mapping: no gateway answered (NAT-PMP, UPnP)"' "$T/seed2.log" ||
  fail "without P2P_NO_DISCOVERY: expected 'no gateway answered (NAT-PMP, UPnP)': $(grep 'port mapping' "$T/seed2.log")"
[ "$(packets h1 natpmp)" -gt 0 ] || fail "without P2P_NO_DISCOVERY: no NAT-PMP packet counted"
[ "$(packets h1 ssdp)" -gt 0 ] || fail "without P2P_NO_DISCOVERY: no SSDP packet counted"
[ "$(packets h1 mcast4)" -gt 0 ] || fail "without P2P_NO_DISCOVERY: no multicast packet counted"
pass "without P2P_NO_DISCOVERY: $(packets h1 natpmp) NAT-PMP and $(packets h1 ssdp) SSDP packets counted, 'no gateway answered' reported"

nsh_teardown
[ -z "$(nsh_leftovers "$PREFIX")" ] || fail "namespaces left behind: $(nsh_leftovers "$PREFIX")"
pass "no namespace left"
