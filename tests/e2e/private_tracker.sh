# A private swarm found through a tracker: the seeder announces an id derived from the swarm
# key (HKDF, docs/PROTOCOL.md "Private swarms"), never the info hash; a downloader holding the
# meta finds the seeder that way and downloads over TLS; the tracker's catalog and swarm for
# the info hash stay empty, and publishing the private meta straight to it is refused (403).
source "$(dirname "$0")/lib.sh"
start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" --interval 2
TR=127.0.0.1:$PORT
random_file "$T/f.bin" $((3 * 1024 * 1024))
"$BIN/p2p-create" -q --private --tracker "$TR" "$T/f.bin"
M="$T/f.bin.p2pmeta"
ID=$(json 'j["info_hash"]' <"$M")
SWARM_ID=$(python3 - "$M" <<'PY'
import hashlib, hmac, json, sys
m = json.load(open(sys.argv[1]))
key, ih = bytes.fromhex(m["swarm_key"]), bytes.fromhex(m["info_hash"])
prk = hmac.new(b"\0" * 32, key, hashlib.sha256).digest()            # HKDF-Extract, empty salt
print(hmac.new(prk, b"p2p-share v1 tracker swarm id" + ih + b"\x01", hashlib.sha256).hexdigest())  # Expand, 32 bytes
PY
)
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0
"$BIN/p2p-download" --meta "$M" --workdir "$T/dl" --listen-host 127.0.0.1 -q --give-up-after 30 || fail "private download through the tracker failed"
cmp "$T/f.bin" "$T/dl/f.bin" || fail "file differs"

scrape() { curl -sf "http://$TR/scrape?info_hash=$1" | json "j['files']['$1']['seeders'] + j['files']['$1']['leechers']"; }
[ "$(scrape "$SWARM_ID")" -ge 1 ] || fail "the tracker has no peer under the key-derived swarm id"
[ "$(scrape "$ID")" -eq 0 ] || fail "the tracker knows the private swarm's info hash"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$TR/meta/$ID")" = 404 ] || fail "the tracker has the private meta"
code=$(curl -s -o "$T/publish.out" -w '%{http_code}' -X POST --data-binary @"$M" "http://$TR/publish")
[ "$code" = 403 ] || fail "publishing a private meta answered $code, not 403"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$TR/meta/$ID")" = 404 ] || fail "the refused private meta was stored"
pass "private swarm through a tracker: announced as $(echo "$SWARM_ID" | cut -c1-16)…, info hash unknown to it, publish refused"
