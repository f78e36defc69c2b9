# Nothing of the user's is ever replaced or written through, one workdir has one
# writer per name, and our own files never collide with downloaded names.
source "$(dirname "$0")/lib.sh"
SIZE=$((3 * 1024 * 1024))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 "$T/f.bin"
M="$T/f.bin.p2pmeta"
start seed "$BIN/p2p-seed" --meta "$M" --source "$T/f.bin" --host 127.0.0.1 --port 0 --max-upload-rate 1M
SEED=$PORT
DL=(--meta "$M" --peer 127.0.0.1:$SEED --no-listen -q --give-up-after 10)

# 1. A different file already under the final name: refused (11), untouched.
mkdir -p "$T/w1" && echo "my thesis" >"$T/w1/f.bin"
expect_exit 11 "$BIN/p2p-download" "${DL[@]}" --workdir "$T/w1"
grep -q "not overwriting" "$T/last.err" || fail "no clear message for a file in the way"
[ "$(cat "$T/w1/f.bin")" = "my thesis" ] || fail "the user's file was changed"

# 2. A file that appears under the final name while downloading: kept, download kept as .partial.
"$BIN/p2p-download" "${DL[@]}" --workdir "$T/w2" 2>"$T/w2.err" &
pid=$!
PIDS+=($pid)
# Once its .partial exists the download has checked the final name and is under way (~3 s at
# the seeder's 1 MB/s). The path is worked out once, before: the poll itself must be quick.
# (A fixed sleep was too short under a sanitizer, where the workdir did not exist yet.)
W2_PARTIAL=$(partial_of "$M" "$T/w2")
for i in $(seq 1 400); do [ -e "$W2_PARTIAL" ] && break; sleep 0.025; done
[ -e "$W2_PARTIAL" ] || fail "the download's $W2_PARTIAL did not appear within 10 s"
echo "written meanwhile" >"$T/w2/f.bin"
set +e
wait $pid
rc=$?
set -e
[ $rc -eq 11 ] || fail "a file created during the download: exit $rc, expected 11"
[ "$(cat "$T/w2/f.bin")" = "written meanwhile" ] || fail "the file that appeared was overwritten"
grep -q "appeared while downloading" "$T/w2.err" || fail "no message about the file that appeared"
mv "$T/w2/f.bin" "$T/w2/mine.bin"
"$BIN/p2p-download" "${DL[@]}" --workdir "$T/w2" --json >"$T/w2b.log" || fail "rerun after moving the file away failed"
cmp "$T/f.bin" "$T/w2/f.bin" || fail "rerun: file differs"
grep -q '"event":"resumed"' "$T/w2b.log" || fail "rerun fetched again what was verified"

# 3. Symbolic links planted where we write: refused, never followed.
mkdir -p "$T/w3/.p2p" && echo precious >"$T/victim"
ln -s "$T/victim" "$(partial_of "$M" "$T/w3")"
expect_exit 8 "$BIN/p2p-download" "${DL[@]}" --workdir "$T/w3"
grep -q "symbolic link" "$T/last.err" || fail "planted .partial link: unclear message"
mkdir -p "$T/w4" && ln -s "$T/victim" "$T/w4/f.bin"
expect_exit 11 "$BIN/p2p-download" "${DL[@]}" --workdir "$T/w4"
mkdir -p "$T/w5" && ln -s "$T" "$T/w5/.p2p"
expect_exit 8 "$BIN/p2p-download" "${DL[@]}" --workdir "$T/w5"
[ "$(cat "$T/victim")" = precious ] || fail "a planted link was written through"

# 4. One writer per name: a second download of the same name waits its turn (12);
#    a lock left by kill -9 never blocks a rerun.
"$BIN/p2p-download" "${DL[@]}" --workdir "$T/w6" &
first=$!
PIDS+=($first)
for i in $(seq 1 100); do ls "$T/w6/.p2p/"*.lock >/dev/null 2>&1 && break; sleep 0.05; done
expect_exit 12 "$BIN/p2p-download" "${DL[@]}" --workdir "$T/w6"
grep -q "in use by process $first" "$T/last.err" || { cat "$T/last.err"; fail "no 'in use by process N' message"; }
kill -9 $first
wait $first 2>/dev/null || true
"$BIN/p2p-download" "${DL[@]}" --workdir "$T/w6" || fail "a stale lock blocked the rerun"
cmp "$T/f.bin" "$T/w6/f.bin" || fail "w6: file differs"

# 5. Downloaded names never collide with ours; the reserved name is refused everywhere.
mkdir -p "$T/named"
cp "$T/f.bin" "$T/named/reputation.db"
"$BIN/p2p-create" -q -o "$T/rep.p2pmeta" "$T/named/reputation.db"
start seed2 "$BIN/p2p-seed" --meta "$T/rep.p2pmeta" --source "$T/named/reputation.db" --host 127.0.0.1 --port 0
"$BIN/p2p-download" --meta "$T/rep.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/w7" -q --give-up-after 10 ||
  fail "a file named reputation.db could not be downloaded"
cmp "$T/f.bin" "$T/w7/reputation.db" || fail "reputation.db (the user's) differs"
[ -f "$T/w7/.p2p/reputation.db" ] || fail "our reputation database is not in .p2p"
mkdir -p "$T/res" && echo x >"$T/res/.p2p"
expect_exit 4 "$BIN/p2p-create" "$T/res/.p2p"

# 6. Every name that validates can be downloaded: 255 bytes, with room for nothing more.
long=$(printf 'n%.0s' $(seq 1 251)).bin
mkdir -p "$T/long" && cp "$T/f.bin" "$T/long/$long"
"$BIN/p2p-create" -q -o "$T/long.p2pmeta" "$T/long/$long"
start seed3 "$BIN/p2p-seed" --meta "$T/long.p2pmeta" --source "$T/long/$long" --host 127.0.0.1 --port 0
"$BIN/p2p-download" --meta "$T/long.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/w8" -q --give-up-after 10 ||
  fail "a 255-byte name could not be downloaded"
cmp "$T/f.bin" "$T/w8/$long" || fail "255-byte name: file differs"

# 7. A name that is not UTF-8: a clear bad-input error from p2p-create, not an internal error.
bad=$(printf 'caf\xe9.txt')
echo data >"$T/$bad"
expect_exit 4 "$BIN/p2p-create" "$T/$bad"
grep -q "not valid UTF-8" "$T/last.err" || fail "non-UTF-8 name: unclear message"
pass "user's files never replaced or written through; one writer per name; no collisions; long and odd names handled"
