# Huge or hostile metas cost bounded memory: a 400 MB "meta" is refused by its
# size before a byte is read, and a 60 MB meta made of millions of tiny JSON
# values (16x amplification in a naive parse) is refused once it holds more
# values than any meta can, with a peak RSS far below its parse cost.
source "$(dirname "$0")/lib.sh"
truncate -s 400M "$T/huge.p2pmeta"  # past kMaxMetaFileBytes (328 MiB: a tree meta lists up to 2^20 entries)
python3 - "$T/tiny_values.p2pmeta" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write('{"version":2,"name":"x","size":1,"piece_size":262144,"pieces":[')
    f.write(",".join(["0"] * 30_000_000))
    f.write("]}")
PY
peak_of() {  # peak_of CMD...: runs CMD, prints "EXIT PEAK_KIB" (RSS high-water mark of the child)
  python3 -c '
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}
read -r rc peak < <(peak_of "$BIN/p2p-download" --meta "$T/huge.p2pmeta" --peer 127.0.0.1:1 --workdir "$T/dl" 2>"$T/huge.err")
[ "$rc" -eq 3 ] || { cat "$T/huge.err"; fail "a 400 MB meta: exit $rc, expected 3"; }
grep -q "more than the" "$T/huge.err" || fail "a 400 MB meta: unclear message"
under_sanitizer || [ "$peak" -lt 30000 ] || fail "a 400 MB meta was read before being refused (peak $peak KiB)"
read -r rc peak < <(peak_of "$BIN/p2p-download" --meta "$T/tiny_values.p2pmeta" --peer 127.0.0.1:1 --workdir "$T/dl" 2>"$T/tiny.err")
[ "$rc" -eq 4 ] || { cat "$T/tiny.err"; fail "a meta of 30 million tiny values: exit $rc, expected 4"; }
grep -q "JSON values" "$T/tiny.err" || fail "tiny values: unclear message: $(cat "$T/tiny.err")"
size_kib=$(( $(stat -c %s "$T/tiny_values.p2pmeta") / 1024 ))
echo "60 MB hostile meta: peak RSS $peak KiB (input $size_kib KiB)"
under_sanitizer || [ "$peak" -lt $((size_kib * 3)) ] ||
  fail "parsing the hostile meta peaked at $peak KiB for $size_kib KiB of input"
pass "huge metas refused by size; hostile values bounded (peak $((peak / 1024)) MiB for $((size_kib / 1024)) MiB)"
