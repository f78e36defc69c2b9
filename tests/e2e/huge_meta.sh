# Huge or hostile metas cost bounded time and memory (issues 11 and 22): a 400 MB
# "meta" is refused by its size before a byte is read; a meta of millions of tiny JSON
# values, one of a 100 MB string and one of 100 MB of spaces are refused while they
# are read, with a peak RSS far below their size (nothing is buffered: the meta is
# read from its file in 1 MiB slices); and a valid meta of 200,000 files is read in
# memory proportional to what it lists, not to a JSON tree of it.
source "$(dirname "$0")/lib.sh"
GEN=$(cd "$(dirname "$0")/../../bench" && pwd)/gen_tree.py
truncate -s 400M "$T/huge.p2pmeta"  # past kMaxMetaFileBytes (281 MiB)
python3 - "$T" <<'PY'
import sys
d = sys.argv[1]
with open(d + "/tiny_values.p2pmeta", "w") as f:  # 6 million empty strings in a field no meta has
    f.write('{"version":2,"name":"x","size":1,"piece_size":262144,"junk":[')
    f.write(",".join(['""'] * 6_000_000))
    f.write("]}")
with open(d + "/long_string.p2pmeta", "w") as f:
    f.write('{"version":2,"name":"' + "x" * 100_000_000 + '"}')
with open(d + "/spaces.p2pmeta", "w") as f:
    f.write('{"version":2,' + " " * 100_000_000 + '"name":"x"}')
PY
python3 "$GEN" meta "$T/wide.p2pmeta" --entries 200000 --tiny --name wide >/dev/null
peak_of() {  # peak_of CMD...: runs CMD, prints "EXIT PEAK_KIB SECONDS" (RSS high-water mark of the child)
  python3 -c '
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, round(time.monotonic() - t, 2))' "$@"
}
dl() { peak_of "$BIN/p2p-download" --meta "$1" --peer 127.0.0.1:1 --no-listen --give-up-after 1 --workdir "$T/dl"; }

read -r rc peak secs < <(dl "$T/huge.p2pmeta" 2>"$T/huge.err")
[ "$rc" -eq 3 ] || { cat "$T/huge.err"; fail "a 400 MB meta: exit $rc, expected 3"; }
grep -q "more than the" "$T/huge.err" || fail "a 400 MB meta: unclear message"
under_sanitizer || [ "$peak" -lt 30000 ] || fail "a 400 MB meta was read before being refused (peak $peak KiB)"

check_refused() {  # check_refused NAME GREP: exit 4 naming the bound, peak RSS under 40 MiB
  local rc peak secs
  read -r rc peak secs < <(dl "$T/$1.p2pmeta" 2>"$T/$1.err")
  [ "$rc" -eq 4 ] || { cat "$T/$1.err"; fail "$1: exit $rc, expected 4"; }
  grep -q "$2" "$T/$1.err" || fail "$1: unclear message: $(head -c 300 "$T/$1.err")"
  echo "$1 ($(( $(stat -c %s "$T/$1.p2pmeta") >> 20 )) MiB): refused in ${secs}s, peak RSS $((peak / 1024)) MiB"
  under_sanitizer || [ "$peak" -lt 40000 ] || fail "$1: peak RSS $peak KiB while refusing it"
}
check_refused tiny_values "JSON values"
check_refused long_string "longer than"
check_refused spaces "without a string"

read -r rc peak secs < <(dl "$T/wide.p2pmeta" 2>"$T/wide.err")
[ "$rc" -eq 7 ] || { cat "$T/wide.err"; fail "a valid 200,000-file meta: exit $rc, expected 7 (no peer answers)"; }
size_kib=$(( $(stat -c %s "$T/wide.p2pmeta") / 1024 ))
echo "valid 200,000-file meta ($((size_kib / 1024)) MiB): read and no peer found in ${secs}s, peak RSS $((peak / 1024)) MiB"
under_sanitizer || [ "$peak" -lt $((size_kib * 3)) ] ||
  fail "reading a valid $size_kib KiB meta peaked at $peak KiB (a JSON tree of it?)"
pass "huge metas refused by size; hostile ones bounded; a 200,000-file meta read in $((peak / 1024)) MiB"
