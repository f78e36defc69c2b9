#!/usr/bin/env bash
# p2p-tracker --relay: the "relay listening" line after the "listening" one, a
# garbage connection and a bad ticket refused with the relay's error frame (a
# python3 client), usage errors for the relay options, a busy relay port, and
# a clean SIGTERM while a relay connection is open.
source "$(dirname "$0")/lib.sh"

start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" --relay --relay-port 0
HTTP_PORT=$PORT
TRACKER_PID=$LAST_PID
wait_for 5 "the relay line" grep -q '^relay listening ' "$T/tracker.log"
[ "$(sed -n 1p "$T/tracker.log")" = "listening 127.0.0.1:$HTTP_PORT" ] || fail "first line: $(cat "$T/tracker.log")"
RELAY_LINE=$(sed -n 2p "$T/tracker.log")
RELAY_PORT=$(echo "$RELAY_LINE" | sed -n 's/^relay listening 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p')
[ -n "$RELAY_PORT" ] && [ "$RELAY_PORT" != 0 ] && [ "$RELAY_PORT" != "$HTTP_PORT" ] || fail "relay line: $RELAY_LINE"
pass "'listening HOST:PORT' first, then 'relay listening HOST:PORT' (port $RELAY_PORT)"

# relay_client PORT MODE: sends one kind of bad input and prints the relay's
# answer as "CODE|MESSAGE"; fails unless it is one error frame followed by the end.
relay_client() {
  python3 - "$@" <<'PY'
import json, socket, struct, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
if mode == "garbage":
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(range(256)))
elif mode == "json-garbage":
    body = b"{not json at all"
    s.sendall(struct.pack(">I", len(body)) + body)
elif mode == "bad-ticket":
    body = json.dumps({"type": "relay_hello", "ticket": "0" * 64, "role": "dialler"}).encode()
    s.sendall(struct.pack(">I", len(body)) + body)
def read_exact(n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            sys.exit(f"the relay closed after {len(data)} of {n} bytes")
        data += chunk
    return data
t0 = time.monotonic()
(n,) = struct.unpack(">I", read_exact(4))
if not 1 <= n <= 1024:
    sys.exit(f"answer header length {n}")
frame = json.loads(read_exact(n))
if frame.get("type") != "error":
    sys.exit(f"expected an error frame, got {frame}")
if s.recv(1) != b"":
    sys.exit("the relay did not close after its error frame")
if time.monotonic() - t0 > 2:
    sys.exit("the refusal took more than 2 s")
print(f'{frame.get("code")}|{frame.get("message")}')
PY
}

OUT=$(relay_client "$RELAY_PORT" garbage) || fail "garbage: $OUT"
case "$OUT" in
  "relay_refused|bad relay_hello: hello header length"*"is outside 1-1024") ;;
  *) fail "garbage: unexpected answer: $OUT" ;;
esac
OUT=$(relay_client "$RELAY_PORT" json-garbage) || fail "json garbage: $OUT"
[ "$OUT" = "relay_refused|bad relay_hello: the header is not JSON" ] || fail "json garbage: $OUT"
OUT=$(relay_client "$RELAY_PORT" bad-ticket) || fail "bad ticket: $OUT"
[ "$OUT" = "relay_refused|ticket unknown, expired or already used as dialler" ] || fail "bad ticket: $OUT"
pass "garbage, a malformed hello and an unknown ticket: refused with the relay_refused error frame, then closed"

curl -sf "http://127.0.0.1:$HTTP_PORT/stats" >/dev/null || fail "the HTTP API stopped answering beside the relay"
pass "the HTTP API answers beside the relay"

expect_exit 6 "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/other.db" --relay --relay-port "$RELAY_PORT"
grep -q "cannot listen for the relay on 127.0.0.1:$RELAY_PORT: Address already in use" "$T/last.err" ||
  fail "busy relay port: $(cat "$T/last.err")"
pass "a busy relay port: exit 6 naming the relay"

for bad in "--relay-rate bogus" "--relay-swarm-rate -5" "--relay-rate 12X" "--relay-max-pairs 0" "--relay-port 70000"; do
  # shellcheck disable=SC2086
  expect_exit 2 "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/other.db" --relay $bad
  [ "$(wc -l <"$T/last.err")" -le 2 ] || fail "$bad: the usage error is not short: $(cat "$T/last.err")"
  grep -q -- "${bad%% *}" "$T/last.err" || fail "$bad: the message does not name the option: $(cat "$T/last.err")"
done
expect_exit 2 "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/other.db" --relay-port 7000
grep -q -- "--relay" "$T/last.err" || fail "--relay-port without --relay: $(cat "$T/last.err")"
pass "invalid relay options (or one without --relay): exit 2 naming the option"

# Without --relay there is no relay line (and nothing listens for one).
start plain "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/plain.db"
sleep 0.2
grep -q '^relay listening' "$T/plain.log" && fail "a relay without --relay: $(cat "$T/plain.log")"
stop "$LAST_PID"
pass "no --relay: no relay"

# SIGTERM while a member waits silently on the relay: exit 0, promptly.
python3 -c 'import socket,sys,time; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); time.sleep(30)' \
  "$RELAY_PORT" &
HOLDER=$!
PIDS+=("$HOLDER")
sleep 0.3
kill -TERM "$TRACKER_PID"
for i in $(seq 1 100); do kill -0 "$TRACKER_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$TRACKER_PID" 2>/dev/null && fail "the tracker did not exit within 5 s of SIGTERM"
set +e; wait "$TRACKER_PID"; RC=$?; set -e
[ "$RC" = 0 ] || fail "SIGTERM: want exit 0, got $RC"
kill "$HOLDER" 2>/dev/null || true
pass "SIGTERM with a relay connection open: exit 0"
