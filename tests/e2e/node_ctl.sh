#!/usr/bin/env bash
# p2p-seed ctl against a running node: add (a local meta, uploaded; an info hash
# found on the node's tracker), ls (for people and --json), move, pause, resume,
# rm, ids by prefix, the token read from the node's workdir or --token-file; and
# its failures: wrong token, no token, node down, a bad local meta, a bad
# direction — each a one-line error and its exit code. Bytes compared with cmp.
source "$(dirname "$0")/lib.sh"

start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" --interval 2
TR=127.0.0.1:$PORT
mkdir -p "$T/src" "$T/metas"
# mid.bin takes ~16 s at the source's 500 KB/s: still downloading when the steps below pause it, even
# under a sanitizer (3 MiB finished first there once).
random_file "$T/src/mid.bin" $((8 * 1024 * 1024))
random_file "$T/src/small.bin" 200000
for f in mid.bin small.bin; do "$BIN/p2p-create" -q -o "$T/metas/$f.p2pmeta" "$T/src/$f"; done
MID=$(json 'j["info_hash"]' <"$T/metas/mid.bin.p2pmeta")
SMALL=$(json 'j["info_hash"]' <"$T/metas/small.bin.p2pmeta")
start src "$BIN/p2p-seed" --meta "$T/metas/mid.bin.p2pmeta" --meta "$T/metas/small.bin.p2pmeta" --workdir "$T/src" \
  --port 0 --host 127.0.0.1 --tracker "$TR" --publish --max-upload-rate 500k
start node "$BIN/p2p-seed" --port 0 --host 127.0.0.1 --workdir "$T/node" --http 127.0.0.1:0 --tracker "$TR" \
  --max-active-downloads 1
NODE_PID=$LAST_PID
for i in $(seq 1 100); do grep -q '^page http' "$T/node.log" && break; sleep 0.05; done
NODE=$(sed -n 's|^page \(http://[^/]*\)/#token=.*|\1|p' "$T/node.log" | head -1)
[ -n "$NODE" ] || fail "no page line"
ctl() { "$BIN/p2p-seed" ctl --node "$NODE" --workdir "$T/node" "$@"; }
state_of() { ctl --json ls | python3 -c '
import json, sys
f = [x for x in json.load(sys.stdin)["files"] if x["info_hash"] == sys.argv[1]]
print(f[0]["phase"] if f else "absent")' "$1"; }
place_of() { ctl --json ls | python3 -c '
import json, sys
f = [x for x in json.load(sys.stdin)["files"] if x["info_hash"] == sys.argv[1]]
print(f[0]["download"]["position"])' "$1"; }

out=$(ctl add "$T/metas/mid.bin.p2pmeta") || fail "ctl add META failed"
echo "$out" | grep -q "queued mid.bin (place 1) (id ${MID:0:16})" || fail "ctl add printed: $out"
out=$(ctl add --id "$SMALL") || fail "ctl add --id failed"
echo "$out" | grep -q "queued small.bin (place 2)" || fail "ctl add --id printed: $out"
pass "ctl add: a local meta (uploaded) and an info hash (the node's tracker)"

ctl ls >"$T/ls.txt" || fail "ctl ls failed"
grep -q "^ID .*STATE.*PLACE.*NAME" "$T/ls.txt" || fail "no header in ls: $(cat "$T/ls.txt")"
grep -Eq "^${SMALL:0:16} +queued .* 2 +small.bin$" "$T/ls.txt" || fail "small.bin not listed as queued, place 2: $(cat "$T/ls.txt")"
ctl --json ls | python3 -c 'import json,sys; assert len(json.load(sys.stdin)["files"]) == 2' || fail "ctl --json ls"
pass "ctl ls (for people and --json)"

out=$(ctl move "${SMALL:0:8}" up) || fail "ctl move failed"
echo "$out" | grep -q "moved small.bin up (place 1)" || fail "ctl move printed: $out"
[ "$(place_of "$SMALL")" = 1 ] && [ "$(place_of "$MID")" = 2 ] || fail "order after move"
out=$(ctl pause "${MID:0:10}") || fail "ctl pause failed"
echo "$out" | grep -q "paused mid.bin" || fail "ctl pause printed: $out"
[ "$(state_of "$MID")" = paused ] || fail "mid.bin not paused"
pass "ctl move and pause, ids by prefix"

wait_for 30 "small.bin to finish" bash -c "[ \"\$(\"$BIN/p2p-seed\" ctl --node $NODE --json ls | python3 -c 'import json,sys; print([f[\"phase\"] for f in json.load(sys.stdin)[\"files\"] if f[\"info_hash\"]==\"$SMALL\"][0])')\" = complete ]"
cmp "$T/src/small.bin" "$T/node/small.bin" || fail "small.bin differs"
[ "$(state_of "$MID")" = paused ] || fail "a paused download started"
out=$(ctl resume "$MID") || fail "ctl resume failed"
echo "$out" | grep -q "resumed mid.bin" || fail "ctl resume printed: $out"
wait_for 40 "mid.bin to finish" bash -c "[ \"\$(\"$BIN/p2p-seed\" ctl --node $NODE --json ls | python3 -c 'import json,sys; print([f[\"phase\"] for f in json.load(sys.stdin)[\"files\"] if f[\"info_hash\"]==\"$MID\"][0])')\" = complete ]"
cmp "$T/src/mid.bin" "$T/node/mid.bin" || fail "mid.bin differs"
ctl ls >"$T/ls2.txt"
grep -q -- "-> $T/node/mid.bin" "$T/ls2.txt" || fail "ls does not show where mid.bin is: $(cat "$T/ls2.txt")"
pass "ctl resume; both downloaded, bytes equal, ls shows where"

cp "$T/node/.p2p/http-token" "$T/token"
out=$("$BIN/p2p-seed" ctl --node "$NODE" --token-file "$T/token" rm "${SMALL:0:16}") || fail "ctl rm with --token-file failed"
echo "$out" | grep -q "removed small.bin" || fail "ctl rm printed: $out"
[ "$(state_of "$SMALL")" = absent ] || fail "small.bin still listed"
[ -f "$T/node/small.bin" ] || fail "rm deleted the downloaded file"
pass "ctl rm (--token-file); the file stays on disk"

# Failures: one line, a documented code.
printf '%064d\n' 0 >"$T/wrong-token"
expect_exit 10 "$BIN/p2p-seed" ctl --node "$NODE" --token-file "$T/wrong-token" pause "$MID"
grep -q "HTTP 403" "$T/last.err" || fail "wrong token: $(cat "$T/last.err")"
expect_exit 2 "$BIN/p2p-seed" ctl --node "$NODE" --workdir "$T/nowhere" pause "$MID"
grep -q "no control token" "$T/last.err" || fail "no token: $(cat "$T/last.err")"
echo '{"name": "x"' >"$T/bad.p2pmeta"
expect_exit 4 "$BIN/p2p-seed" ctl --node "$NODE" --workdir "$T/node" add "$T/bad.p2pmeta"
grep -q "bad.p2pmeta" "$T/last.err" || fail "bad meta not named: $(cat "$T/last.err")"
expect_exit 2 "$BIN/p2p-seed" ctl --node "$NODE" --workdir "$T/node" move "$MID" sideways
expect_exit 10 "$BIN/p2p-seed" ctl --node "$NODE" --workdir "$T/node" pause "ffffffff"
grep -q "no file whose id starts with ffffffff" "$T/last.err" || fail "unknown id: $(cat "$T/last.err")"
stop "$NODE_PID"
expect_exit 10 "$BIN/p2p-seed" ctl --node "$NODE" ls
grep -q "cannot connect" "$T/last.err" || fail "node down: $(cat "$T/last.err")"
[ "$(wc -l <"$T/last.err")" -eq 1 ] || fail "more than one error line: $(cat "$T/last.err")"
pass "ctl failures: wrong token, no token, bad meta, bad direction, unknown id, node down"
