# A seeder restarted with three unchanged 200 MB sources serves them without
# re-hashing (it remembers size, mtime, inode and ctime of what it verified);
# a source touched since is re-verified, the others are not. Asserted on the
# seeder's events, never on time.
source "$(dirname "$0")/lib.sh"
SIZE=$((200 * 1000 * 1000))
ARGS=()
for n in x y z; do
  head -c $SIZE /dev/zero | tr '\0' "$n" >"$T/$n.bin"
  "$BIN/p2p-create" -q "$T/$n.bin"
  ARGS+=(--meta "$T/$n.bin.p2pmeta" --source "$T/$n.bin")
done
run_seeder() {  # run_seeder LOG: starts, waits until listening, stops
  start "$1" "$BIN/p2p-seed" "${ARGS[@]}" --workdir "$T/wd" --host 127.0.0.1 --port 0 --json
  stop $LAST_PID
}
run_seeder first
[ "$(grep -c '"event":"verifying","text":"verified ' "$T/first.log")" -eq 3 ] || fail "first run did not hash all three"
run_seeder second
[ "$(grep -c 'without re-hashing' "$T/second.log")" -eq 3 ] || { cat "$T/second.log"; fail "restart re-hashed an unchanged source"; }
! grep -q '"text":"verified ' "$T/second.log" || fail "restart re-hashed something"
touch "$T/y.bin"
run_seeder third
grep -q '"text":"verified [^"]*/y.bin ' "$T/third.log" || fail "a touched source was not re-verified"
[ "$(grep -c 'without re-hashing' "$T/third.log")" -eq 2 ] || fail "unchanged sources were re-hashed after one was touched"
# A damaged remembered-state file costs a re-hash, never trust.
echo '{"version":1,"sources":{"x":' >"$T/wd/.p2p/verified-sources.json"
run_seeder fourth
[ "$(grep -c '"text":"verified ' "$T/fourth.log")" -eq 3 ] || fail "a damaged verified-sources file was trusted"
pass "restart served unchanged sources without re-hashing; changed ones re-verified"
