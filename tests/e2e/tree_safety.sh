# Nothing is written outside WORKDIR/<name>/ and .p2p/: hostile tree metas
# (.., absolute paths, duplicates, a file under a file) are refused at parse, and a
# symbolic link planted inside the unfinished <name>/ stops the download with
# nothing written through it.
source "$(dirname "$0")/lib.sh"
mkdir -p "$T/outside"
# hostile NAME FILES_JSON [DIRS_JSON]: a tree meta whose info hash matches its contents.
hostile() {
  python3 - "$T/$1.p2pmeta" "$2" "${3:-[]}" <<'PY'
import hashlib, json, sys
files, dirs = json.loads(sys.argv[2]), json.loads(sys.argv[3])
ps = 65536
pieces = []
for f in files:
    n = (f["size"] + ps - 1) // ps
    pieces += [hashlib.sha256(b"x" * min(ps, f["size"] - i * ps)).hexdigest() for i in range(n)]
def root(ds):
    if not ds: return "00" * 32
    n = 1
    while n < len(ds): n *= 2
    level = [bytes.fromhex(d) for d in ds] + [bytes(32)] * (n - len(ds))
    while len(level) > 1:
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0].hex()
info = {"version": 3, "name": "evil", "piece_size": ps, "size": sum(f["size"] for f in files),
        "files": files, "pieces": pieces, "root": root(pieces)}
if dirs: info["dirs"] = dirs
canon = json.dumps(info, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
meta = dict(info, info_hash=hashlib.sha256(canon.encode()).hexdigest(), trackers=[], created=0)
json.dump(meta, open(sys.argv[1], "w"))
PY
}
hostile up '[{"path":"../../outside/pwned","size":10}]'
hostile abs "[{\"path\":\"$T/outside/pwned\",\"size\":10}]"
hostile dup '[{"path":"a","size":10},{"path":"a","size":10}]'
hostile nested '[{"path":"a","size":10},{"path":"a/b","size":10}]'
hostile dotdir '[{"path":"x/../../pwned","size":10}]'
hostile dirup '[]' '["../../outside/d"]'
hostile own '[{"path":".p2p/reputation.db","size":10}]'
for m in up abs dup nested dotdir dirup own; do
  expect_exit 4 "$BIN/p2p-download" --meta "$T/$m.p2pmeta" --peer 127.0.0.1:1 --workdir "$T/dl/w"
done
[ -z "$(ls -A "$T/outside")" ] || fail "a hostile meta wrote outside the workdir"
[ ! -e "$T/dl/w/evil" ] || fail "a hostile meta created its tree"
pass "hostile tree metas refused at parse"

# A control meta from the same script is accepted (so the refusals above are for the paths).
hostile fine '[{"path":"ok/a","size":10}]'
expect_exit 7 "$BIN/p2p-download" --meta "$T/fine.p2pmeta" --peer 127.0.0.1:1 --workdir "$T/dl/f" --give-up-after 1

S=$T/src/tree
mkdir -p "$S/sub"
random_file "$S/sub/x.bin" 300000
random_file "$S/top.bin" 1000
"$BIN/p2p-create" -q "$S" || fail "p2p-create"
# A first run that reaches no peer leaves the unfinished tree (ours: its state is in .p2p).
expect_exit 7 "$BIN/p2p-download" --meta "$S.p2pmeta" --peer 127.0.0.1:1 --workdir "$T/dl" --give-up-after 1
[ -d "$T/dl/tree" ] || fail "no tree folder after the first run"
ln -s "$T/outside" "$T/dl/tree/sub"
start seed "$BIN/p2p-seed" --meta "$S.p2pmeta" --source "$S" --host 127.0.0.1 --port 0 --workdir "$T/seedwd"
expect_exit 11 "$BIN/p2p-download" --meta "$S.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl"
grep -q "symbolic link" "$T/last.err" || fail "unclear message for a planted link: $(cat "$T/last.err")"
[ -z "$(ls -A "$T/outside")" ] || fail "something was written through the planted link"
ls "$T/dl/.p2p/"*.state.json >/dev/null 2>&1 || fail "the tree was finished through a planted link"
rm "$T/dl/tree/sub"
"$BIN/p2p-download" --meta "$S.p2pmeta" --peer 127.0.0.1:$PORT --workdir "$T/dl" --quiet || fail "download after removing the link failed"
diff -r "$S" "$T/dl/tree" || fail "tree differs"
pass "a planted link stops the download; nothing written through it"
