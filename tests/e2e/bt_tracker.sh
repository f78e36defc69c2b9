#!/usr/bin/env bash
# The BitTorrent dialects without clients: off by default, the whitelist and its
# SIGHUP reload, refusals (forged ip=, wrong lengths, spoofed UDP connection ids),
# the JSON dialect unchanged beside it, and two trackers sharing one Redis.
source "$(dirname "$0")/lib.sh"
export P2P_NO_DISCOVERY=1

IH=$(python3 -c 'print("".join("%%%02X" % b for b in bytes(range(1, 21))))')
IH_HEX=0102030405060708090a0b0c0d0e0f1011121314
PID_A=$(python3 -c 'print("".join("%%%02X" % b for b in b"-AR1360-aaaaaaaaaaaa"))')
ann() { curl -s "http://127.0.0.1:$1/announce?info_hash=$IH&peer_id=$PID_A&port=6881&left=0${2:-}"; }

# Off by default: a 20-byte info hash is a malformed JSON-dialect announce, as before.
start off "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/off.db"
ann "$PORT" | grep -q '"error":"announce: info_hash must be 64 hex digits' || fail "dialect on without --bittorrent"
python3 - "$PORT" <<'PY' || fail "a UDP tracker answered without --bittorrent"
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5)
s.sendto(struct.pack(">QII", 0x41727101980, 0, 1), ("127.0.0.1", int(sys.argv[1])))
try:
    s.recv(100); sys.exit(1)
except (socket.timeout, ConnectionRefusedError):
    pass
PY
pass "off by default (HTTP and UDP)"
stop "$LAST_PID"

# Whitelist: only listed hashes; SIGHUP re-reads the file.
printf '# test list\n%s\n' "$(printf 'ff%.0s' $(seq 1 20))" >"$T/white.txt"
start white "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/white.db" --bt-whitelist "$T/white.txt"
WP=$PORT; WPID=$LAST_PID
ann "$WP" | grep -q "failure reason.*not served by this tracker" || fail "an unlisted hash was served"
echo "$IH_HEX" >>"$T/white.txt"
kill -HUP "$WPID"
wait_for 5 "the whitelist reload" grep -q "re-read --bt-whitelist: 2 info hashes" "$T/white.log"
ann "$WP" | grep -q "^d8:completei1e" || fail "a listed hash was refused after SIGHUP: $(ann "$WP")"
ann "$WP" "&ip=192.0.2.1" | grep -q "differs from the address" || fail "forged ip= accepted"
curl -s "http://127.0.0.1:$WP/announce?info_hash=%01%02&peer_id=$PID_A&port=1&left=0" | grep -q '"error"' ||
  fail "a 2-byte info hash was not refused as malformed"
# UDP: a spoofed connection id gets a short error, never more than twice the request.
python3 - "$WP" <<'PY' || fail "UDP refusals"
import socket, struct, sys
port = int(sys.argv[1]); s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
ann = struct.pack(">QII20s20sQQQIIIiH", 12345, 1, 9, bytes(range(1, 21)), b"-XX0001-abcdefghijkl", 0, 0, 0, 2, 0, 0, -1, 6881)
s.sendto(ann, ("127.0.0.1", port)); r = s.recv(4096)
assert struct.unpack(">II", r[:8]) == (3, 9) and len(r) <= 2 * len(ann), r
s.sendto(struct.pack(">QII", 0x41727101980, 0, 7), ("127.0.0.1", port)); r = s.recv(100)
assert len(r) == 16, r
cid = struct.unpack(">IIQ", r)[2]
ann = struct.pack(">QII20s20sQQQIIIiH", cid, 1, 10, bytes(range(1, 21)), b"-XX0001-abcdefghijkl", 0, 0, 0, 2, 0, 0, -1, 6881)
s.sendto(ann, ("127.0.0.1", port)); r = s.recv(4096)
assert struct.unpack(">II", r[:8]) == (1, 10), r
s.sendto(ann[:97], ("127.0.0.1", port)); r = s.recv(4096)
assert struct.unpack(">I", r[:4])[0] == 3 and b"needs 98" in r, r
# A connect flood from one address: at most 100 unverified datagrams per 10 s are answered
# (this one already sent 3), the rest dropped; a verified announce still gets through.
for i in range(150):
    s.sendto(struct.pack(">QII", 0x41727101980, 0, 1000 + i), ("127.0.0.1", port))
got = 0
s.settimeout(0.5)
try:
    while True:
        s.recv(100); got += 1
except socket.timeout:
    pass
assert 90 <= got <= 97, got
s.sendto(ann, ("127.0.0.1", port)); r = s.recv(4096)
assert struct.unpack(">II", r[:8]) == (1, 10), r
# A burst of verified announces several times the tracker's read batch: every one is
# answered, each to its own transaction id (the loop reads on until the kernel has none).
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
for t in range(2000, 2120):
    s.sendto(ann[:12] + struct.pack(">I", t) + ann[16:], ("127.0.0.1", port))
seen = set()
s.settimeout(2)
while len(seen) < 120:
    a, t = struct.unpack(">II", s.recv(4096)[:8])
    assert a == 1, a
    seen.add(t)
assert seen == set(range(2000, 2120)), sorted(set(range(2000, 2120)) - seen)
PY
pass "whitelist, SIGHUP reload, refusals over HTTP and UDP"
stop "$WPID"

# The JSON dialect beside it is untouched.
start json "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/json.db" --bittorrent
H=$(printf 'a%.0s' $(seq 1 64)); P=$(printf '1%.0s' $(seq 1 40))
curl -s "http://127.0.0.1:$PORT/announce?info_hash=$H&peer_id=$P&port=7000&left=0" |
  grep -qx '{"interval":60,"peers":\[\],"seeders":1,"leechers":0,"rendezvous":true}' || fail "the JSON dialect changed"
pass "JSON dialect unchanged with --bittorrent"
stop "$LAST_PID"

# Two trackers on one Redis answer alike for a BitTorrent swarm.
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  start_redis
  start r1 "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --store "$REDIS_URL" --bittorrent
  P1=$PORT
  start r2 "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --store "$REDIS_URL" --bittorrent
  P2=$PORT
  wait_for 10 "tracker 1 on Redis" bash -c "curl -s 'http://127.0.0.1:$P1/announce?info_hash=$IH&peer_id=$PID_A&port=6881&left=0' | grep -q complete"
  curl -s "http://127.0.0.1:$P2/bittorrent" | grep -q "\"info_hash\":\"$IH_HEX\"" || fail "tracker 2 does not list the swarm"
  curl -s "http://127.0.0.1:$P2/scrape?info_hash=$IH" | grep -q "d8:completei1e" || fail "tracker 2 scrape: $(curl -s "http://127.0.0.1:$P2/scrape?info_hash=$IH")"
  # UDP over Redis (the answer comes after the store's round trip): tracker 2 knows the seeder.
  python3 - "$P2" "$IH_HEX" <<'PY' || fail "UDP announce through Redis"
import socket, struct, sys
port, ih = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(struct.pack(">QII", 0x41727101980, 0, 1), ("127.0.0.1", port))
cid = struct.unpack(">IIQ", s.recv(100))[2]
s.sendto(struct.pack(">QII20s20sQQQIIIiH", cid, 1, 2, ih, b"-XX0001-udpoverredis", 0, 1000, 0, 2, 0, 0, -1, 7000), ("127.0.0.1", port))
r = s.recv(4096)
action, tid, interval, leechers, seeders = struct.unpack(">IIIII", r[:20])
assert (action, tid, seeders) == (1, 2, 1), (action, tid, seeders, r)
assert socket.inet_aton("127.0.0.1") + struct.pack(">H", 6881) in [r[i:i + 6] for i in range(20, len(r), 6)], r
PY
  pass "BitTorrent swarms shared through Redis"
else
  echo "skip: Redis leg (redis-server not installed)"
fi
