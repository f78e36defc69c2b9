# An observer on the path (tests/tools/recording_relay.py keeps every byte it forwards)
# sees no JSON header, no info hash and no file bytes of a private swarm's transfer; the
# same relay on the public swarm of the same file does see all three (so the check can fail).
source "$(dirname "$0")/lib.sh"
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
SIZE=$((4 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
dd if="$T/f.bin" of="$T/chunk" bs=64 skip=$((1024 * 1024 / 64 + 3)) count=1 status=none
mkdir -p "$T/priv" "$T/pub"
cp "$T/f.bin" "$T/priv/f.bin"
cp "$T/f.bin" "$T/pub/f.bin"
"$BIN/p2p-create" -q --private "$T/priv/f.bin"
"$BIN/p2p-create" -q "$T/pub/f.bin"

# through_relay KIND: seeder, relay in front of it, downloader that knows only the relay.
through_relay() {
  local kind=$1 m="$T/$1/f.bin.p2pmeta"
  start seed_$kind "$BIN/p2p-seed" --meta "$m" --source "$T/$kind/f.bin" --host 127.0.0.1 --port 0
  local seed_pid=$LAST_PID
  start relay_$kind python3 "$TOOLS/recording_relay.py" 127.0.0.1 $PORT "$T/$kind.rec"
  local relay_pid=$LAST_PID
  "$BIN/p2p-download" --meta "$m" --peer 127.0.0.1:$PORT --workdir "$T/dl_$kind" --no-listen -q \
    --give-up-after 20 || fail "$kind download through the relay failed"
  cmp "$T/f.bin" "$T/dl_$kind/f.bin" || fail "$kind download differs"
  stop $seed_pid
  stop $relay_pid
  local seen
  seen=$(stat -c %s "$T/$kind.rec")
  [ "$seen" -gt "$SIZE" ] || fail "$kind: the relay carried only $seen bytes"
}

# found WHAT FILE: whether the bytes of WHAT occur in FILE.
found() { python3 -c 'import sys; sys.exit(0 if open(sys.argv[1],"rb").read() in open(sys.argv[2],"rb").read() else 1)' "$1" "$2"; }

through_relay priv
through_relay pub
for kind in priv pub; do
  # A frame header's '"type":"' rather than a bare '{"': two bytes turn up by chance in
  # megabytes of ciphertext (about 64 times in 4 MiB), eight do not.
  printf '"type":"' >"$T/json_$kind"
  json 'j["info_hash"]' <"$T/$kind/f.bin.p2pmeta" | tr -d '\n' >"$T/hash_$kind"
done
found "$T/json_pub" "$T/pub.rec" || fail "public relay: no JSON header seen (the check is broken)"
found "$T/hash_pub" "$T/pub.rec" || fail "public relay: no info hash seen (the check is broken)"
found "$T/chunk" "$T/pub.rec" || fail "public relay: no file bytes seen (the check is broken)"
found "$T/json_priv" "$T/priv.rec" && fail "private relay saw a JSON header"
found "$T/hash_priv" "$T/priv.rec" && fail "private relay saw the info hash"
found "$T/chunk" "$T/priv.rec" && fail "private relay saw file bytes"
key=$(json 'j["swarm_key"]' <"$T/priv/f.bin.p2pmeta" | tr -d '\n')
printf '%s' "$key" >"$T/key_hex"
found "$T/key_hex" "$T/priv.rec" && fail "private relay saw the swarm key"
pass "private swarm: relay saw $(stat -c %s "$T/priv.rec") bytes and none of JSON, info hash, file bytes; public: all three"
