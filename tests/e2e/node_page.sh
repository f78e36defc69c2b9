#!/usr/bin/env bash
# The node's page in headless chromium adds downloads: a .p2pmeta chosen in its
# file input (uploaded as JSON), and an info hash pasted (looked up on the node's
# tracker); the queue shows their places and controls, each finishes, and the
# page shows where it is on disk. Bytes compared with cmp. The browser work is
# tests/e2e/node_page.py (CDP, tests/tools/cdp.py). Skips (77) without chromium
# or python3-websocket.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
command -v chromium >/dev/null || { echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 77; }
"$PY" -c 'import websocket' 2>/dev/null || { echo "SKIP: python3-websocket is not installed"; exit 77; }

start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" --interval 2
TR=127.0.0.1:$PORT
mkdir -p "$T/src" "$T/metas"
random_file "$T/src/movie.bin" $((2 * 1024 * 1024))
random_file "$T/src/notes.bin" 300000
for f in movie.bin notes.bin; do "$BIN/p2p-create" -q -o "$T/metas/$f.p2pmeta" "$T/src/$f"; done
MOVIE=$(json 'j["info_hash"]' <"$T/metas/movie.bin.p2pmeta")
NOTES=$(json 'j["info_hash"]' <"$T/metas/notes.bin.p2pmeta")
# Capped so that the second download waits in the queue while the first runs.
start src "$BIN/p2p-seed" --meta "$T/metas/movie.bin.p2pmeta" --meta "$T/metas/notes.bin.p2pmeta" --workdir "$T/src" \
  --port 0 --host 127.0.0.1 --tracker "$TR" --publish --max-upload-rate 400k
start node "$BIN/p2p-seed" --port 0 --host 127.0.0.1 --workdir "$T/node" --http 127.0.0.1:0 --tracker "$TR" \
  --max-active-downloads 1
for i in $(seq 1 100); do grep -q '^page http' "$T/node.log" && break; sleep 0.05; done
PAGE=$(sed -n 's/^page //p' "$T/node.log" | head -1)
[ -n "$PAGE" ] || fail "no page line"

"$PY" "$(dirname "$0")/node_page.py" --page "$PAGE" --meta "$T/metas/movie.bin.p2pmeta" --movie "$MOVIE" \
  --notes "$NOTES" --workdir "$T/node"
cmp "$T/src/movie.bin" "$T/node/movie.bin" || fail "movie.bin differs"
cmp "$T/src/notes.bin" "$T/node/notes.bin" || fail "notes.bin differs"
pass "both downloads added through the page are complete and identical"
