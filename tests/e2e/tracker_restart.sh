#!/usr/bin/env bash
# Tracker restart keeps the catalog (metas and completed counters, in SQLite);
# swarm membership is in memory and starts empty.
source "$(dirname "$0")/lib.sh"

field() { python3 -c 'import json,sys; print(eval("json.load(sys.stdin)" + sys.argv[1]))' "$1"; }

P1=$(printf '1%.0s' $(seq 40))
start tracker1 "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/state/tracker.db"
for n in 1 2 3; do
  random_file "$T/file$n.bin" $((n * 40000))
  make_meta "$T/file$n.bin" "file$n.bin" >"$T/file$n.p2pmeta"
  curl -sf -X POST --data-binary "@$T/file$n.p2pmeta" "http://127.0.0.1:$PORT/publish" >/dev/null || fail "publish file$n"
done
IH=$(field '["info_hash"]' <"$T/file2.p2pmeta")
curl -sf "http://127.0.0.1:$PORT/announce?info_hash=$IH&peer_id=$P1&port=7000&left=0&event=completed" >/dev/null
BEFORE=$(curl -sf "http://127.0.0.1:$PORT/meta/$IH")
stop "$LAST_PID"
pass "first run: 3 files published, 1 completed download"

start tracker2 "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/state/tracker.db"
FILES=$(curl -sf "http://127.0.0.1:$PORT/files")
[ "$(field '["count"]' <<<"$FILES")" = 3 ] || fail "after restart: want 3 files: $FILES"
[ "$(curl -sf "http://127.0.0.1:$PORT/meta/$IH")" = "$BEFORE" ] || fail "after restart: meta differs"
LOOKUP=$(curl -sf "http://127.0.0.1:$PORT/lookup?name=file2.bin")
[ "$(field '["file"]["info_hash"]' <<<"$LOOKUP")" = "$IH" ] || fail "after restart: lookup by name: $LOOKUP"
[ "$(field '["file"]["completed"]' <<<"$LOOKUP")" = 1 ] || fail "after restart: completed counter lost: $LOOKUP"
[ "$(field '["peers"]' <<<"$LOOKUP")" = "[]" ] || fail "after restart: swarm should start empty: $LOOKUP"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@$T/file1.p2pmeta" "http://127.0.0.1:$PORT/publish")
[ "$CODE" = 200 ] || fail "after restart: republish should be 200 (already present), got $CODE"
stop "$LAST_PID"
pass "restart keeps metas, names and counters; swarms start empty"
