#!/usr/bin/env bash
# p2p-tracker against a Redis that answers garbage (a fake speaking RESP, in
# Python): replies of the wrong type or size, numbers out of range, bad peer
# records, error replies, oversized arrays (refused inside hiredis's reader,
# before it allocates), bytes that are not RESP, and
# silence, to the announce script (event=started; a periodic announce of a
# known peer takes plain commands). Every request gets a 503 saying what was wrong; the tracker never
# crashes and reconnects after the protocol error and the silence.
source "$(dirname "$0")/lib.sh"

cat >"$T/fake_redis.py" <<'PY'
import hashlib, socket, sys, threading
# What each announce (EVALSHA with its 13 words) gets, in turn; the tracker's
# background commands (counter flushes, the sweep lock) get an error reply.
ANSWERS = [
    b"+OK\r\n",
    b"*2\r\n:1\r\n:2\r\n",
    b"*4\r\n:9\r\n:0\r\n:0\r\n:0\r\n",
    b"*5\r\n:0\r\n:1\r\n:0\r\n:0\r\n$10\r\nnot-a-peer\r\n",
    b"*4\r\n:0\r\n:-5\r\n:0\r\n:0\r\n",
    b"-ERR something broke\r\n",
    b"*30000\r\n" + b":1\r\n" * 30000,
    b"*2000000000\r\n",  # would be 16 GB of pointers if hiredis allocated it
    b"hello\r\n",
    None,  # a stuck Redis: nothing more on this connection
]
turn = 0
lock = threading.Lock()

def read_command(f):
    line = f.readline()
    if not line: return None
    assert line[:1] == b"*", line
    words = []
    for _ in range(int(line[1:])):
        n = int(f.readline()[1:])
        words.append(f.read(n + 2)[:-2])
    return words

def serve(conn):
    global turn
    f = conn.makefile("rb")
    while True:
        words = read_command(f)
        if words is None: return
        cmd = words[0].upper()
        if cmd == b"SCRIPT":
            sha = hashlib.sha1(words[2]).hexdigest().encode()
            conn.sendall(b"$40\r\n" + sha + b"\r\n")
        elif cmd in (b"SELECT", b"PING"):
            conn.sendall(b"+OK\r\n")
        elif cmd != b"EVALSHA" or len(words) != 13:
            conn.sendall(b"-ERR not in this test\r\n")
        else:
            with lock:
                answer = ANSWERS[turn % len(ANSWERS)]
                turn += 1
            if answer is None:
                threading.Event().wait()  # keep the socket open, answer nothing
            conn.sendall(answer)

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
print("listening 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
start fake python3 "$T/fake_redis.py"
FAKE=$PORT
start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --store "redis://127.0.0.1:$FAKE"
TRACKER=$LAST_PID
TR=127.0.0.1:$PORT
wait_for 10 "the tracker to connect to the fake Redis" grep -q connected "$T/tracker.log"

H=$(printf 'a%.0s' $(seq 64)); P1=$(printf '1%.0s' $(seq 40))
expect_503() {  # NEEDLE: the next announce gets 503 whose error contains NEEDLE
  local code
  code=$(curl -s -m 10 -o "$T/body" -w "%{http_code}" "http://$TR/announce?info_hash=$H&peer_id=$P1&port=1&left=0&event=started")
  [ "$code" = 503 ] || fail "want 503 for '$1', got $code: $(cat "$T/body")"
  grep -qF -- "$1" "$T/body" || fail "503 without '$1': $(cat "$T/body")"
  grep -q '^{"error":"tracker store' "$T/body" || fail "not a store error: $(cat "$T/body")"
  kill -0 "$TRACKER" || fail "the tracker died"
  pass "garbage answer -> 503: $(cut -c1-110 "$T/body")"
}
expect_503 'expected an array, got the status \"OK\"'
expect_503 '2 elements, expected 4-54'
expect_503 '9 is outside 0-3'
expect_503 'a peer record unexpectedly: malformed'
expect_503 '-5 is outside'
expect_503 'the error \"ERR something broke\"'
# Refused inside hiredis's reader, before it allocates: the connection is dropped and re-made.
expect_503 '30000 elements, more than the 20000 allowed'
wait_for 10 "a reconnection after the oversized reply" sh -c "[ \$(grep -c 'is back' '$T/tracker.log') -ge 1 ]"
expect_503 '2000000000 elements, more than the 20000 allowed'
wait_for 10 "a reconnection after the announced huge array" sh -c "[ \$(grep -c 'is back' '$T/tracker.log') -ge 2 ]"
expect_503 'Protocol error'
wait_for 10 "a reconnection after the protocol error" sh -c "[ \$(grep -c 'is back' '$T/tracker.log') -ge 3 ]"
S0=$(date +%s)
expect_503 'no answer within 3000 ms'
[ $(( $(date +%s) - S0 )) -le 6 ] || fail "a silent Redis held a request for more than the command timeout"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$TR/")" = 200 ] || fail "the tracker stopped serving"
pass "the tracker survived every kind of garbage and kept serving"
