#!/usr/bin/env bash
# --http on p2p-seed and p2p-download: the page and its assets, the SSE stream,
# the JSON API (reads open; changes need the token and the page's origin),
# pause/resume, /metrics, the token file (0600); a download watched through
# its API while it runs; adding a file to a running seeder over the API.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }

# req METHOD URL [CURL ARGS...]: sets CODE and BODY.
req() {
  local method=$1 url=$2; shift 2
  BODY=$(curl -s -X "$method" -o - -w '\n%{http_code}' "$@" "$url")
  CODE=${BODY##*$'\n'}
  BODY=${BODY%$'\n'*}
}

mkdir -p "$T/seed" "$T/dl"
random_file "$T/seed/movie.bin" $((6 * 1024 * 1024))
"$BIN/p2p-create" -q -o "$T/movie.p2pmeta" "$T/seed/movie.bin"
IH=$(json 'j["info_hash"]' <"$T/movie.p2pmeta")

start seed "$BIN/p2p-seed" --meta "$T/movie.p2pmeta" --source "$T/seed/movie.bin" --port 0 --host 127.0.0.1 \
  --workdir "$T/seed" --http 127.0.0.1:0
SEED_PORT=$PORT SEED_PID=$LAST_PID
page_of "$T/seed.log"
SEED_URL=$URL SEED_TOKEN=$TOKEN
[ "$(stat -c %a "$T/seed/.p2p/http-token")" = 600 ] || fail "token file mode is not 0600"
[ "$(cat "$T/seed/.p2p/http-token")" = "$SEED_TOKEN" ] || fail "token file differs from the printed token"
pass "token printed once and saved with mode 0600"

req GET "$SEED_URL/"; expect 200 '/assets/app.js' "page served"
req GET "$SEED_URL/assets/app.js"; expect 200 'EventSource' "script served by the process"
curl -s "$SEED_URL/" "$SEED_URL/assets/app.js" "$SEED_URL/assets/style.css" >"$T/assets.txt"
grep -Eq '(src|href)="(https?:)?//|url\((https?:)?//|fetch\("(https?:)?//' "$T/assets.txt" && fail "the page loads something from another host"
pass "no external URL in the page"
req GET "$SEED_URL/api/files"; expect 200 "\"$IH\"" "file listed"
[ "$(echo "$BODY" | json 'j["node"]["can_add"]')" = True ] || fail "the seeder does not offer adding files"
req GET "$SEED_URL/api/files" -H 'Host: evil.example:80'; expect 403 'Host' "foreign Host refused (DNS rebinding)"

# Changes: no token, wrong token, cross-origin -> 403 and nothing changes.
req POST "$SEED_URL/api/files/$IH/pause"; expect 403 'Authorization' "pause without the token refused"
req POST "$SEED_URL/api/files/$IH/pause" -H "Authorization: Bearer $(printf '0%.0s' $(seq 64))"; expect 403 'Authorization' "wrong token refused"
req POST "$SEED_URL/api/files/$IH/pause" -H "Authorization: Bearer $SEED_TOKEN" -H 'Origin: http://evil.example'
expect 403 'cross-origin' "cross-origin POST refused"
req GET "$SEED_URL/api/files"; [ "$(echo "$BODY" | json 'j["files"][0]["phase"]')" = complete ] || fail "a refused pause changed the file"
req POST "$SEED_URL/api/files/$IH/pause" -H "Authorization: Bearer $SEED_TOKEN"; expect 200 'paused' "pause with the token"
req GET "$SEED_URL/api/files"; [ "$(echo "$BODY" | json 'j["files"][0]["phase"]')" = paused ] || fail "not paused: $BODY"
req POST "$SEED_URL/api/files/$IH/resume" -H "Authorization: Bearer $SEED_TOKEN"; expect 200 'resumed' "resume"

# A download watched through its own API while it runs (rate-capped so it takes a few seconds).
start dl "$BIN/p2p-download" --meta "$T/movie.p2pmeta" --peer "127.0.0.1:$SEED_PORT" --workdir "$T/dl" \
  --max-download-rate 640k --http 127.0.0.1:0 --listen-host 127.0.0.1 --listen-port 0
DL_PID=$LAST_PID
page_of "$T/dl.log"
DL_URL=$URL
timeout 4 curl -sN "$DL_URL/events" >"$T/events.txt" || true
[ "$(grep -c '^event: status' "$T/events.txt")" -ge 2 ] || fail "fewer than 2 pushed status events in 4 s"
grep -q '^event: history' "$T/events.txt" || fail "no history event"
pass "status pushed over SSE every second"
mid() {
  curl -s "$DL_URL/api/status" | python3 -c '
import json, sys
f = json.load(sys.stdin)["files"][0]
assert 0 < f["progress"] < 1, f["progress"]
p = f["peer_list"][0]
assert p["origin"] == "command line" and p["peer_choking"] is False, p
assert f["limited_by"]["kind"] == "download_cap", f["limited_by"]'
}
wait_for 20 "progress between 0 and 1, a peer row, limited by our cap" mid
pass "download in progress: peer row from the command line, limited by our download cap"
req GET "$DL_URL/api/files/$IH/peers"; expect 200 '"origin":"command line"' "peers endpoint"
wait_for 30 "download to finish" bash -c "! kill -0 $DL_PID"
wait "$DL_PID" || fail "download failed"
cmp "$T/seed/movie.bin" "$T/dl/movie.bin" || fail "downloaded bytes differ"
pass "download complete and identical"

req GET "$SEED_URL/metrics"; expect 200 'p2p_net_sent_payload_bytes_total' "seeder metrics"
SENT=$(echo "$BODY" | sed -n 's/^p2p_net_sent_payload_bytes_total \(.*\)$/\1/p')
python3 -c "import sys; assert float(sys.argv[1]) >= 6*1024*1024, sys.argv[1]" "$SENT" || fail "sent payload $SENT < file size"
pass "sent payload counted ($SENT bytes)"

# Adding a file to the running seeder over the API: its meta is created, it is served.
random_file "$T/seed/extra.bin" 300000
req POST "$SEED_URL/api/files" -H "Authorization: Bearer $SEED_TOKEN" -d "{\"path\": \"$T/seed/extra.bin\"}"
expect 201 'sharing extra.bin' "file added over the API"
[ -f "$T/seed/.p2p/metas/extra.bin.p2pmeta" ] || fail "no meta created for the added file"
req GET "$SEED_URL/api/files"; [ "$(echo "$BODY" | json 'len(j["files"])')" = 2 ] || fail "added file not listed"
req POST "$SEED_URL/api/files" -H "Authorization: Bearer $SEED_TOKEN" -d "{\"path\": \"$T/nothing-here\"}"
expect 400 'not a regular file' "adding a missing file refused"
req POST "$SEED_URL/api/files/$IH/remove" -H "Authorization: Bearer $SEED_TOKEN"; expect 200 'removed' "remove"
req GET "$SEED_URL/api/files"; [ "$(echo "$BODY" | json 'len(j["files"])')" = 1 ] || fail "removed file still listed"

# The port is taken: a clear error, exit 6 (bind_failed).
HOSTPORT=${SEED_URL#http://}
expect_exit 6 "$BIN/p2p-seed" --meta "$T/movie.p2pmeta" --source "$T/seed/movie.bin" --port 0 --workdir "$T/seed2" --http "$HOSTPORT"
grep -q "cannot listen on" "$T/last.err" || fail "no clear message for a busy --http port"
pass "busy --http port: exit 6"
stop "$SEED_PID"
