# Folders are made when needed (issue 22): a meta's empty files and folders are made
# in the download's last step, after every piece is verified, never before a peer is
# seen; and a meta asking for more folders than kMaxTreeFolders is refused before
# anything is made. The tree: one file and 256 empty folders 64 deep (16,385 folders
# from a ~36 KiB meta).
source "$(dirname "$0")/lib.sh"
S=$T/src/deep
mkdir -p "$S"
random_file "$S/data.bin" 200000
: >"$S/empty.txt"
python3 - "$S" <<'PY'
import os, sys
for i in range(256):
    os.makedirs(os.path.join(sys.argv[1], f"e{i:03d}", *["d"] * 63))
PY
"$BIN/p2p-create" -q --piece-size 65536 -o "$T/deep.p2pmeta" "$S" || fail "p2p-create of the deep tree failed"
bytes=$(stat -c %s "$T/deep.p2pmeta")
python3 - "$T/deep.p2pmeta" <<'PY' || fail "meta does not list the 256 deep empty folders"
import json, sys
m = json.load(open(sys.argv[1]))
assert len(m["dirs"]) == 256 and all(d.count("/") == 63 for d in m["dirs"]), len(m["dirs"])
PY

folders_in() { find "$1" -type d 2>/dev/null | wc -l; }

# 1. No peer answers: the download gives up with nothing of the tree's folders made.
set +e
"$BIN/p2p-download" --meta "$T/deep.p2pmeta" --peer 127.0.0.1:1 --no-listen --give-up-after 2 \
  --workdir "$T/dl" >"$T/nopeer.out" 2>"$T/nopeer.err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a download with no peer exited 0"
n=$(folders_in "$T/dl")
[ "$n" -lt 20 ] || fail "with no peer, $n folders were made in the workdir (a meta of $bytes bytes)"
for p in "$T/dl/deep/empty.txt" "$T/dl/deep.partial/empty.txt"; do
  [ ! -e "$p" ] || fail "an empty file was made before any piece arrived: $p"
done
pass "no peer: $n folders in the workdir (the .p2p state), none of the meta's 16,385"

# 2. With a seeder: every folder, the empty file and the data arrive in the last step.
start seed "$BIN/p2p-seed" --meta "$T/deep.p2pmeta" --source "$S" --host 127.0.0.1 --port 0 --workdir "$T/seedwd"
"$BIN/p2p-download" --meta "$T/deep.p2pmeta" --peer 127.0.0.1:$PORT --no-listen --workdir "$T/dl" \
  >"$T/dl.out" 2>"$T/dl.err" || fail "download failed: $(tail -3 "$T/dl.err")"
diff -r "$S" "$T/dl/deep" || fail "downloaded tree differs"
[ "$(folders_in "$T/dl/deep")" -eq "$(folders_in "$S")" ] || fail "folder count differs"
pass "with a seeder: $(folders_in "$T/dl/deep") folders, empty file and data identical"

# 3. More folders than kMaxTreeFolders (262,144): refused while it is read, nothing made.
python3 - "$T/bomb.p2pmeta" <<'PY'
import hashlib, json, sys
dirs = [f"{i:06d}/" + "/".join(["d"] * 3) for i in range(70000)]  # 4 folders each: 280,000
info = {"version": 3, "name": "bomb", "piece_size": 16384, "size": 0, "files": [], "dirs": sorted(dirs),
        "pieces": [], "root": "0" * 64}
ih = hashlib.sha256(json.dumps(info, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
json.dump(dict(info, info_hash=ih, trackers=[], created=0), open(sys.argv[1], "w"))
PY
start_ns=$(date +%s%N)
expect_exit 4 "$BIN/p2p-download" --meta "$T/bomb.p2pmeta" --peer 127.0.0.1:1 --no-listen --workdir "$T/bombwd"
ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
grep -q "kMaxTreeFolders" "$T/last.err" || fail "folder bomb: unclear refusal: $(cat "$T/last.err")"
[ "$(folders_in "$T/bombwd")" -le 2 ] || fail "folder bomb: folders were made: $(folders_in "$T/bombwd")"
pass "a meta asking for 280,000 folders: refused in $ms ms ($(head -c 200 "$T/last.err"))"
