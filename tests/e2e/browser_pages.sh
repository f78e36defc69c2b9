#!/usr/bin/env bash
# The three pages in headless chromium (DOM assertions, live updates, 390 px):
# a tracker with two published files, a seeder of both with --http, and a
# rate-capped downloader with --http that finds the seeder through the tracker.
# The browser work is tests/e2e/browser_pages.py (CDP, tests/tools/cdp.py).
# Skips (77) without chromium or python3-websocket; CI installs both
# (scripts/setup-deps.sh). P2P_SCREENSHOTS=DIR also saves a PNG of each page.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
command -v chromium >/dev/null || { echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 77; }
"$PY" -c 'import websocket' 2>/dev/null || { echo "SKIP: python3-websocket is not installed"; exit 77; }

# page_url_of LOG: the page URL (with its token) from a "page http://..." line.
page_url_of() {
  local i line
  for i in $(seq 1 200); do
    line=$(grep -m1 '^page http' "$1" || true)
    [ -n "$line" ] && { echo "${line#page }"; return 0; }
    sleep 0.05
  done
  fail "no page line in $1"
}

start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" --interval 2
TR=127.0.0.1:$PORT

mkdir -p "$T/seed" "$T/dl"
random_file "$T/seed/big-video.bin" $((12 * 1024 * 1024))
random_file "$T/seed/small-notes.txt" 50000
for f in big-video.bin small-notes.txt; do "$BIN/p2p-create" -q -o "$T/seed/$f.p2pmeta" "$T/seed/$f"; done
BIG=$(json 'j["info_hash"]' <"$T/seed/big-video.bin.p2pmeta")
SMALL=$(json 'j["info_hash"]' <"$T/seed/small-notes.txt.p2pmeta")

start seed "$BIN/p2p-seed" --meta "$T/seed/big-video.bin.p2pmeta" --meta "$T/seed/small-notes.txt.p2pmeta" \
  --workdir "$T/seed" --port 0 --host 127.0.0.1 --tracker "$TR" --publish --http 127.0.0.1:0
SEED_PAGE=$(page_url_of "$T/seed.log")

# 12 MiB at 640 KiB/s: about 19 s, long enough to watch it move.
start dl "$BIN/p2p-download" --tracker "$TR" --id "$BIG" --workdir "$T/dl" --listen-port 0 --listen-host 127.0.0.1 \
  --max-download-rate 640k --http 127.0.0.1:0
DL_PID=$LAST_PID
DL_PAGE=$(page_url_of "$T/dl.log")

shots=()
[ -n "${P2P_SCREENSHOTS:-}" ] && shots=(--screenshots "$P2P_SCREENSHOTS")
"$PY" "$(dirname "$0")/browser_pages.py" --download "$DL_PAGE" --seed "$SEED_PAGE" --tracker "http://$TR/" \
  --tracker-address "$TR" --big "$BIG" --small "$SMALL" --meta-out "$T/from-page.p2pmeta" "${shots[@]}"

# The meta the page's button returned is a valid meta: p2p-download accepts it and gets the same bytes.
wait_for 60 "the download to finish" bash -c "! kill -0 $DL_PID"
cmp "$T/seed/big-video.bin" "$T/dl/big-video.bin" || fail "downloaded bytes differ"
"$BIN/p2p-download" --meta "$T/from-page.p2pmeta" --peer "127.0.0.1:$(sed -n 's/^listening [^ ]*:\([0-9]*\)$/\1/p' "$T/seed.log" | head -1)" \
  --workdir "$T/dl2" --no-listen -q || fail "the meta from the page's button does not download"
cmp "$T/seed/big-video.bin" "$T/dl2/big-video.bin" || fail "bytes fetched with the page's meta differ"
pass "the meta from the tracker page's button downloads the file"
