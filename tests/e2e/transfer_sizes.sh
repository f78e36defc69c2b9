# Seed and download files of edge-case sizes with --parallel 1 and 8; compare bytes.
source "$(dirname "$0")/lib.sh"
PS=16384
mkdir -p "$T/src"
for size in 0 1 $PS $((PS - 1)) $((PS + 1)) $((3 * PS)) $((3 * PS + 1)) 5242881; do
  f="$T/src/f$size.bin"
  random_file "$f" "$size"
  "$BIN/p2p-create" -q --piece-size $PS "$f"
  start seed$size "$BIN/p2p-seed" --meta "$f.p2pmeta" --source "$f" --host 127.0.0.1 --port 0
  seed_pid=$LAST_PID
  for par in 1 8; do
    dl="$T/dl$size-$par"
    "$BIN/p2p-download" --meta "$f.p2pmeta" --host 127.0.0.1 --port "$PORT" --parallel $par --workdir "$dl" --quiet \
      >"$T/dl$size-$par.log" 2>&1 || fail "download of $size bytes with --parallel $par failed"
    cmp "$f" "$dl/f$size.bin" || fail "$size bytes: downloaded file differs"
    [ -z "$(ls -A "$dl/.p2p" | grep -v '\.lock$\|^reputation\.db')" ] || fail "$size bytes: leftovers: $(ls "$dl/.p2p")"
  done
  stop $seed_pid
  pass "$size bytes"
done

# A multi-MiB file with automatic piece size, and a second run that finds it already complete.
random_file "$T/src/big.bin" $((24 * 1024 * 1024 + 77))
"$BIN/p2p-create" -q "$T/src/big.bin"
start bigseed "$BIN/p2p-seed" --meta "$T/src/big.bin.p2pmeta" --source "$T/src/big.bin" --host 127.0.0.1 --port 0
"$BIN/p2p-download" --meta "$T/src/big.bin.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dlbig" --json >"$T/big.json" \
  || fail "24 MiB download failed"
cmp "$T/src/big.bin" "$T/dlbig/big.bin" || fail "24 MiB file differs"
grep -q '"event":"complete"' "$T/big.json" || fail "no complete event in --json output"
"$BIN/p2p-download" --meta "$T/src/big.bin.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dlbig" >"$T/again.log" 2>&1 \
  || fail "second run over a complete file failed"
grep -q "already complete" "$T/again.log" || fail "second run did not recognise the complete file"
pass "24 MiB with automatic piece size; rerun recognises the complete file"

# A completed download folder can be seeded as is (no --source: WORKDIR/<name>).
start reseed "$BIN/p2p-seed" --meta "$T/src/big.bin.p2pmeta" --workdir "$T/dlbig" --host 127.0.0.1 --port 0
"$BIN/p2p-download" --meta "$T/src/big.bin.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dlbig2" --quiet \
  || fail "download from a re-seeded download folder failed"
cmp "$T/src/big.bin" "$T/dlbig2/big.bin" || fail "re-seeded copy differs"
pass "seeded from a downloads folder"
