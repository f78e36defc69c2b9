#!/usr/bin/env bash
# scripts/netns/harness.sh's nsh_delay: connections between two namespaces get the round trip
# asked for whichever side dials, to the peer's real address (transparent: nftables DNAT into a
# delay_relay, which dials the original destination); a third node's connections do not; the
# server sees the dialling node's own address; nsh_delay again changes the round trip;
# nsh_undelay makes the pair direct again; a shallow tbf queue (nsh_shape's QUEUE_MS) is
# accepted; teardown leaves no relay, namespace or scratch folder.
# Needs root for `ip netns` and nftables; skips with 77 where namespaces cannot be made.
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/scripts/netns/harness.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-delay.XXXXXX")
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
nsh_on_teardown() { rm -rf "$T"; }
rc=0; nsh_init || rc=$?
[ "$rc" = 0 ] || exit "$rc"
PREFIX=$NSH_PREFIX
NSH_RELAY=$BIN/delay_relay

nsh_node a 0
nsh_node b 0
nsh_node c 0
# A server on port 7000 in every node: answers "<what it got> <the dialler's address>".
cat >"$T/srv.py" <<'PY'
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 7000)); s.listen(16)
while True:
    c, a = s.accept(); d = c.recv(100); c.sendall(d + f" {a[0]}".encode()); c.close()
PY
# The client: the shortest of 3 request/answer times in ms (after connecting), and the answer.
cat >"$T/cli.py" <<'PY'
import socket, sys, time
best, answer = 1e9, ""
for i in range(3):
    s = socket.create_connection((sys.argv[1], 7000)); t = time.time(); s.sendall(b"hi"); r = b""
    while True:
        d = s.recv(100)
        if not d: break
        r += d
    best = min(best, time.time() - t); answer = r.decode(); s.close()
print(f"{best * 1000:.0f} {answer}")
PY
for n in a b c; do nsh_spawn "$n" "$T/srv-$n.log" python3 "$T/srv.py"; done
for n in a b c; do
  for ((i = 0; i < 100; i++)); do nsh_exec "$n" python3 -c 'import socket; socket.create_connection(("127.0.0.1", 7000)).close()' 2>/dev/null && break; sleep 0.05; done
done
A=${NSH_ADDR[a]} B=${NSH_ADDR[b]} C=${NSH_ADDR[c]}
# ask FROM TO_ADDR: sets MS and ANSWER
ask() { read -r MS ANSWER < <(nsh_exec "$1" python3 "$T/cli.py" "$2"); }

rc=0; nsh_delay a b 80 || rc=$?
[ "$rc" = 0 ] || exit "$rc"
ask a "$B"; [ "$MS" -ge 80 ] && [ "$MS" -lt 1000 ] || fail "a -> b with RTT 80: $MS ms"
[ "$ANSWER" = "hi $A" ] || fail "a -> b: the server saw '$ANSWER' (want 'hi $A': the dialler's own address)"
pass "a dials b: $MS ms (RTT 80), b sees a's address"
ask b "$A"; [ "$MS" -ge 80 ] && [ "$MS" -lt 1000 ] || fail "b -> a with RTT 80: $MS ms"
pass "b dials a: $MS ms (RTT 80)"
ask a "$C"; [ "$MS" -lt 40 ] || fail "a -> c (not delayed): $MS ms"
ask c "$A"; [ "$MS" -lt 40 ] || fail "c -> a (not delayed): $MS ms"
pass "a <-> c not delayed"

nsh_delay a b 200
ask a "$B"; [ "$MS" -ge 200 ] && [ "$MS" -lt 1000 ] || fail "a -> b after nsh_delay a b 200: $MS ms"
pass "nsh_delay a b 200 again: $MS ms"
nsh_undelay a b
ask a "$B"; [ "$MS" -lt 40 ] || fail "a -> b after nsh_undelay: $MS ms"
ask b "$A"; [ "$MS" -lt 40 ] || fail "b -> a after nsh_undelay: $MS ms"
[ -z "$(nsh_exec a nft list chain ip nsh_delay out | grep dnat || true)" ] || fail "nsh_undelay left a DNAT rule in a"
pass "nsh_undelay: direct again, no rule left"

nsh_shape a $((8 << 20)) 5 || fail "nsh_shape with a 5 ms queue was refused"
tc -n "${NSH_NS[a]}" qdisc show dev eth0 | grep -q 'lat 5ms' || fail "tbf's queue is not 5 ms: $(tc -n "${NSH_NS[a]}" qdisc show dev eth0)"
pass "nsh_shape a RATE 5: tbf with a 5 ms queue"

nsh_delay a c 30
relay_pids=("${NSH_DELAY_PID[@]}")
dir=$NSH_DELAY_DIR
nsh_teardown
for p in "${relay_pids[@]}"; do nsh_running "$p" && fail "relay $p still runs after teardown"; done
[ ! -e "$dir" ] || fail "teardown left $dir"
left=$(nsh_leftovers "$PREFIX")
[ -z "$left" ] || fail "namespaces left behind: $left"
pass "teardown: no relay, namespace or scratch folder left"
