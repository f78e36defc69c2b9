# Tracker memory under upload abuse: 40 connections each start an 8 MiB publish
# and trickle it. Bodies in flight are budgeted (2 large uploads per address,
# 64 MiB over all): the rest get 503 before their body is read, the tracker's RSS
# stays bounded while they hang on, comes back down when they close, and a
# normal publish still works.
source "$(dirname "$0")/lib.sh"
start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db"
TPID=$LAST_PID
TPORT=$PORT
rss() { awk '/^VmRSS/{print $2}' "/proc/$TPID/status"; }
base=$(rss)
python3 - "$TPORT" "$TPID" >"$T/abuse.out" <<'PY' || fail "abuse script failed: $(cat "$T/abuse.out")"
import socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
socks, refused = [], 0
for i in range(40):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 8388608\r\n\r\n")
    socks.append(s)
chunk = b"x" * (1024 * 1024)
peak = 0
for round in range(6):            # ~6 MiB per connection that is still being read
    for s in socks:
        try:
            s.sendall(chunk)
        except OSError:
            pass
    time.sleep(0.2)
    peak = max(peak, rss())
for s in socks:
    s.settimeout(0.5)
    try:
        if b" 503 " in s.recv(200):
            refused += 1
    except OSError:
        pass
print(f"peak_kib={peak} refused={refused}")
for s in socks:
    s.close()
PY
peak=$(sed -n 's/.*peak_kib=\([0-9]*\).*/\1/p' "$T/abuse.out")
refused=$(sed -n 's/.*refused=\([0-9]*\).*/\1/p' "$T/abuse.out")
sleep 1
after=$(rss)
echo "tracker RSS: before $base KiB, peak $peak KiB, after the connections closed $after KiB; $refused of 40 got 503"
[ "$refused" -ge 30 ] || fail "only $refused of 40 uploads from one address were refused"
if ! under_sanitizer; then
  [ "$peak" -lt $((base + 40 * 1024)) ] || fail "RSS grew by $((peak - base)) KiB with 40 uploads in flight"
  [ "$after" -lt $((base + 12 * 1024)) ] || fail "RSS stayed $((after - base)) KiB above the start after the uploads closed"
fi
"$BIN/p2p-create" -q -o "$T/m.p2pmeta" "$BIN/p2p-create"
curl -sf -X POST --data-binary @"$T/m.p2pmeta" "http://127.0.0.1:$TPORT/publish" >/dev/null || fail "a normal publish failed afterwards"
pass "uploads budgeted: peak +$(((peak - base) / 1024)) MiB, after +$(((after - base) / 1024)) MiB, $refused refused"
