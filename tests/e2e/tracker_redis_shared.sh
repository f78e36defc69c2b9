#!/usr/bin/env bash
# Three p2p-tracker processes sharing one Redis (--store redis://) answer alike:
# an announce on A is returned by B, a file published on A is downloaded by
# name through B, a withdraw through B removes it from A's answers, a silent
# peer expires once (not once per tracker), and the state outlives the trackers.
source "$(dirname "$0")/lib.sh"
require_redis
start_redis

H=$(printf 'a%.0s' $(seq 64)); P1=$(printf '1%.0s' $(seq 40)); P2=$(printf '2%.0s' $(seq 40))
P3=$(printf '3%.0s' $(seq 40))

# start_trackers INTERVAL: trackers A, B, C on the shared Redis; sets TA TB TC (HOST:PORT) and their pids.
start_trackers() {
  local name
  for name in A B C; do
    start "tracker$name-$1" "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --store "$REDIS_URL" --interval "$1"
    printf -v "T$name" '127.0.0.1:%s' "$PORT"
    printf -v "PID_$name" '%s' "$LAST_PID"
  done
}
get() { curl -sf "http://$1$2"; }

# --- expiry happens once, whichever tracker sweeps -----------------------------------
start_trackers 1
get "$TA" "/announce?info_hash=$H&peer_id=$P1&port=6881&left=0&event=started" >/dev/null || fail "announce on A"
[ "$(get "$TB" "/scrape?info_hash=$H" | json "j['files']['$H']['seeders']")" = 1 ] || fail "B does not see A's peer"
[ "$(get "$TC" /stats | json 'j["peers"]')" = 1 ] || fail "C does not count A's peer"
pass "a peer announced on A is seen by B and C"
# Silent for two intervals (2 s): gone within ~3 s, counted as expired exactly once
# although three trackers sweep every half interval.
wait_for 8 "the silent peer to expire" sh -c "curl -sf http://$TC/stats | grep -q '\"peers\":0'"
sleep 1.5  # more sweeps by all three: nothing more may be counted
for t in "$TA" "$TB" "$TC"; do
  STATS=$(get "$t" /stats)
  [ "$(json 'j["expired_peers"]' <<<"$STATS")" = 1 ] || fail "expired_peers on $t: want 1, got $STATS"
  [ "$(json 'j["swarms"]' <<<"$STATS")" = 0 ] || fail "swarm left behind on $t: $STATS"
done
[ "$(redis-cli -p "$REDIS_PORT" exists "p2p:v1:swarm:$H")" = 0 ] || fail "the swarm's sorted set outlived its last peer"
pass "a silent peer expired once across three trackers"
for p in "$PID_A" "$PID_B" "$PID_C"; do stop "$p"; done

# --- announces, publish, download by name, withdraw --------------------------------
start_trackers 30
[ "$(get "$TB" /stats | json 'j["expired_peers"]')" = 1 ] || fail "state did not outlive the trackers"
pass "the shared state outlives every tracker process"

get "$TA" "/announce?info_hash=$H&peer_id=$P1&port=6881&left=0&event=started" >/dev/null
OUT=$(get "$TB" "/announce?info_hash=$H&peer_id=$P2&port=6882&left=5&event=started")
[ "$(json 'j["peers"]' <<<"$OUT")" = "[{'ip': '127.0.0.1', 'port': 6881}]" ] || fail "B's answer lacks A's peer: $OUT"
[ "$(json '(j["seeders"], j["leechers"])' <<<"$OUT")" = "(1, 1)" ] || fail "B's counts: $OUT"
OUT=$(get "$TC" "/announce?info_hash=$H&peer_id=$P3&port=6883&left=5&numwant=1")
[ "$(json 'len(j["peers"])' <<<"$OUT")" = 1 ] || fail "numwant through C: $OUT"
# A known peer's periodic announce with a new port (the fast path sees the
# record differ and falls back to the script): everyone sees the new port.
get "$TA" "/announce?info_hash=$H&peer_id=$P3&port=7777&left=5" >/dev/null
PORTS=$(get "$TB" "/announce?info_hash=$H&peer_id=$P2&port=6882&left=5" | json 'sorted(p["port"] for p in j["peers"])')
[ "$PORTS" = "[6881, 7777]" ] || fail "after P3 moved to port 7777, B answers ports $PORTS"
get "$TA" "/announce?info_hash=$H&peer_id=$P2&port=6882&left=5&event=completed" >/dev/null
get "$TB" "/announce?info_hash=$H&peer_id=$P2&port=6882&left=5&event=completed" >/dev/null
[ "$(get "$TC" "/scrape?info_hash=$H" | json "j['files']['$H']['completed']")" = 1 ] \
  || fail "a completed event sent to A and to B counted twice: $(get "$TC" "/scrape?info_hash=$H")"
get "$TC" "/announce?info_hash=$H&peer_id=$P1&port=6881&left=0&event=stopped" >/dev/null
[ "$(get "$TA" "/scrape?info_hash=$H" | json "j['files']['$H']['seeders']")" = 0 ] || fail "stopped on C not seen on A"
pass "announce on A answered by B; a new port seen everywhere; completed via A and B counted once; stopped on C seen by A"

mkdir -p "$T/src"
random_file "$T/src/shared.bin" $((3 * 1024 * 1024 + 17))
# The meta names no live tracker (port 1 refuses): the seeder knows only A, the
# downloader only B, so the only way they meet is the store A and B share.
"$BIN/p2p-create" -q --piece-size 65536 --tracker 127.0.0.1:1 "$T/src/shared.bin"
META=$T/src/shared.bin.p2pmeta
IH=$(json 'j["info_hash"]' <"$META")
PUB=$(curl -sf -X POST --data-binary "@$META" "http://$TA/publish") || fail "publish on A"
[ "$(json 'j["created"]' <<<"$PUB")" = True ] || fail "publish on A: $PUB"
TOKEN=$(json 'j["owner_token"]' <<<"$PUB")
[ ${#TOKEN} = 64 ] || fail "publish answered no owner token: $PUB"
[ "$(curl -sf -X POST --data-binary "@$META" "http://$TC/publish" | json 'j["created"]')" = False ] || fail "C re-created A's file"
[ "$(get "$TB" "/meta/$IH")" = "$(get "$TA" "/meta/$IH")" ] || fail "B serves a different meta"
pass "published on A, known to B and C"

start seed "$BIN/p2p-seed" --meta "$META" --source "$T/src/shared.bin" --host 127.0.0.1 --port 0 --tracker "$TA" --json
SEED_PORT=$PORT
"$BIN/p2p-download" --tracker "$TB" --name shared.bin --workdir "$T/dl" --json >"$T/dl.json" 2>"$T/dl.err" \
  || fail "download by name through B failed: $(tail -n 3 "$T/dl.err")"
cmp "$T/src/shared.bin" "$T/dl/shared.bin" || fail "downloaded file differs"
grep -q "127.0.0.1:$SEED_PORT (outgoing" "$T/dl.json" || fail "the downloader never dialled the seeder"
pass "download by name through B of a file published on A, from a seeder that announced to A only"
CODE=$(curl -s -o "$T/w.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $(printf '0%.0s' $(seq 64))" \
  "http://$TB/withdraw?info_hash=$IH")
[ "$CODE" = 403 ] || fail "withdraw with a wrong token: want 403, got $CODE: $(cat "$T/w.out")"
CODE=$(curl -s -o "$T/w.out" -w '%{http_code}' -X POST "http://$TC/withdraw?info_hash=$IH")
[ "$CODE" = 403 ] || fail "withdraw without a token: want 403, got $CODE"
[ "$(get "$TA" /files | json 'j["count"]')" = 1 ] || fail "a refused withdraw changed the catalog"
pass "withdraw with a wrong or no token: 403, nothing changes"

OUT=$(curl -sf -X POST -H "Authorization: Bearer $TOKEN" "http://$TB/withdraw?info_hash=$IH") || fail "withdraw through B"
[ "$(json 'j["withdrawn"]' <<<"$OUT")" = True ] || fail "withdraw through B: $OUT"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "http://$TA/lookup?name=shared.bin")
[ "$CODE" = 404 ] || fail "A still finds the withdrawn file by name ($CODE)"
[ "$(get "$TA" /files | json 'j["count"]')" = 0 ] || fail "A still lists the withdrawn file"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "http://$TC/meta/$IH")
[ "$CODE" = 404 ] || fail "C still serves the withdrawn meta ($CODE)"
pass "withdraw through B removes the file from A's and C's answers"

# Request counters are summed over the three (each adds its own every second).
sleep 1.5
R=$(get "$TA" /stats | json 'j["requests"]')
[ "$R" -ge 20 ] || fail "requests summed over the trackers: only $R"
[ "$(get "$TB" /metrics | grep -c '^p2p_tracker_requests_total{endpoint="withdraw",status="403"} 2$')" = 1 ] \
  || fail "B's /metrics does not show the two 403 withdraws made through B and C"
pass "counters behind /stats and /metrics are shared"
