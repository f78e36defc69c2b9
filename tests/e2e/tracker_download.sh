# Downloads found only through the tracker: by name and by info hash, from two
# seeders at once; a dead tracker does not stop a download that has a peer.
source "$(dirname "$0")/lib.sh"
start tracker "$BIN/p2p-tracker" --host 127.0.0.1 --port 0 --db "$T/tracker.db" --interval 2
TR=127.0.0.1:$PORT
mkdir -p "$T/a" "$T/b"
random_file "$T/a/shared.bin" $((6 * 1024 * 1024 + 3))
cp "$T/a/shared.bin" "$T/b/shared.bin"
"$BIN/p2p-create" -q --piece-size 65536 --tracker "$TR" "$T/a/shared.bin"
ID=$(sed -n 's/.*"info_hash": *"\([0-9a-f]*\)".*/\1/p' "$T/a/shared.bin.p2pmeta")
[ ${#ID} -eq 64 ] || fail "no info hash in the meta"

# Two seeders, capped so that one alone would take a while: the download should use both.
start seed_a "$BIN/p2p-seed" --meta "$T/a/shared.bin.p2pmeta" --source "$T/a/shared.bin" --host 127.0.0.1 --port 0 \
  --publish --max-upload-rate 2M --json
SEED_A=$PORT
start seed_b "$BIN/p2p-seed" --meta "$T/a/shared.bin.p2pmeta" --source "$T/b/shared.bin" --host 127.0.0.1 --port 0 \
  --max-upload-rate 2M --json
SEED_B=$PORT
grep -q "published" "$T/seed_a.log" || fail "seeder did not publish"

# The user has a file of their own named like the meta would be: it is never replaced;
# the fetched meta goes to WORKDIR/.p2p/<info hash>.p2pmeta.
mkdir -p "$T/dl1"
echo "my own notes, not a meta" >"$T/dl1/shared.bin.p2pmeta"
cp "$T/dl1/shared.bin.p2pmeta" "$T/users-file"
"$BIN/p2p-download" --tracker "$TR" --name shared.bin --workdir "$T/dl1" --json >"$T/dl1.json" 2>"$T/dl1.err" \
  || fail "download by name failed: $(tail -n2 "$T/dl1.err")"
cmp "$T/a/shared.bin" "$T/dl1/shared.bin" || fail "download by name: file differs"
cmp "$T/users-file" "$T/dl1/shared.bin.p2pmeta" || fail "the user's shared.bin.p2pmeta was overwritten"
[ -f "$T/dl1/.p2p/$ID.p2pmeta" ] || fail "the fetched meta was not saved in .p2p/"
grep -q "\"info_hash\": *\"$ID\"" "$T/dl1/.p2p/$ID.p2pmeta" || fail "the saved meta is not the file's"
grep -q "saved as $T/dl1/.p2p/$ID.p2pmeta" "$T/dl1.json" || fail "the saved meta's path was not reported"
ls "$T/dl1" | grep -q '\.tmp\.' && fail "a temp file was left in the workdir"
grep -q "127.0.0.1:$SEED_A (outgoing" "$T/dl1.json" || fail "never connected to seeder A"
grep -q "127.0.0.1:$SEED_B (outgoing" "$T/dl1.json" || fail "never connected to seeder B"
pass "found by name through the tracker, fetched from both seeders; the user's <name>.p2pmeta left alone"

"$BIN/p2p-download" --tracker "$TR" --id "$ID" --workdir "$T/dl2" --quiet || fail "download by id failed"
cmp "$T/a/shared.bin" "$T/dl2/shared.bin" || fail "download by id: file differs"
pass "found by info hash"

expect_exit 10 "$BIN/p2p-download" --tracker "$TR" --name no-such-file.bin --workdir "$T/dl3"
grep -q "no-such-file.bin" "$T/last.err" || fail "unknown name: message does not name it"
expect_exit 2 "$BIN/p2p-download" --tracker "$TR" --id nothex --workdir "$T/dl3"
pass "unknown name and malformed id refused"

# The tracker goes away: a download that knows a peer carries on and says so once.
stop "${PIDS[0]}"
"$BIN/p2p-download" --meta "$T/a/shared.bin.p2pmeta" --peer 127.0.0.1:$SEED_A --workdir "$T/dl4" >"$T/dl4.log" 2>&1 \
  || fail "download with a dead tracker failed"
cmp "$T/a/shared.bin" "$T/dl4/shared.bin" || fail "dead tracker: file differs"
[ "$(grep -c "working with the peers we have" "$T/dl4.log")" -eq 1 ] || fail "tracker failure not reported exactly once"
pass "dead tracker: carried on with the known peer"
