#!/usr/bin/env bash
# Tracker HTTP API end to end against the real executable: every endpoint,
# every class of bad input, keep-alive and pipelining, timeouts, clean SIGTERM.
source "$(dirname "$0")/lib.sh"


# raw HOST PORT DATA [WAIT]: sends DATA (printf escapes), prints everything the tracker answers.
raw() {
  python3 - "$@" <<'PY'
import socket, sys, time
host, port, data = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode().decode('unicode_escape').encode('latin1')
wait = float(sys.argv[4]) if len(sys.argv) > 4 else 3
s = socket.create_connection((host, port))
s.sendall(data)
s.settimeout(wait)
out = b''
try:
    while True:
        b = s.recv(65536)
        if not b: break
        out += b
except socket.timeout:
    pass
sys.stdout.write(out.decode('latin1'))
PY
}

# req METHOD PATH [CURL ARGS...]: sets CODE and BODY.
req() {
  local method=$1 path=$2; shift 2
  BODY=$(curl -s -X "$method" -o - -w '\n%{http_code}' "$@" "http://127.0.0.1:$PORT$path")
  CODE=${BODY##*$'\n'}
  BODY=${BODY%$'\n'*}
}

H=$(printf 'a%.0s' $(seq 64)); P1=$(printf '1%.0s' $(seq 40)); P2=$(printf '2%.0s' $(seq 40))
start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/db/tracker.db" --interval 1 --header-timeout 1
TRACKER=$LAST_PID

# --- announce ----------------------------------------------------------------
req GET "/announce?info_hash=$H&peer_id=$P1&port=6881&left=0&event=started"
expect 200 '"interval":1,"peers":[],"seeders":1,"leechers":0' "announce: first peer (seeder)"
req GET "/announce?info_hash=$H&peer_id=$P2&port=6882&left=100&event=started&uploaded=0&downloaded=0&numwant=10"
expect 200 '"peers":[{"ip":"127.0.0.1","port":6881}],"seeders":1,"leechers":1' "announce: leecher sees the seeder"
req GET "/announce?info_hash=$H&peer_id=$P2&port=6882&left=100&numwant=0"
expect 200 '"peers":[]' "announce: numwant=0"
req GET "/announce?info_hash=$H&peer_id=$P1&port=6881&left=0&event=stopped"
expect 200 '"seeders":0,"leechers":1' "announce: stopped removes at once"
req GET "/announce?info_hash=abc&peer_id=$P1&port=1&left=0";       expect 400 'info_hash must be 64 hex' "announce: short info_hash"
req GET "/announce?info_hash=${H%a}g&peer_id=$P1&port=1&left=0";   expect 400 'info_hash must be 64 hex' "announce: non-hex info_hash"
req GET "/announce?peer_id=$P1&port=1&left=0";                      expect 400 'missing parameter info_hash' "announce: missing info_hash"
req GET "/announce?info_hash=$H&peer_id=zz&port=1&left=0";          expect 400 'peer_id must be 40 hex' "announce: bad peer_id"
req GET "/announce?info_hash=$H&peer_id=$P1&port=99999&left=0";     expect 400 'port must be' "announce: bad port"
req GET "/announce?info_hash=$H&peer_id=$P1&port=1";                expect 400 'missing parameter left' "announce: missing left"
req GET "/announce?info_hash=$H&peer_id=$P1&port=1&left=0&event=x"; expect 400 'event must be' "announce: bad event"
req GET "/announce?info_hash=%G1&peer_id=$P1&port=1&left=0";        expect 400 'percent-escape' "announce: bad escape"
req POST "/announce";                                               expect 405 'method not allowed' "announce: POST is 405"

# Dead-peer cleanup: with --interval 1 a silent peer is gone within ~2.5 s.
sleep 3
req GET "/scrape?info_hash=$H"
expect 200 "\"$H\":{\"completed\":0,\"leechers\":0,\"seeders\":0}" "expiry: silent peer dropped after two intervals"

# --- publish / meta / files / lookup / scrape -----------------------------------
random_file "$T/song one.ogg" 100000
make_meta "$T/song one.ogg" "song one.ogg" >"$T/song.p2pmeta"
IH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["info_hash"])' "$T/song.p2pmeta")
req POST /publish --data-binary "@$T/song.p2pmeta" -H 'Content-Type: application/json'
expect 201 "\"info_hash\":\"$IH\"" "publish: created"
req POST /publish --data-binary "@$T/song.p2pmeta"
expect 200 '"created":false' "publish: already present"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); j["size"]+=1; print(json.dumps(j))' "$T/song.p2pmeta" >"$T/bad.p2pmeta"
req POST /publish --data-binary "@$T/bad.p2pmeta";  expect 400 'invalid meta' "publish: meta failing validation"
req POST /publish --data-binary 'not json';          expect 400 'not valid JSON' "publish: not JSON"
req POST /publish;                                   expect 400 'empty body' "publish: empty body"
head -c $((9 * 1024 * 1024)) /dev/zero >"$T/huge"
req POST /publish --data-binary "@$T/huge";          expect 413 'larger than' "publish: oversized body refused before reading"
req GET /publish;                                    expect 405 'use POST' "publish: GET is 405"

req GET "/meta/$IH"
[ "$CODE" = 200 ] || fail "meta: want 200, got $CODE"
[ "$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])')" = "$IH" ] || fail "meta: wrong body"
pass "meta: served back"
req GET "/meta/$H";   expect 404 'no published file' "meta: unknown hash"
req GET "/meta/nope"; expect 400 '64 hex' "meta: bad hash"

curl -s "http://127.0.0.1:$PORT/announce?info_hash=$IH&peer_id=$P1&port=7001&left=0&event=started" >/dev/null
curl -s "http://127.0.0.1:$PORT/announce?info_hash=$IH&peer_id=$P2&port=7002&left=5&event=started" >/dev/null
curl -s "http://127.0.0.1:$PORT/announce?info_hash=$IH&peer_id=$P2&port=7002&left=0&event=completed" >/dev/null
req GET /files;                 expect 200 "{\"completed\":1,\"info_hash\":\"$IH\",\"leechers\":0,\"name\":\"song one.ogg\"" "files: lists the file with counts"
req GET "/files?q=one";         expect 200 '"count":1' "files: ?q= matches"
req GET "/files?q=zzz";         expect 200 '"files":[]' "files: ?q= filters"
req GET "/files?limit=x";       expect 400 'limit must be' "files: bad limit"
req GET "/lookup?name=song%20one.ogg";    expect 200 "\"info_hash\":\"$IH\"" "lookup: by name"
req GET "/lookup?file_name=song+one.ogg"; expect 200 '"port":7001' "lookup: file_name= compat, with peers"
req GET "/lookup?info_hash=$IH";          expect 200 '"name":"song one.ogg"' "lookup: by info hash"
req GET "/lookup?name=nothing";           expect 404 'no published file named' "lookup: unknown name"
req GET "/lookup";                        expect 400 'exactly one of' "lookup: no key"
req GET "/scrape?info_hash=$IH&info_hash=$H"; expect 200 "\"$IH\":{\"completed\":1,\"leechers\":0,\"seeders\":2}" "scrape: two hashes"
req GET "/scrape";                        expect 400 'at least one' "scrape: none"
MANY=$(for i in $(seq 65); do printf 'info_hash=%s&' "$H"; done)
req GET "/scrape?$MANY";                  expect 400 'at most 64' "scrape: too many"

# --- metrics, stats, dashboard ------------------------------------------------------
req GET /metrics; expect 200 'p2p_tracker_requests_total{endpoint="announce",status="200"}' "metrics: request counters"
case "$BODY" in *p2p_tracker_announce_duration_seconds_bucket*p2p_tracker_swarms*p2p_tracker_peers*) pass "metrics: latency, swarms, peers" ;; *) fail "metrics incomplete" ;; esac
req GET /stats;   expect 200 '"files":1' "stats"
req GET /;        expect 200 '<title>p2p-tracker</title>' "dashboard served"
case "$BODY" in *'src="http'*|*'href="http'*) fail "dashboard loads external resources" ;; esac

# --- HTTP-level errors --------------------------------------------------------------
req GET /nowhere; expect 404 'no such endpoint' "unknown path"
req GET "/files?$(head -c 7000 /dev/zero | tr '\0' 'x')"; expect 414 'longer than' "URL too long"
req GET /files -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' 'x')"; expect 431 'headers larger than' "headers too large"
OUT=$(raw 127.0.0.1 "$PORT" 'BLAH\x01 / HTTP/1.1\r\n\r\n')
case "$OUT" in "HTTP/1.1 400"*'malformed HTTP request'*) pass "malformed request line" ;; *) fail "malformed: $OUT" ;; esac
OUT=$(raw 127.0.0.1 "$PORT" 'POST /files HTTP/1.1\r\nContent-Length: 999999\r\n\r\n')
case "$OUT" in "HTTP/1.1 413"*) pass "body on a GET-only endpoint beyond the small-body limit" ;; *) fail "small body limit: $OUT" ;; esac

# Keep-alive and pipelining: three requests in one write, three answers in order.
OUT=$(raw 127.0.0.1 "$PORT" 'GET /stats HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /files HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
STATUSES=$(printf '%s' "$OUT" | grep -o 'HTTP/1\.1 [0-9][0-9][0-9]' | paste -sd, -)
[ "$STATUSES" = 'HTTP/1.1 200,HTTP/1.1 404,HTTP/1.1 200' ] || fail "pipelining: want 200,404,200 in order, got $STATUSES: $OUT"
pass "keep-alive + pipelining in order"

# Timeouts: a silent client and a half-sent header get 408 after --header-timeout,
# and neither holds up anybody else meanwhile.
raw 127.0.0.1 "$PORT" '' 4 >"$T/silent.out" &
SILENT=$!
raw 127.0.0.1 "$PORT" 'GET /files HTTP/1.1\r\nHost: x\r\n' 4 >"$T/partial.out" &
PARTIAL=$!
sleep 0.2
S0=$(date +%s%N)
req GET /stats; expect 200 '"connections"' "others served while slow clients wait"
[ $(( ($(date +%s%N) - S0) / 1000000 )) -lt 500 ] || fail "a silent client delayed others"
wait $SILENT $PARTIAL
grep -q '^HTTP/1.1 408' "$T/silent.out" || fail "silent client: no 408: $(cat "$T/silent.out")"
grep -q '^HTTP/1.1 408' "$T/partial.out" || fail "partial header: no 408: $(cat "$T/partial.out")"
pass "silent client and partial header get 408"

# --- still alive, then a clean stop -----------------------------------------------
req GET /stats; expect 200 '"swarms"' "tracker survived everything"
kill -TERM "$TRACKER"
for i in $(seq 100); do kill -0 "$TRACKER" 2>/dev/null || break; sleep 0.05; done
set +e; wait "$TRACKER"; RC=$?; set -e
[ "$RC" = 0 ] || fail "SIGTERM: want exit 0, got $RC"
pass "SIGTERM stops cleanly with exit 0"
