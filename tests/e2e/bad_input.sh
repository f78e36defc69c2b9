# Bad input to each executable: one clear line, the documented exit code, nothing lost.
source "$(dirname "$0")/lib.sh"
random_file "$T/f.bin" 100000
"$BIN/p2p-create" -q --piece-size 16384 "$T/f.bin"
M="$T/f.bin.p2pmeta"

expect_exit 3 "$BIN/p2p-create" "$T/missing.bin"
grep -q "missing.bin" "$T/last.err" || fail "create: message does not name the file"
expect_exit 2 "$BIN/p2p-create" --piece-size 1000 "$T/f.bin"
expect_exit 3 "$BIN/p2p-seed" --meta "$T/nope.p2pmeta" --source "$T/f.bin" --port 0
echo "not json" >"$T/bad.p2pmeta"
expect_exit 4 "$BIN/p2p-seed" --meta "$T/bad.p2pmeta" --source "$T/f.bin" --port 0
expect_exit 4 "$BIN/p2p-download" --meta "$T/bad.p2pmeta" --peer 127.0.0.1:1
grep -q "bad.p2pmeta" "$T/last.err" || fail "download: message does not name the meta"
sed 's/"name": "f.bin"/"name": "..\/evil"/' "$M" >"$T/evil.p2pmeta"
expect_exit 4 "$BIN/p2p-download" --meta "$T/evil.p2pmeta" --peer 127.0.0.1:1 --workdir "$T/dl"
[ ! -e "$T/evil" ] || fail "a hostile name escaped the workdir"

# Source that does not match: refused, naming the first bad piece.
cp "$T/f.bin" "$T/changed.bin"
printf 'X' | dd of="$T/changed.bin" bs=1 seek=70000 conv=notrunc 2>/dev/null
expect_exit 5 "$BIN/p2p-seed" --meta "$M" --source "$T/changed.bin" --port 0
grep -q "piece 4" "$T/last.err" || fail "mismatch message does not name piece 4: $(cat "$T/last.err")"

# Busy port.
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0
expect_exit 6 "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port "$PORT"
grep -q "$PORT" "$T/last.err" || fail "busy-port message does not name the port"

# Unreachable peer: retries with back-off, gives up with exit 7 after --give-up-after.
# The port stays bound (never listening: connections are refused) while the download runs,
# so no other test's process can take it meanwhile and answer.
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True); time.sleep(120)' >"$T/freeport" &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$T/freeport" ] && break; sleep 0.1; done
[ -s "$T/freeport" ] || fail "could not reserve a port for the unreachable peer"
expect_exit 7 "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$(cat "$T/freeport") --workdir "$T/dl_unreach" --quiet --give-up-after 3
grep -q "refused" "$T/last.err" || fail "unreachable: $(cat "$T/last.err")"

# Workdir not writable (a file where the folder should be).
echo x >"$T/notadir"
expect_exit 8 "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$PORT --workdir "$T/notadir/sub"
# Bad arguments.
expect_exit 2 "$BIN/p2p-download" --meta "$M" --peer nonsense
expect_exit 2 "$BIN/p2p-download" --meta "$M" --peer 127.0.0.1:$PORT --parallel 0
pass "bad input"
