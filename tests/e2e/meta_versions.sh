# Every meta format downloads: format 2 (p2p-create's default: piece hashes and their
# Merkle root), format 2 with --sha256 (the whole-file hash is checked at the end) and
# format 1 (older releases: whole-file hash required). A whole-file hash that disagrees
# with pieces that all verified is exit 9, the file kept as .partial. A download started
# with a format-1 meta, killed with -9, and resumed with the format-2 meta of the same
# file keeps every verified piece.
source "$(dirname "$0")/lib.sh"
SIZE=$((6 * 1024 * 1024 + 123))
random_file "$T/f.bin" $SIZE
"$BIN/p2p-create" -q --piece-size 65536 -o "$T/v2.p2pmeta" "$T/f.bin"
"$BIN/p2p-create" -q --piece-size 65536 --sha256 -o "$T/v2s.p2pmeta" "$T/f.bin"
grep -q '"version": 2' "$T/v2.p2pmeta" || fail "p2p-create did not write format 2"
grep -q '"root": "[0-9a-f]\{64\}"' "$T/v2.p2pmeta" || fail "format 2 meta without a root"
! grep -q file_sha256 "$T/v2.p2pmeta" || fail "a whole-file hash was recorded without --sha256"
want=$(sha256sum "$T/f.bin" | cut -c1-64)
grep -q "\"file_sha256\": \"$want\"" "$T/v2s.p2pmeta" || fail "--sha256 did not record what sha256sum prints"

# rewrite IN OUT VERSION FILE_SHA256|-: the same file in another format (or with a wrong
# whole-file hash), with a consistent info hash, as an older release or a liar would write it.
rewrite() {
  python3 - "$@" <<'PY'
import hashlib, json, sys
src, out, version, file_hash = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
m = json.load(open(src))
m["version"] = version
if version == 1:
    m.pop("root", None)
if file_hash == "-":
    m.pop("file_sha256", None)
else:
    m["file_sha256"] = file_hash
info = {k: v for k, v in m.items() if k not in ("info_hash", "trackers", "created")}
m["info_hash"] = hashlib.sha256(json.dumps(info, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
json.dump(m, open(out, "w"), indent=1)
PY
}
rewrite "$T/v2.p2pmeta" "$T/v1.p2pmeta" 1 "$want"
rewrite "$T/v2.p2pmeta" "$T/v2bad.p2pmeta" 2 "$(printf '%064d' 7)"
rewrite "$T/v2.p2pmeta" "$T/v1bad.p2pmeta" 1 "$(printf '%064d' 7)"

for m in v2 v2s v1; do
  start seed-$m "$BIN/p2p-seed" --meta "$T/$m.p2pmeta" --source "$T/f.bin" --host 127.0.0.1 --port 0
  "$BIN/p2p-download" --meta "$T/$m.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl-$m" --quiet \
    >"$T/dl-$m.log" 2>&1 || fail "format $m: download failed: $(cat "$T/dl-$m.log")"
  cmp "$T/f.bin" "$T/dl-$m/f.bin" || fail "format $m: downloaded file differs"
  stop "$LAST_PID"
  pass "$m meta: downloaded, identical"
done

# All pieces verify, the whole-file hash does not: exit 9, nothing presented as complete.
for m in v2bad v1bad; do
  start seed-$m "$BIN/p2p-seed" --meta "$T/$m.p2pmeta" --source "$T/f.bin" --host 127.0.0.1 --port 0
  expect_exit 9 "$BIN/p2p-download" --meta "$T/$m.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl-$m" --quiet
  grep -q "whole-file SHA-256" "$T/last.err" || fail "$m: unclear message: $(cat "$T/last.err")"
  [ ! -e "$T/dl-$m/f.bin" ] && [ -f "$(partial_of "$T/$m.p2pmeta" "$T/dl-$m")" ] || fail "$m: the file was presented as complete"
  stop "$LAST_PID"
  pass "$m meta: wrong whole-file hash refused with exit 9 ($(tail -n1 "$T/last.err" | cut -c1-80)...)"
done

# Started as format 1, killed, resumed as format 2: the pieces verified on disk are kept.
start seed-v1 "$BIN/p2p-seed" --meta "$T/v1.p2pmeta" --source "$T/f.bin" --host 127.0.0.1 --port 0 --max-upload-rate 2M
"$BIN/p2p-download" --meta "$T/v1.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl-x" --quiet >"$T/x1.log" 2>&1 &
pid=$!
PIDS+=("$pid")
P1=$(partial_of "$T/v1.p2pmeta" "$T/dl-x")  # the format-2 run takes this .partial over (same name and size)
for i in $(seq 1 400); do
  n=$("$BIN/count_valid_pieces" "$T/v1.p2pmeta" "$P1" 2>/dev/null || echo 0)
  [ "$n" -ge 16 ] && break
  sleep 0.025
done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
[ ! -e "$T/dl-x/f.bin" ] || fail "the format-1 download finished before the kill; test inconclusive"
valid=$("$BIN/count_valid_pieces" "$T/v2.p2pmeta" "$P1")
[ "$valid" -gt 0 ] || fail "no verified piece on disk after the kill"
start seed-v2 "$BIN/p2p-seed" --meta "$T/v2.p2pmeta" --source "$T/f.bin" --host 127.0.0.1 --port 0
"$BIN/p2p-download" --meta "$T/v2.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl-x" --json >"$T/x2.json" 2>"$T/x2.log" ||
  fail "resume with the format-2 meta failed: $(cat "$T/x2.log")"
cmp "$T/f.bin" "$T/dl-x/f.bin" || fail "resumed across formats: file differs"
got=$(sed -n 's/.*"event":"resumed","text":"\([0-9]*\) of .*/\1/p' "$T/x2.json" | head -n1)
[ "${got:-0}" -eq "$valid" ] || fail "resumed ${got:-0} pieces, $valid were verified on disk"
pass "format 1 killed at $valid pieces, resumed with format 2: all $got kept, file identical"
