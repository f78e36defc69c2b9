#!/usr/bin/env bash
# tests/tools/delay_relay (the latency harness's relay, scripts/netns/harness.sh nsh_delay) on
# loopback: bytes arrive intact and in order both ways at once; no byte arrives before its
# direction's delay (round trips at least up + down); a half-close is passed on no earlier than
# the bytes before it, and the other direction still flows; a reset is passed on as a reset;
# a full buffer stops reading (bounded memory, the rate falls to buffer/delay); bad flags are a
# one-line error with exit 2; SIGTERM exits 0.
set -euo pipefail
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/p2p-relay.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# relay NAME ARGS...: starts a relay to the echo/sink server of that case; sets RELAY_PORT, RELAY_PID.
relay() {
  local name=$1 i; shift
  "$BIN/delay_relay" --listen 127.0.0.1:0 "$@" >"$T/$name.log" 2>&1 &
  RELAY_PID=$!
  PIDS+=("$RELAY_PID")
  for ((i = 0; i < 100; i++)); do
    RELAY_PORT=$(sed -n '1s/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/$name.log" 2>/dev/null || true)
    [ -n "$RELAY_PORT" ] && return 0
    sleep 0.05
  done
  fail "$name: the relay did not print its address: $(cat "$T/$name.log")"
}

# The peer programs: python, one process that is both the server behind the relay and the client.
cat >"$T/peer.py" <<'PY'
import hashlib, os, socket, struct, sys, threading, time
case, relay_port, srv_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", srv_port)); srv.listen(1)
out = {}

def drain(s, want=None):
    h, n = hashlib.sha256(), 0
    while want is None or n < want:
        d = s.recv(1 << 20)
        if not d: break
        h.update(d); n += len(d)
    return h.hexdigest(), n

def server():
    c, _ = srv.accept()
    if case == "both":
        data = os.urandom(8 << 20); out["down_sent"] = hashlib.sha256(data).hexdigest()
        t = threading.Thread(target=lambda: c.sendall(data)); t.start()
        out["up_got"] = drain(c)[0]; t.join(); c.close()
    elif case in ("rtt", "halfclose"):
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d)
        out["eof_at"] = time.time()
        c.sendall(b"BYE"); c.close()
    elif case == "reset":
        try:
            while c.recv(65536): pass
            out["server_saw"] = "eof"
        except ConnectionResetError:
            out["server_saw"] = "reset"
    elif case == "pressure":
        out["up_got"] = drain(c)[1]; c.close()

th = threading.Thread(target=server); th.start()
s = socket.create_connection(("127.0.0.1", relay_port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
if case == "both":
    data = os.urandom(8 << 20)
    t = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR))); t.start()
    got = drain(s)[0]; t.join(); th.join()
    ok = got == out["down_sent"] and out["up_got"] == hashlib.sha256(data).hexdigest()
    print("intact" if ok else "differ")
elif case == "rtt":
    worst = 1e9
    for i in range(5):
        t = time.time(); s.sendall(struct.pack("!I", i)); d = b""
        while len(d) < 4: d += s.recv(4 - len(d))
        assert struct.unpack("!I", d)[0] == i
        worst = min(worst, time.time() - t)
    s.shutdown(socket.SHUT_WR); drain(s); th.join()
    print(f"{worst * 1000:.1f}")   # the shortest of 5 round trips, ms
elif case == "halfclose":
    s.sendall(b"hello"); t = time.time(); s.shutdown(socket.SHUT_WR)
    h, n = drain(s); th.join()
    # the server saw EOF no earlier than the up delay after the shutdown; the client still got all
    print(f"{(out['eof_at'] - t) * 1000:.1f} {n}")
elif case == "reset":
    s.sendall(b"x" * 1000); time.sleep(0.2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()
    th.join(); print(out["server_saw"])
elif case == "pressure":
    t = time.time(); s.sendall(bytes(8 << 20)); s.shutdown(socket.SHUT_WR); drain(s); th.join()
    print(f"{time.time() - t:.2f} {out['up_got']}")
PY
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

P=$(port); relay both --target "127.0.0.1:$P"
[ "$(timeout 60 python3 "$T/peer.py" both "$RELAY_PORT" "$P")" = intact ] || fail "8 MiB each way at once did not arrive intact"
pass "8 MiB each way at once, no delay: intact and in order"
kill -TERM "$RELAY_PID"; rc=0; wait "$RELAY_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM: the relay exited with $rc"
pass "SIGTERM: exit 0"

P=$(port); relay rtt --target "127.0.0.1:$P" --delay-ms 60
rtt=$(timeout 60 python3 "$T/peer.py" rtt "$RELAY_PORT" "$P")
python3 -c "import sys; sys.exit(0 if 120 <= $rtt < 1000 else 1)" || fail "--delay-ms 60: a round trip took $rtt ms (want ≥ 120)"
pass "--delay-ms 60: shortest round trip $rtt ms (≥ 120)"

P=$(port); relay asym --target "127.0.0.1:$P" --delay-up-ms 90 --delay-down-ms 10
rtt=$(timeout 60 python3 "$T/peer.py" rtt "$RELAY_PORT" "$P")
python3 -c "import sys; sys.exit(0 if 100 <= $rtt < 1000 else 1)" || fail "--delay-up-ms 90 --delay-down-ms 10: a round trip took $rtt ms (want ≥ 100)"
pass "--delay-up-ms 90 --delay-down-ms 10: shortest round trip $rtt ms (≥ 100)"

P=$(port); relay half --target "127.0.0.1:$P" --delay-up-ms 80 --delay-down-ms 0
read -r eof_ms n <<<"$(timeout 60 python3 "$T/peer.py" halfclose "$RELAY_PORT" "$P")"
python3 -c "import sys; sys.exit(0 if $eof_ms >= 80 else 1)" || fail "half-close reached the server after $eof_ms ms (want ≥ 80)"
[ "$n" = 8 ] || fail "after its half-close the client got $n bytes back (want 8: hello + BYE)"
pass "half-close passed on after $eof_ms ms (≥ the 80 ms delay); the other direction still flowed"

P=$(port); relay reset --target "127.0.0.1:$P" --delay-ms 5
[ "$(timeout 60 python3 "$T/peer.py" reset "$RELAY_PORT" "$P")" = reset ] || fail "a reset was not passed on as a reset"
pass "a reset is passed on as a reset"

# 1 MiB per direction and 200 ms: about 5 MiB/s at most, so 8 MiB take ≥ 1.4 s (asserted: ≥ 1.2 s),
# and memory stays small.
P=$(port); relay pressure --target "127.0.0.1:$P" --delay-ms 200 --buffer-bytes $((1 << 20))
read -r secs got <<<"$(timeout 60 python3 "$T/peer.py" pressure "$RELAY_PORT" "$P")"
[ "$got" = $((8 << 20)) ] || fail "--buffer-bytes: the server got $got bytes of 8 MiB"
hwm=$(awk '/^VmHWM/{print $2}' "/proc/$RELAY_PID/status")
python3 -c "import sys; sys.exit(0 if $secs >= 1.2 else 1)" || fail "--buffer-bytes 1 MiB at 200 ms: 8 MiB took only $secs s (the buffer did not bound it)"
limit=$((24 << 10))   # KiB; a sanitizer build's allocator (shadow, quarantine) needs far more
# ldd's output is read whole, not piped into `grep -q`: under pipefail grep's early exit can
# kill ldd with SIGPIPE, fail the pipe, and leave a sanitizer build at the plain limit.
deps=$(ldd "$BIN/delay_relay" 2>/dev/null || true)
[[ $deps == *lib[at]san* ]] && limit=$((512 << 10))
[ "$hwm" -lt "$limit" ] || fail "--buffer-bytes 1 MiB: the relay's peak RSS was $hwm KiB"
pass "--buffer-bytes 1 MiB, 200 ms: 8 MiB took $secs s (≥ 1.2), relay peak RSS $hwm KiB"

for bad in "--target nowhere" "--transparent --target 127.0.0.1:1" "--target 127.0.0.1:1 --mark x" "--target 127.0.0.1:1 --listen 1.2.3"; do
  rc=0
  # shellcheck disable=SC2086
  "$BIN/delay_relay" $bad >"$T/bad.log" 2>&1 || rc=$?
  [ "$rc" = 2 ] || fail "delay_relay $bad: exit $rc (want 2)"
  [ "$(wc -l <"$T/bad.log")" -ge 1 ] && grep -q "delay_relay: " "$T/bad.log" || fail "delay_relay $bad: no error line: $(cat "$T/bad.log")"
done
pass "bad flags: one-line errors, exit 2"
