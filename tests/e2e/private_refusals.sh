# Who may not join a private swarm, each refused with a clear message and nothing written:
# a downloader with the wrong key, one without a key (the public meta of the same file),
# a plaintext peer naming the private swarm, and a peer that answers a private dial in
# plaintext (downgrade). Both sides say why.
source "$(dirname "$0")/lib.sh"
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
random_file "$T/f.bin" $((2 * 1024 * 1024))
"$BIN/p2p-create" -q --private --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
HASH=$(json 'j["info_hash"]' <"$M")
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0
SEED=$PORT

nothing_written() {  # WORKDIR META
  [ ! -e "$1/f.bin" ] || fail "$1/f.bin was written"
  local p
  p=$(partial_of "$2" "$1")
  if [ -f "$p" ]; then
    [ "$("$BIN/count_valid_pieces" "$2" "$p" 2>/dev/null || echo 0)" -eq 0 ] || fail "$p holds pieces"
  fi
}

# 1. Wrong key: same meta, another swarm_key (the info hash does not cover the key).
python3 - "$M" "$T/wrong.p2pmeta" <<'PY'
import json, os, sys
m = json.load(open(sys.argv[1]))
m["swarm_key"] = os.urandom(32).hex()
open(sys.argv[2], "w").write(json.dumps(m))
PY
expect_exit 7 "$BIN/p2p-download" --meta "$T/wrong.p2pmeta" --peer 127.0.0.1:$SEED --workdir "$T/dl_wrong" --no-listen --give-up-after 5
grep -q "refused our swarm key" "$T/last.out" "$T/last.err" || fail "wrong key: no clear message on the downloader"
nothing_written "$T/dl_wrong" "$T/wrong.p2pmeta"
wait_for 5 "the seeder's report of the wrong key" grep -q "swarm key we do not hold" "$T/seed.log"
pass "wrong key refused on both sides"

# 2. No key: the public meta of the same bytes is another swarm, which the seeder does not serve.
mkdir -p "$T/pub"
cp "$T/f.bin" "$T/pub/f.bin"
"$BIN/p2p-create" -q "$T/pub/f.bin"
expect_exit 7 "$BIN/p2p-download" --meta "$T/pub/f.bin.p2pmeta" --peer 127.0.0.1:$SEED --workdir "$T/dl_nokey" --no-listen --give-up-after 5
grep -q "unknown_info_hash" "$T/last.out" "$T/last.err" || fail "no key: no clear message"
nothing_written "$T/dl_nokey" "$T/pub/f.bin.p2pmeta"
pass "no key (public meta of the same file) refused"

# 3. A plaintext handshake naming the private swarm: one error frame, no data.
python3 "$TOOLS/plain_peer.py" dial $SEED "$HASH" >"$T/plain.out"
grep -q '"code":"encryption_required"' "$T/plain.out" || { cat "$T/plain.out" >&2; fail "plaintext peer: no encryption_required"; }
[ "$(grep -c '"type"' "$T/plain.out")" -eq 1 ] || fail "plaintext peer got more than the refusal"
grep -q '"bitfield"\|"handshake"' "$T/plain.out" && fail "plaintext peer got a handshake or a bitfield"
wait_for 5 "the seeder's report of the plaintext peer" grep -q "refused a plaintext handshake for private swarm" "$T/seed.log"
pass "plaintext handshake for the private swarm refused on both sides"

# 4. Downgrade: a peer that answers our TLS ClientHello with a plaintext handshake.
start fake python3 "$TOOLS/plain_peer.py" listen "$HASH"
FAKE_PID=$LAST_PID
expect_exit 7 "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$PORT --workdir "$T/dl_down" --no-listen --give-up-after 5
grep -q "answered in plaintext" "$T/last.out" "$T/last.err" || fail "downgrade: no clear message on the downloader"
nothing_written "$T/dl_down" "$M"
wait_for 5 "the fake peer's report" grep -q "saw_json" "$T/fake.log"
grep -q "first_byte 0x16" "$T/fake.log" || fail "the private downloader did not open with TLS"
grep -q "saw_json no" "$T/fake.log" || fail "the private downloader sent plaintext JSON to the downgrading peer"
pass "downgrade refused: the private downloader never spoke plaintext"
