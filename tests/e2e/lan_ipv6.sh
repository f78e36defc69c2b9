#!/usr/bin/env bash
# LAN discovery over IPv6 alone: a seeder (--host ::) and a downloader (--listen-host ::) in
# two network namespaces on one bridge, their IPv4 addresses removed, so that only the
# link-local IPv6 group (ff12::7032:7073) can carry announces and only a link-local address
# (fe80::…%eth0) can be dialled. Asserts that the download completes with identical bytes
# and that its peer was found on the LAN (origin lan in --http /api/status) at the seeder's
# link-local address. Skips (77) without root, or where the namespaces get no IPv6
# link-local address (IPv6 disabled).
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-lan.XXXXXX")
source "$ROOT/tests/tools/lan_netns.sh"
lan_init

nsh_node seed $((4 << 20))
nsh_node dl 0
for n in seed dl; do ip -n "${NSH_NS[$n]}" addr del "${NSH_ADDR[$n]}/16" dev eth0 || fail "cannot remove $n's IPv4 address"; done
# link_local NODE: its eth0 link-local address once duplicate address detection is over.
link_local() { nsh_exec "$1" ip -6 -o addr show dev eth0 scope link -tentative 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }'; }
for ((i = 0; i < 100; i++)); do
  [ -n "$(link_local seed)" ] && [ -n "$(link_local dl)" ] && break
  sleep 0.1
done
SEED6=$(link_local seed)
[ -n "$SEED6" ] && [ -n "$(link_local dl)" ] || { nsh_log "skipped: no IPv6 link-local address in the namespaces"; exit 77; }
nsh_exec dl ip -4 -o addr show dev eth0 | grep -q inet && fail "dl still has an IPv4 address"

head -c $((4 << 20)) /dev/urandom >"$T/f.bin"
"$BIN/p2p-create" -q "$T/f.bin"
M=$T/f.bin.p2pmeta
nsh_spawn seed "$T/seed.log" env -u P2P_NO_DISCOVERY "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --port 6881 --host :: \
  --workdir "$T/seedwd" --json
SEED_PID=$NSH_PID
wait_for "$T/seed.log" '"LAN discovery on .*ff12::7032:7073' 10 "$SEED_PID" "p2p-seed"
nsh_spawn dl "$T/dl.log" env -u P2P_NO_DISCOVERY "$BIN/p2p-download" --meta "$M" --listen-host :: --workdir "$T/dlwd" \
  --json --http 127.0.0.1:0
DL_PID=$NSH_PID
wait_for "$T/dl.log" '"event":"peer_connected"' 5 "$DL_PID" "p2p-download"
http=$(grep -m1 '"event":"http"' "$T/dl.log" | sed -n 's/.*"address":"\([^"]*\)".*/\1/p' || true)
origins=""
for ((i = 0; i < 100; i++)); do
  status=$(nsh_exec dl curl -s --max-time 2 "http://$http/api/status" || true)
  origins=$(python3 -c 'import json, sys
try: files = json.loads(sys.stdin.read())["files"]
except ValueError: files = []
print(" ".join(p["address"] + "=" + p["origin"] for f in files for p in f.get("peer_list", [])))' <<<"$status")
  [ -n "$origins" ] && break
  nsh_running "$DL_PID" || break
  sleep 0.05
done
echo "peer table: $origins"
# Both ends dial: the seeder may hear the downloader's announce and dial it first (the
# downloader then lists it as incoming, and the seeder's event says how it found it).
if ! tr ' ' '\n' <<<"$origins" | grep -qxF "[$SEED6%eth0]:6881=lan"; then
  grep -q 'fe80::[0-9a-f:]*%eth0\]:[0-9]* (outgoing, lan)' "$T/seed.log" ||
    fail "neither the downloader's peer table shows [$SEED6%eth0]:6881 with origin lan ('$origins') nor did the seeder dial it from a LAN announce"
fi
pass "IPv6 only: peer [$SEED6%eth0]:6881 found on the LAN (origin lan)"
for ((i = 0; i < 60 * 20; i++)); do nsh_running "$DL_PID" || break; sleep 0.05; done
rc=0; wait "$DL_PID" || rc=$?
[ "$rc" = 0 ] || fail "p2p-download exited with $rc: $(tail -n 3 "$T/dl.log")"
cmp "$T/f.bin" "$T/dlwd/f.bin" || fail "the downloaded file differs"
pass "download over IPv6 LAN discovery complete, bytes identical"
nsh_stop 5 "$SEED_PID"
