#!/usr/bin/env bash
# p2p-seed as a node that downloads on request (POST /api/downloads): add by an
# uploaded meta, by a meta's path, by info hash on a tracker; the queue (one at a
# time here: --max-active-downloads 1), its order, move, pause, remove; kill -9
# mid-download and a restart that continues by itself; a meta for a file already
# there (seeded, nothing fetched), a user's file in the way (409, untouched),
# hostile metas refused with 400 and nothing queued; a restarted node seeds what
# it downloaded. Bytes compared with cmp.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }

# req METHOD PATH [CURL ARGS...]: sets CODE and BODY (against the node).
req() {
  local method=$1 path=$2; shift 2
  BODY=$(curl -s -X "$method" -o - -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" "$@" "$URL$path")
  CODE=${BODY##*$'\n'}
  BODY=${BODY%$'\n'*}
}
# upload_body META [EXTRA_JSON_KEYS]: a POST /api/downloads body carrying the meta's JSON object.
upload_body() { python3 -c 'import json,sys; b={"meta": json.load(open(sys.argv[1]))}; b.update(json.loads(sys.argv[2])); print(json.dumps(b))' "$1" "${2:-{\}}"; }
# state IH: the download's state in GET /api/downloads ("absent" if not listed).
state() {
  curl -s "$URL/api/downloads" | python3 -c '
import json, sys
d = [x for x in json.load(sys.stdin)["downloads"] if x["info_hash"] == sys.argv[1]]
print(d[0]["state"] if d else "absent")' "$1"
}
names() { curl -s "$URL/api/downloads" | python3 -c 'import json,sys; print(" ".join(x["name"] for x in json.load(sys.stdin)["downloads"]))'; }
file_field() {  # file_field IH KEY: a key of the file's entry in GET /api/files
  curl -s "$URL/api/files" | python3 -c '
import json, sys
f = [x for x in json.load(sys.stdin)["files"] if x["info_hash"] == sys.argv[1]]
print(f[0].get(sys.argv[2], "") if f else "absent")' "$1" "$2"
}
start_node() {
  start node "$BIN/p2p-seed" --port 0 --host 127.0.0.1 --workdir "$T/node" --http 127.0.0.1:0 --tracker "$TR" \
    --max-active-downloads 1
  NODE_PID=$LAST_PID
  page_of "$T/node.log"
}

start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" --interval 2
TR=127.0.0.1:$PORT

# The source: a big file (slow: the seeder's upload is capped), a small one, a folder.
mkdir -p "$T/src/album/sub" "$T/metas"
random_file "$T/src/big.bin" $((6 * 1024 * 1024))
random_file "$T/src/small.bin" 300000
random_file "$T/src/extra.bin" 200000
random_file "$T/src/album/a.txt" 5000
random_file "$T/src/album/b.bin" 200000
random_file "$T/src/album/sub/c.bin" 300000
for f in big.bin small.bin album extra.bin; do "$BIN/p2p-create" -q -o "$T/metas/$f.p2pmeta" "$T/src/$f"; done
ih() { json 'j["info_hash"]' <"$T/metas/$1.p2pmeta"; }
BIG=$(ih big.bin) SMALL=$(ih small.bin) ALBUM=$(ih album) EXTRA=$(ih extra.bin)
start_src() {  # start_src LOG_NAME RATE
  start "$1" "$BIN/p2p-seed" --meta "$T/metas/big.bin.p2pmeta" --meta "$T/metas/small.bin.p2pmeta" \
    --meta "$T/metas/album.p2pmeta" --workdir "$T/src" --port 0 --host 127.0.0.1 --tracker "$TR" --publish \
    --max-upload-rate "$2"
  SRC_PID=$LAST_PID
}
# Slow at first: big.bin must still be arriving when the node is killed (20 s for 6 MiB).
start_src src 300k

start_node

# --- refusals: nothing queued -------------------------------------------------------------
req POST /api/downloads -d 'not json'; expect 400 'JSON object' "a body that is not JSON is refused"
req POST /api/downloads -d '{"meta_path": "/x", "info_hash": "'"$BIG"'"}'; expect 400 'exactly one' "two sources at once refused"
python3 - "$T/metas/small.bin.p2pmeta" "$T/evil1.p2pmeta" "$T/evil2.p2pmeta" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
a = dict(m); a["name"] = "../escape.bin"; json.dump(a, open(sys.argv[2], "w"))
b = dict(m); b["size"] = m["size"] + 1; json.dump(b, open(sys.argv[3], "w"))
PY
upload_body "$T/evil1.p2pmeta" >"$T/body"
req POST /api/downloads --data-binary @"$T/body"; expect 400 'name' "a meta naming ../escape.bin is refused"
upload_body "$T/evil2.p2pmeta" >"$T/body"
req POST /api/downloads --data-binary @"$T/body"; expect 400 'meta' "a meta whose size disagrees with its pieces is refused"
req POST /api/downloads -d "{\"meta_path\": \"$T/nothing.p2pmeta\"}"; expect 400 'nothing.p2pmeta' "a missing meta path is refused"
upload_body "$T/metas/album.p2pmeta" '{"only": ["nomatch/*"]}' >"$T/body"
req POST /api/downloads --data-binary @"$T/body"; expect 400 'matches none' "an --only pattern matching nothing is refused"
[ -z "$(names)" ] || fail "something was queued by a refused request: $(names)"
[ -z "$(ls "$T/node/.p2p/downloads/")" ] || fail "a refused request left a meta: $(ls "$T/node/.p2p/downloads/")"
[ -z "$(ls "$T/node" | grep -v '^$')" ] || fail "a refused request left files in the workdir: $(ls "$T/node")"
pass "refused requests queue nothing and write nothing"

# A user's file in the way of a name: 409, the file untouched.
printf 'my own notes, not a download\n' >"$T/node/small.bin"
upload_body "$T/metas/small.bin.p2pmeta" >"$T/body"
req POST /api/downloads --data-binary @"$T/body"; expect 409 'not overwriting' "a user's file at the final name: 409"
[ "$(cat "$T/node/small.bin")" = 'my own notes, not a download' ] || fail "the user's file was changed"
[ "$(state "$SMALL")" = absent ] || fail "queued although refused"
rm "$T/node/small.bin"

# --- adding: by an uploaded meta, by info hash, by a meta's path with --only -------------------
upload_body "$T/metas/big.bin.p2pmeta" >"$T/body"
req POST /api/downloads --data-binary @"$T/body"; expect 201 "\"info_hash\":\"$BIG\"" "add by an uploaded meta: 201"
req POST /api/downloads -d "{\"info_hash\": \"$SMALL\", \"trackers\": [\"$TR\"]}"; expect 201 'queued small.bin' "add by info hash and tracker: 201"
req POST /api/downloads -d "{\"meta_path\": \"$T/metas/album.p2pmeta\", \"only\": [\"sub/*\"]}"; expect 201 'queued album' "add by a meta's path with only: 201"
req POST /api/downloads --data-binary @"$T/body"; expect 409 'already in the download queue' "the same meta twice: 409"
[ "$(names)" = "big.bin small.bin album" ] || fail "queue order: $(names)"
wait_for 10 "big.bin to run" bash -c "[ \"\$(curl -s $URL/api/downloads | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"downloads\"][0][\"state\"])')\" = running ]"
[ "$(state "$SMALL")" = queued ] && [ "$(state "$ALBUM")" = queued ] || fail "not waiting with --max-active-downloads 1"
[ "$(file_field "$SMALL" phase)" = queued ] || fail "a queued download is not in GET /api/files as queued"
[ "$(file_field "$BIG" phase)" = running ] || fail "big.bin is not running in GET /api/files"
pass "one runs, two wait in order; GET /api/files shows their phases"

req POST "/api/downloads/$ALBUM/up"; expect 200 'moved album up' "move up"
[ "$(names)" = "big.bin album small.bin" ] || fail "order after move: $(names)"
req POST "/api/downloads/$BIG/up"; expect 200 'first already' "moving the first up changes nothing"

# --- kill -9 mid-download; the restarted node continues by itself ------------------------------
wait_for 30 "big.bin to be partly verified" bash -c "python3 -c 'import sys; sys.exit(0 if 0 < float(sys.argv[1]) < 1 else 1)' \$(curl -s $URL/api/files | python3 -c 'import json,sys; print([f for f in json.load(sys.stdin)[\"files\"] if f[\"info_hash\"]==\"$BIG\"][0][\"progress\"])')"
# The source goes first, and stays away until big.bin has been paused: the download is then
# unfinished when the node is killed (with the source still there, a loaded host once let it
# finish between the poll and the kill) and still running when it is paused after the restart.
stop "$SRC_PID"
kill -9 "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
[ -f "$T/node/.p2p/downloads.json" ] || fail "no downloads.json kept"
start_node
wait_for 15 "big.bin to run again after the restart" bash -c "[ \"\$(curl -s $URL/api/downloads | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"downloads\"][0][\"state\"])')\" = running ]"
[ "$(names)" = "big.bin album small.bin" ] || fail "order after the restart: $(names)"
grep -q 'pieces already verified' "$T/node.log" || fail "the restarted download did not resume verified pieces"
pass "kill -9 mid-download: the restarted node resumes it, the queue's order kept"

# --- pause frees the slot; remove; all complete ---------------------------------------------
req POST "/api/files/$BIG/pause"; expect 200 'paused big.bin' "pause a running download (through /api/files)"
[ "$(file_field "$BIG" phase)" = paused ] || fail "big.bin not paused"
start_src src-again 600k
wait_for 10 "album to start in the freed slot" bash -c "[ \"\$(curl -s $URL/api/downloads | python3 -c 'import json,sys; print([d[\"state\"] for d in json.load(sys.stdin)[\"downloads\"] if d[\"name\"]==\"album\"][0])')\" != queued ]"
req POST "/api/downloads/$SMALL/remove"; expect 200 'removed small.bin' "remove a download"
[ "$(state "$SMALL")" = absent ] && [ "$(file_field "$SMALL" phase)" = absent ] || fail "small.bin still listed"
wait_for 30 "album's selected files" bash -c "[ \"\$(curl -s $URL/api/downloads | python3 -c 'import json,sys; print([d[\"state\"] for d in json.load(sys.stdin)[\"downloads\"] if d[\"name\"]==\"album\"][0])')\" = complete ]"
if [ -f "$T/node/album/sub/c.bin" ]; then got="$T/node/album"; else got="$T/node/album.partial"; fi
cmp "$T/src/album/sub/c.bin" "$got/sub/c.bin" || fail "album/sub/c.bin differs"
[ ! -e "$got/b.bin" ] || fail "a file outside --only was fetched"
pass "the selected files of the folder are verified ($got)"
req POST "/api/files/$BIG/resume"; expect 200 'resumed big.bin' "resume"
wait_for 40 "big.bin to complete" bash -c "[ \"\$(curl -s $URL/api/downloads | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"downloads\"][0][\"state\"])')\" = complete ]"
cmp "$T/src/big.bin" "$T/node/big.bin" || fail "big.bin differs"
[ "$(file_field "$BIG" path)" = "$T/node/big.bin" ] || fail "the finished file's path is not shown: $(file_field "$BIG" path)"
[ "$(file_field "$BIG" phase)" = complete ] || fail "big.bin is not seeded"
pass "big.bin downloaded (bytes equal), its path shown, seeded"

# --- a meta for a file already there: seeded at once, nothing fetched -----------------------------
# (extra.bin is seeded by nobody: it can only come from the file already there.)
cp "$T/src/extra.bin" "$T/node/extra.bin"
upload_body "$T/metas/extra.bin.p2pmeta" >"$T/body"
req POST /api/downloads --data-binary @"$T/body"; expect 201 'already complete' "a meta for a file already there: 201, already complete"
[ "$(state "$EXTRA")" = complete ] && [ "$(file_field "$EXTRA" phase)" = complete ] || fail "extra.bin not complete and seeded"
cmp "$T/src/extra.bin" "$T/node/extra.bin" || fail "extra.bin changed"

# --- a restarted node seeds what it downloaded -------------------------------------------------
stop "$NODE_PID"
start_node
wait_for 15 "big.bin seeded after the restart" bash -c "[ \"\$(curl -s $URL/api/files | python3 -c 'import json,sys; print([f[\"phase\"] for f in json.load(sys.stdin)[\"files\"] if f[\"info_hash\"]==\"$BIG\"][0])')\" = complete ]"
[ "$(names)" = "big.bin album extra.bin" ] || fail "queue after the second restart: $(names)"
wait_for 15 "extra.bin seeded after the restart" bash -c "[ \"\$(curl -s $URL/api/files | python3 -c 'import json,sys; print([f[\"phase\"] for f in json.load(sys.stdin)[\"files\"] if f[\"info_hash\"]==\"$EXTRA\"][0])')\" = complete ]"
grep -q "seeding $T/node/big.bin, downloaded earlier (unchanged since verified, not re-hashed)" "$T/node.log" \
  || fail "the finished download was re-hashed at the restart (or not seeded)"
rm -rf "$T/check" && mkdir "$T/check"
"$BIN/p2p-download" --meta "$T/metas/big.bin.p2pmeta" --peer "127.0.0.1:$PORT" --workdir "$T/check" --no-listen -q \
  || fail "cannot download big.bin from the restarted node"
cmp "$T/src/big.bin" "$T/check/big.bin" || fail "bytes from the node differ"
pass "the restarted node seeds what it downloaded (fetched back from it, bytes equal)"
stop "$NODE_PID"

# A damaged queue file is not trusted: moved aside, said so, the node starts with an empty queue.
printf '{"version": 1, "downloads": [{"info_hash": ' >"$T/node/.p2p/downloads.json"
start_node
grep -q "downloads.json is not usable.*moved to .*downloads.json.damaged" "$T/node.log" || fail "the damaged queue file was not reported"
[ -f "$T/node/.p2p/downloads.json.damaged" ] || fail "the damaged queue file was not kept aside"
[ -z "$(names)" ] || fail "entries from a damaged queue file: $(names)"
cmp "$T/src/big.bin" "$T/node/big.bin" || fail "big.bin changed"
pass "a damaged downloads.json is moved aside and reported; the downloaded files stay"
stop "$NODE_PID"
