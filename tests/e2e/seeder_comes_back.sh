# The only seeder dies mid-download and comes back on the same port a few
# seconds later: the downloader says it is waiting and why, keeps retrying with
# back-off, and completes once the seeder is back (it does not give up after a
# handful of tries). With --give-up-after it ends with exit 7 and the reason.
# On a loopback of its own: another test's seeder once took the freed port
# meanwhile and answered unknown_info_hash, a refusal for good.
OWN_LOOPBACK=1
source "$(dirname "$0")/lib.sh"
SIZE=$((6 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0 --max-upload-rate 2M
SEED_PORT=$PORT
"$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$SEED_PORT --workdir "$T/dl" --no-listen --json >"$T/dl.log" 2>&1 &
DL=$!
PIDS+=($DL)
sleep 1
kill -9 "$LAST_PID"
wait "$LAST_PID" 2>/dev/null || true
for i in $(seq 1 200); do grep -q '"event":"waiting"' "$T/dl.log" && break; sleep 0.05; done
grep -q '"event":"waiting".*no peer connected.*giving up in' "$T/dl.log" || fail "downloader did not say it is waiting"
sleep 4  # longer than the old give-up after 6 quick retries
kill -0 $DL || fail "downloader gave up while its seeder was away"
start seed2 "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port $SEED_PORT
set +e
wait $DL
rc=$?
set -e
[ $rc -eq 0 ] || fail "download exited $rc after the seeder came back"
cmp "$T/f.bin" "$T/dl/f.bin" || fail "file differs"
# And a seeder that never comes back: exit 7 after --give-up-after, saying so.
expect_exit 7 "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:1 --workdir "$T/dl2" --no-listen --give-up-after 2
grep -q "give-up-after" "$T/last.err" || fail "the final error does not say why it gave up"
pass "downloader waited for its seeder and completed; gave up only after --give-up-after"
