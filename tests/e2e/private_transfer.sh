# A private swarm (p2p-create --private): the meta is written 0600 and holds the key; one
# seeder and four downloaders that know only the seeder trade over TLS (gossip among key
# holders) and all finish byte-identical. p2p-seed --publish of the private meta serves it
# without publishing it, with one notice.
# A folder share (p2p-seed --dir) serves a private meta found beside its file privately.
source "$(dirname "$0")/lib.sh"
SIZE=$((8 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" --private --piece-size 65536 "$T/f.bin" >"$T/create.out"
M="$T/f.bin.p2pmeta"
grep -q "private swarm" "$T/create.out" || fail "p2p-create --private said nothing about the key"
[ "$(stat -c %a "$M")" = 600 ] || fail "private meta has mode $(stat -c %a "$M"), not 600"
python3 - "$M" <<'PY' || fail "private meta lacks its flag or key"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["private"] is True and len(m["swarm_key"]) == 64
PY
# --publish of a private meta: never sent to the tracker (nothing listens on port 9, and a
# publish that tried would end the seeder with a tracker error): one notice, then it serves.
start pubseed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0 --publish --tracker 127.0.0.1:9
wait_for 10 "the never-published notice" grep -q "private meta.*never published" "$T/pubseed.log"
sleep 0.3
kill -0 $LAST_PID 2>/dev/null || fail "p2p-seed --publish of a private meta ended instead of serving it"
[ "$(grep -c "never published" "$T/pubseed.log")" = 1 ] || fail "the private notice was not said exactly once"
[ ! -e "$M.owner-tokens.json" ] || fail "an owner-token file was written for a private meta"
stop $LAST_PID
pass "p2p-seed --publish of a private meta serves it, never publishes it (one notice)"
# The same rule over a node's API (POST /api/files with --publish): 201, one notice, no
# tracker asked (a publish to port 9 would have answered 502), no owner-token file.
if command -v curl >/dev/null; then
  start node "$BIN/p2p-seed" --http 127.0.0.1:0 --workdir "$T/nodewd" --host 127.0.0.1 --port 0 --publish --tracker 127.0.0.1:9
  NODE_PID=$LAST_PID
  page_of "$T/node.log"
  code=$(curl -s -o "$T/node_add.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -d "{\"meta\": \"$M\"}" "$URL/api/files")
  [ "$code" = 201 ] || fail "adding a private meta over the API with --publish answered $code: $(cat "$T/node_add.out")"
  wait_for 10 "the API's never-published notice" grep -q "private meta.*never published" "$T/node.log"
  [ ! -e "$M.owner-tokens.json" ] || fail "an owner-token file was written for a private meta added over the API"
  stop $NODE_PID
  pass "a private meta added over the API with --publish is served, not published (one notice)"
fi

start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0 --max-upload-rate 2M --json
SEED_PID=$LAST_PID
SEED=$PORT
for i in 1 2 3 4; do
  start dl$i "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED --workdir "$T/dl$i" \
    --listen-host 127.0.0.1 --seed --max-upload-rate 2M --json
done
for i in $(seq 1 1200); do
  done_count=0
  for d in 1 2 3 4; do [ -f "$T/dl$d/f.bin" ] && done_count=$((done_count + 1)); done
  [ $done_count -eq 4 ] && break
  sleep 0.1
done
[ $done_count -eq 4 ] || fail "only $done_count of 4 private downloaders finished in 120 s"
for d in 1 2 3 4; do cmp "$T/f.bin" "$T/dl$d/f.bin" || fail "downloader $d: file differs"; done
traded=0
for d in 1 2 3 4; do
  u=$(grep '"event":"progress"' "$T/dl$d.log" | tail -n1 | sed -n 's/.*"uploaded_bytes":\([0-9]*\).*/\1/p' || true)
  [ "${u:-0}" -gt 0 ] && traded=$((traded + 1))
done
[ $traded -ge 2 ] || fail "only $traded private downloaders uploaded anything: no gossip among key holders"
# Refusals between members: none, except "seeding_too" (two members that both finished
# meeting again: the normal end of a swarm, and a matter of timing).
refusals=$(grep -h "refused" "$T"/dl*.log | grep -v ': seeding_too: ' || true)
[ -z "$refusals" ] || { echo "$refusals" >&2; fail "members refused each other"; }
pass "private swarm: 1 seeder + 4 downloaders byte-identical over TLS ($traded downloaders uploaded)"

# p2p-seed --dir: a private meta beside the file is served privately (TLS), rate-limited download.
mkdir -p "$T/share"
random_file "$T/share/g.bin" $((3 * 1024 * 1024))
"$BIN/p2p-create" -q --private "$T/share/g.bin"
start dir "$BIN/p2p-seed" --dir "$T/share" --workdir "$T/dirwd" --host 127.0.0.1 --port 0
DIR_PORT=$PORT
python3 "$(dirname "$0")/../tools/plain_peer.py" dial $DIR_PORT "$(json 'j["info_hash"]' <"$T/share/g.bin.p2pmeta")" >"$T/dirplain.out" || true
for i in $(seq 1 100); do
  grep -q encryption_required "$T/dirplain.out" && break
  sleep 0.1
  python3 "$(dirname "$0")/../tools/plain_peer.py" dial $DIR_PORT "$(json 'j["info_hash"]' <"$T/share/g.bin.p2pmeta")" >"$T/dirplain.out" || true
done
grep -q encryption_required "$T/dirplain.out" || fail "--dir did not serve the private meta privately"
"$BIN/p2p-download" --meta "$T/share/g.bin.p2pmeta" --peer 127.0.0.1:$DIR_PORT --workdir "$T/dl_dir" --no-listen -q \
  --max-download-rate 4M --give-up-after 20 || fail "private download from p2p-seed --dir failed"
cmp "$T/share/g.bin" "$T/dl_dir/g.bin" || fail "private download from --dir differs"
pass "p2p-seed --dir serves a private meta found beside its file over TLS only"
