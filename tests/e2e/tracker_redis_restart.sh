#!/usr/bin/env bash
# Redis crashes (kill -9) and restarts mid-run under two trackers: meanwhile
# they stay up and answer 503 with a JSON error naming the store (and each
# logs it once); they recover by themselves, and no catalog entry is lost
# (append-only file, fsync every second: what was acknowledged more than a
# second before the crash is on disk, as docs/TRACKER.md says). A tracker
# started before Redis serves 503 until Redis comes.
source "$(dirname "$0")/lib.sh"
require_redis

mkdir -p "$T/redis"
REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
start trackerA "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --store "$REDIS_URL" --interval 30
TA=127.0.0.1:$PORT
CODE=$(curl -s -o "$T/early" -w '%{http_code}' "http://$TA/files")
[ "$CODE" = 503 ] || fail "tracker started before Redis: want 503, got $CODE: $(cat "$T/early")"
run_redis || fail "redis-server did not start on port $REDIS_PORT"
wait_for 10 "tracker A to reach Redis" sh -c "curl -sf http://$TA/files >/dev/null"
pass "a tracker started before Redis answers 503, then serves once Redis is up"

start trackerB "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --store "$REDIS_URL" --interval 30
TB=127.0.0.1:$PORT
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
P1=$(printf '1%.0s' $(seq 40))

for n in 1 2 3 4; do
  random_file "$T/file$n.bin" $((n * 30000))
  make_meta "$T/file$n.bin" "file$n.bin" >"$T/file$n.p2pmeta"
  t=$TA; [ $((n % 2)) = 0 ] && t=$TB
  [ "$(code -X POST --data-binary "@$T/file$n.p2pmeta" "http://$t/publish")" = 201 ] || fail "publish file$n: $(cat "$T/body")"
done
IH=$(json 'j["info_hash"]' <"$T/file3.p2pmeta")
curl -sf "http://$TA/announce?info_hash=$IH&peer_id=$P1&port=7000&left=0&event=completed" >/dev/null
BEFORE=$(curl -sf "http://$TB/meta/$IH")
sleep 1.5  # appendfsync everysec: older writes are on disk
pass "4 files published through two trackers, 1 completed download"

kill -9 "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
for t in "$TA" "$TB"; do
  for path in /files "/lookup?name=file1.bin" "/announce?info_hash=$IH&peer_id=$P1&port=7000&left=0" /stats; do
    [ "$(code "http://$t$path")" = 503 ] || fail "$t$path with Redis down: want 503, got $(cat "$T/body")"
    grep -q "\"error\":\"tracker store (redis://127.0.0.1:$REDIS_PORT/0) unavailable: " "$T/body" \
      || fail "503 without the store error: $(cat "$T/body")"
  done
  [ "$(code -X POST --data-binary "@$T/file1.p2pmeta" "http://$t/publish")" = 503 ] || fail "publish with Redis down"
  [ "$(code "http://$t/")" = 200 ] || fail "the dashboard needs no store"
done
pass "Redis down: both trackers answer 503 naming the store"

sleep 1  # a few reconnection attempts fail meanwhile
run_redis || fail "redis-server did not restart on port $REDIS_PORT"
wait_for 10 "tracker A to recover" sh -c "curl -sf http://$TA/files >/dev/null"
wait_for 10 "tracker B to recover" sh -c "curl -sf http://$TB/files >/dev/null"
pass "both trackers recovered by themselves"

for t in "$TA" "$TB"; do
  FILES=$(curl -sf "http://$t/files")
  [ "$(json 'j["count"]' <<<"$FILES")" = 4 ] || fail "after the restart $t lists: $FILES"
  LOOKUP=$(curl -sf "http://$t/lookup?name=file3.bin")
  [ "$(json 'j["file"]["info_hash"]' <<<"$LOOKUP")" = "$IH" ] || fail "lookup by name after the restart: $LOOKUP"
  [ "$(json 'j["file"]["completed"]' <<<"$LOOKUP")" = 1 ] || fail "completed counter lost: $LOOKUP"
  [ "$(curl -sf "http://$t/meta/$IH")" = "$BEFORE" ] || fail "meta differs after the restart"
done
[ "$(code -X POST --data-binary "@$T/file1.p2pmeta" "http://$TA/publish")" = 200 ] || fail "republish after the restart"
OUT=$(curl -sf "http://$TB/announce?info_hash=$IH&peer_id=$P1&port=7000&left=0") || fail "announce after the restart"
[ "$(json 'j["seeders"]' <<<"$OUT")" = 1 ] || fail "announce after the restart: $OUT"
pass "no catalog entry lost; publish and announce work again"

# A was started before Redis: one more outage (at start) and recovery in its log.
for n in A:2 B:1; do
  LOG=$T/tracker${n%:*}.log
  [ "$(grep -c 'unavailable' "$LOG")" = "${n#*:}" ] || fail "tracker ${n%:*}: want ${n#*:} 'unavailable' lines: $(cat "$LOG")"
  [ "$(grep -c 'is back' "$LOG")" = "${n#*:}" ] || fail "tracker ${n%:*}: want ${n#*:} 'is back' lines: $(cat "$LOG")"
done
pass "each tracker logged each outage once and each recovery once"
