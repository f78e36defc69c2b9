#!/usr/bin/env python3
"""Deterministic inputs for bench/tree_bench.sh (issue 11: directories). No third-party modules.

  gen_tree.py tree OUT [--files N] [--total BYTES] [--seed S] [--name NAME] [--shape mixed|small]
      Writes the tree OUT/NAME/ (default NAME "tree") and OUT/params.json describing it; if
      OUT/params.json already describes the same arguments and the tree on disk still has the
      recorded file count and bytes, nothing is written ("reusing"). Prints OUT/params.json.
      Sizes: log-uniform spreads between 100 B and 10 MiB, mixed so the total lands on
      --total (see sizes()); a few empty files, empty folders (one nested), ~2 % executable
      files, one file of exactly 1 MiB three or more levels deep (the --only probe, "only" in
      params.json), nested folders up to 6 levels, a few names with spaces and UTF-8.
      Content: AES-128-CTR keystream keyed by the seed (openssl), so the same arguments
      give byte-identical trees on any machine.
      --shape small (issue 21, item 6): every size log-uniform over 100 B..500 KiB alone (no
      mixing, --total ignored: 20,000 files come to ~1.2 GB), a folder per 15 files (~1,300
      for 20,000); the 1 MiB --only probe is the one file above 500 KiB.
  gen_tree.py meta OUT.p2pmeta [--entries N] [--name NAME] [--tiny]
      A valid tree meta (format 3, as the brief for issue 11 describes it) with N files in
      nested folders, made without any data: every file empty (no pieces, root = 64 zeros),
      or with --tiny 1 byte each (one piece per file). For size and parse-time figures.
  gen_tree.py costly OUT.p2pmeta [--entries N] [--max-file-bytes B]
      The costliest meta the limits of lib/base/limits.hpp allow (issue 22): kMaxTreeEntries
      files of 1 byte (kMaxPieces pieces), paths of 8 components and 63 bytes (kMaxTreePathBytes,
      kMaxTreePathComponents), ~230,000 folders (kMaxTreeFolders 262,144), every file "exec",
      and as many path letters written as \\u00XX escapes as kMaxMetaFileBytes (B) holds. Valid:
      its info hash is right, so a reader does all the work before it can say anything. With
      --entries 40000 --max-file-bytes 8388608: the costliest meta a tracker takes.
  gen_tree.py tree-meta TREE OUT.p2pmeta --piece-size P
      The format-3 meta of a real tree computed here (reference implementation: compare its
      info hash with p2p-create's once p2p-create makes tree metas).
  gen_tree.py verify SRC DST [--torrent]
      Compares two trees: every file's bytes, the executable bits, empty files and empty
      folders. Prints one summary line; exit 1 on any difference. --torrent: what a
      BitTorrent v1 client cannot carry (empty folders, the executable bit) is reported,
      not counted as a difference.
  gen_tree.py stat DIR
      "files bytes" of DIR (a cheap check of a timed copy).

Format 3 info (hashed): {"version":3,"name":ROOT,"piece_size":P,"size":SUM OF FILE SIZES,
  "files":[{"path":"a/b","size":N,"exec":true},...] (sorted bytewise by path; "exec" only
  when true), "dirs":["empty/folder",...] (sorted), "pieces":[hex...] (each file's pieces in
  file order, every file starting on a piece boundary, an empty file has none),
  "root":merkle_root(pieces) hex}; info hash = SHA-256 of the canonical JSON (sorted keys, no
  spaces), as lib/format/meta.cpp canonical_info() does for formats 1 and 2. The meta file is
  the info plus "info_hash", "trackers", "created", written like meta_to_json (indent 1).
"""
import argparse
import filecmp
import hashlib
import json
import math
import os
import random
import shutil
import stat
import subprocess
import sys

GENERATOR_VERSION = 1
MIN_SIZE = 100
MAX_SIZE = 10 << 20
ONLY_SIZE = 1 << 20
MAX_DEPTH = 6
KNEE = 64 << 10
# A few folder names that are not plain ASCII words (spaces, UTF-8): trees people share have them.
ODD_NAMES = ["Photos 2024", "été", "データ", "read me", "a-b_c.d"]
WORDS = ["src", "lib", "data", "img", "docs", "build", "cache", "raw", "out", "assets", "logs", "misc"]
EXTS = [".bin", ".dat", ".jpg", ".txt", ".o", ""]


def parse_bytes(s):
    s = str(s).strip().lower()
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


SMALL_MAX = 500 << 10     # --shape small: the top of its one log-uniform spread


def sizes(rng, n, total, max_size=MAX_SIZE, single=False):
    """n sizes in [MIN_SIZE, MAX_SIZE] with sum ~= total, and the mixing share q.

    Log-uniform over 100 B..10 MiB alone averages ~0.9 MB a file (20,000 files would be
    ~17 GiB), so sizes are a mix of two log-uniform spreads: a share q of the files over the
    whole 100 B..10 MiB range, the rest over 100 B..64 KiB (many small files and a tail of
    big ones, as in source trees and photo folders). q is found by bisection on the drawn
    numbers so the sum lands on total (20,000 files / 1 GiB: q ~ 5 %)."""
    draws = [(rng.random(), rng.random()) for _ in range(n)]

    def sz(u, wide):
        return int(MIN_SIZE * ((max_size if wide else KNEE) / MIN_SIZE) ** u)

    def total_for(q):
        return sum(sz(u, v < q) for u, v in draws)

    if single or total_for(1.0) <= total:
        q = 1.0
    elif total_for(0.0) >= total:
        q = 0.0
    else:
        lo, hi = 0.0, 1.0
        for _ in range(50):
            mid = (lo + hi) / 2
            if total_for(mid) > total:
                hi = mid
            else:
                lo = mid
        q = (lo + hi) / 2
    return [sz(u, v < q) for u, v in draws], q


def keystream(seed):
    """A deterministic byte stream: AES-128-CTR under a key derived from the seed."""
    key = hashlib.sha256(f"p2p-share tree bench {seed}".encode()).hexdigest()[:32]
    return subprocess.Popen(["openssl", "enc", "-aes-128-ctr", "-K", key, "-iv", "0", "-nosalt"],
                            stdin=open("/dev/zero", "rb"),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=1 << 20)


def plan(files, total, seed, shape="mixed"):
    """The tree's layout: (dirs, empty_dirs, file entries [path, size, exec], only, k)."""
    rng = random.Random(seed)
    small = shape == "small"
    top = SMALL_MAX if small else MAX_SIZE
    n_dirs = max(4, files // (15 if small else 25))
    dirs = [""]            # "" is the root
    depth = {"": 0}
    for j in range(1, n_dirs + 1):
        parents = [d for d in dirs if depth[d] < MAX_DEPTH]
        # Prefer deeper parents a little so the tree is several levels deep, not a flat fan.
        parent = max(rng.sample(parents, min(2, len(parents))), key=lambda d: depth[d])
        base = ODD_NAMES[j % len(ODD_NAMES)] if j % 97 == 5 else f"{rng.choice(WORDS)}{j:03d}"
        d = f"{parent}/{base}" if parent else base
        dirs.append(d)
        depth[d] = depth[parent] + 1
    n_empty_files = max(2, files // 4000)
    special = 2 + n_empty_files  # the 1 MiB probe and one file of the top size, then the empty ones
    if files < special + 1:
        raise SystemExit(f"gen_tree: at least {special + 1} files needed")
    rest = total - ONLY_SIZE - top - MIN_SIZE
    if rest <= 0 and not small:
        raise SystemExit("gen_tree: --total too small (the 1 MiB and 10 MiB files alone exceed it)")
    body, k = sizes(rng, files - special - 1, rest, top, small)
    sz = [ONLY_SIZE, top, MIN_SIZE] + [0] * n_empty_files + body
    entries = []
    # The --only probe's path is plain ASCII without spaces (it goes through hyperfine's command line).
    plain = [d for d in dirs if d.isascii() and " " not in d]
    deep = [d for d in plain if depth[d] >= 3] or plain
    only_dir = rng.choice(deep)
    for i, s in enumerate(sz):
        d = only_dir if i == 0 else rng.choice(dirs)
        ext = ".bin" if i == 0 else rng.choice(EXTS)
        name = f"only-1MiB{ext}" if i == 0 else (f"empty{i:05d}" if s == 0 else f"f{i:05d}{ext}")
        ex = i != 0 and (rng.random() < 0.02 or i in (3,))   # ~2 %, at least one (an empty file)
        entries.append([f"{d}/{name}" if d else name, s, ex])
    entries[1][2] = True  # the biggest file is executable too
    empty_dirs = []
    for j in range(max(2, n_dirs // 100)):
        parent = rng.choice(dirs)
        e = f"{parent}/empty-dir-{j}" if parent else f"empty-dir-{j}"
        empty_dirs.append(e)
    empty_dirs.append(empty_dirs[0] + "/nested empty")  # a folder holding only an empty folder
    empty_dirs[0:1] = []  # ... whose parent is then not itself an empty folder
    return dirs, sorted(empty_dirs), entries, entries[0][0], k


def walk_stat(root):
    n = b = 0
    for dp, dn, fn in os.walk(root):
        for f in fn:
            n += 1
            b += os.lstat(os.path.join(dp, f)).st_size
    return n, b


def cmd_tree(a):
    out = os.path.abspath(a.out)
    total = parse_bytes(a.total)
    want = {"generator": GENERATOR_VERSION, "files": a.files, "total_requested": total, "seed": a.seed, "name": a.name}
    if a.shape != "mixed":
        want["shape"] = a.shape  # (absent for the mixed shape: trees cached before --shape stay valid)
    pj = os.path.join(out, "params.json")
    root = os.path.join(out, a.name)
    if os.path.exists(pj):
        have = json.load(open(pj))
        if all(have.get(k) == v for k, v in want.items()) and have.get("shape", "mixed") == a.shape and os.path.isdir(root):
            if walk_stat(root) == (have["file_count"], have["bytes"]):
                print(f"gen_tree: reusing {root}", file=sys.stderr)
                print(pj)
                return
        print(f"gen_tree: {out} holds another or a damaged tree; regenerating", file=sys.stderr)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(root)
    dirs, empty_dirs, entries, only, k = plan(a.files, total, a.seed, a.shape)
    for d in dirs[1:] + empty_dirs:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    ks = keystream(a.seed)
    written = 0
    for path, size, ex in entries:
        data = ks.stdout.read(size) if size else b""
        if len(data) != size:
            raise SystemExit("gen_tree: openssl keystream ended early")
        p = os.path.join(root, path)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, 0o755 if ex else 0o644)
        written += size
    ks.kill()
    ks.wait()
    for dp, dn, fn in os.walk(root):
        os.chmod(dp, 0o755)
    params = dict(want)
    params.update({
        "root": root, "file_count": len(entries), "bytes": written, "wide_share_q": round(k, 4),
        "size_min_nonzero": min(s for _, s, _ in entries if s), "size_max": max(s for _, s, _ in entries),
        "empty_files": sum(1 for _, s, _ in entries if s == 0), "exec_files": sum(1 for e in entries if e[2]),
        "dirs": len(dirs) - 1 + len(empty_dirs), "empty_dirs": len(empty_dirs),
        "max_depth": max(p.count("/") + 1 for p, _, _ in entries), "only": only, "only_size": ONLY_SIZE,
    })
    with open(pj + ".tmp", "w") as f:
        json.dump(params, f, indent=1, ensure_ascii=False)
    os.replace(pj + ".tmp", pj)
    print(f"gen_tree: wrote {len(entries)} files, {written} bytes under {root}", file=sys.stderr)
    print(pj)


# --- format 3 meta ------------------------------------------------------------------------------
def merkle_root(leaves):
    """lib/base/sha256.cpp merkle_root: pad to a power of two with zero digests; empty -> zeros."""
    if not leaves:
        return bytes(32)
    width = 1
    while width < len(leaves):
        width *= 2
    layer = list(leaves) + [bytes(32)] * (width - len(leaves))
    while len(layer) > 1:
        layer = [hashlib.sha256(layer[i] + layer[i + 1]).digest() for i in range(0, len(layer), 2)]
    return layer[0]


def write_meta(out, name, piece_size, files, dirs, pieces):
    """files: [(path, size, exec)]; pieces: [digest bytes]. Writes the meta, returns the info hash."""
    files = sorted(files, key=lambda f: f[0].encode())
    info = {
        "version": 3, "name": name, "piece_size": piece_size, "size": sum(s for _, s, _ in files),
        "files": [dict({"path": p, "size": s}, **({"exec": True} if x else {})) for p, s, x in files],
        "dirs": sorted(dirs, key=lambda d: d.encode()),
        "pieces": [d.hex() for d in pieces],
        "root": merkle_root(pieces).hex(),
    }
    canonical = json.dumps(info, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    ih = hashlib.sha256(canonical.encode()).hexdigest()
    meta = dict(info, info_hash=ih, trackers=[], created=0)
    with open(out, "w", encoding="utf-8") as f:
        f.write(json.dumps(meta, sort_keys=True, indent=1, ensure_ascii=False) + "\n")
    return ih


def cmd_meta(a):
    rng = random.Random(a.seed)
    files = []
    # 100 top folders x 100 sub-folders x 100 files for 1,000,000 entries.
    per = max(1, round(a.entries ** (1 / 3)))
    for i in range(a.entries):
        top, mid = i // (per * per), (i // per) % per
        files.append((f"d{top:03d}/s{mid:03d}/file-{i:07d}.dat", 1 if a.tiny else 0, rng.random() < 0.01))
    files.sort(key=lambda f: f[0].encode())
    pieces = []
    if a.tiny:
        # 1 byte each: the byte is i % 256 (in path order), one piece per file.
        cache = [hashlib.sha256(bytes([b])).digest() for b in range(256)]
        pieces = [cache[i % 256] for i in range(len(files))]
    dirs = ["empty/a", "empty/b/c"]
    ih = write_meta(a.out, a.name, 64 * 1024, files, dirs, pieces)
    print(f"{a.out}\t{os.path.getsize(a.out)}\t{ih}")


def cmd_costly(a):
    entries = a.entries                     # kMaxTreeEntries (and kMaxPieces: one piece each)
    per_leaf = 5                            # files a leaf folder holds
    names = []
    for i in range(entries):
        j = i // per_leaf                   # leaf folder: d1 / d2 / c3..c6 (one child each) / d3
        d3, d2, d1 = j % 52, (j // 52) % 64, j // (52 * 64)
        names.append(f"a{d1:02x}aaaa/b{d2:02x}bbbb/cccccc3/cccccc4/cccccc5/cccccc6/d{d3:02x}dddd/f{i % per_leaf}fffff")
    assert all(len(n) == 63 for n in names[:10]) and names == sorted(names)
    cache = [hashlib.sha256(bytes([b])).digest() for b in range(256)]
    pieces = [cache[i % 256] for i in range(entries)]
    root = merkle_root(pieces).hex()
    piece_hex = [d.hex() for d in pieces]
    info = hashlib.sha256()
    chunk = []
    def flush():
        info.update("".join(chunk).encode())
        chunk.clear()
    chunk.append('{"files":[')
    for i, n in enumerate(names):
        chunk.append(('' if i == 0 else ',') + '{"exec":true,"path":"' + n + '","size":1}')
        if len(chunk) > 4096:
            flush()
    chunk.append('],"name":"costly","piece_size":16384,"pieces":[')
    chunk.append(",".join('"' + h + '"' for h in piece_hex))
    chunk.append('],"root":"' + root + '","size":' + str(entries) + ',"version":3}')
    flush()
    ih = info.hexdigest()
    head = '{\n "created": 0,\n "files": [\n'
    tail_parts = ['\n ],\n "info_hash": "' + ih + '",\n "name": "costly",\n "piece_size": 16384,\n "pieces": [\n']
    tail_parts.append(",\n".join('  "' + h + '"' for h in piece_hex))
    tail_parts.append('\n ],\n "root": "' + root + '",\n "size": ' + str(entries) + ',\n "trackers": [],\n "version": 3\n}\n')
    tail = "".join(tail_parts)
    entry = '  {{\n   "exec": true,\n   "path": "{}",\n   "size": 1\n  }}'
    plain = len(head) + len(tail) + sum(len(entry.format(n)) for n in names) + 2 * (entries - 1)
    room = a.max_file_bytes - plain - 4096
    escapes = max(0, room // 5)             # "a" -> "\u0061": 5 bytes more
    with open(a.out, "w", encoding="ascii") as f:
        f.write(head)
        for i, n in enumerate(names):
            if escapes > 0:
                k = min(escapes, len(n))
                n = "".join(f"\\u{ord(c):04x}" if c != "/" else c for c in n[:k]) + n[k:]
                escapes -= sum(1 for c in names[i][:k] if c != "/")
            f.write(("" if i == 0 else ",\n") + entry.format(n))
        f.write(tail)
    print(f"{a.out}\t{os.path.getsize(a.out)}\t{ih}")


def cmd_tree_meta(a):
    root = os.path.abspath(a.tree)
    files, dirs = [], []
    for dp, dn, fn in os.walk(root):
        rel = os.path.relpath(dp, root)
        if not dn and not fn and rel != ".":
            dirs.append(rel)
        for f in fn:
            p = os.path.join(dp, f)
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode):
                raise SystemExit(f"gen_tree: {p} is not a regular file")
            files.append((os.path.relpath(p, root), st.st_size, bool(st.st_mode & 0o100)))
    files.sort(key=lambda f: f[0].encode())
    pieces = []
    for p, s, _ in files:
        with open(os.path.join(root, p), "rb") as f:
            while True:
                chunk = f.read(a.piece_size)
                if not chunk:
                    break
                pieces.append(hashlib.sha256(chunk).digest())
    ih = write_meta(a.out, os.path.basename(root), a.piece_size, files, dirs, pieces)
    print(f"{a.out}\t{os.path.getsize(a.out)}\t{ih}")


def listing(root):
    files, dirs = {}, set()
    for dp, dn, fn in os.walk(root):
        rel = os.path.relpath(dp, root)
        if rel != ".":
            dirs.add(rel)
        for f in fn:
            p = os.path.join(dp, f)
            st = os.lstat(p)
            files[os.path.relpath(p, root)] = (st.st_size, bool(st.st_mode & 0o100), stat.S_ISREG(st.st_mode))
    return files, dirs


def cmd_verify(a):
    sf, sd = listing(a.src)
    df, dd = listing(a.dst)
    problems, notes = [], []
    missing = sorted(set(sf) - set(df))
    extra = sorted(set(df) - set(sf))
    if missing:
        problems.append(f"{len(missing)} files missing (e.g. {missing[0]!r})")
    if extra:
        problems.append(f"{len(extra)} files not in the source (e.g. {extra[0]!r})")
    bad = [p for p in sorted(set(sf) & set(df))
           if sf[p][0] != df[p][0] or not df[p][2] or not filecmp.cmp(os.path.join(a.src, p), os.path.join(a.dst, p), shallow=False)]
    if bad:
        problems.append(f"{len(bad)} files differ (e.g. {bad[0]!r})")
    exec_lost = [p for p in set(sf) & set(df) if sf[p][1] != df[p][1]]
    if exec_lost:
        (notes if a.torrent else problems).append(f"executable bit differs on {len(exec_lost)} files")
    parents = {os.path.dirname(p) for p in sf} | {os.path.dirname(d) for d in sd}
    dmiss = sorted(sd - dd)
    dextra = sorted(dd - sd)
    if dmiss:
        empty = [d for d in dmiss if d not in parents]
        (notes if a.torrent else problems).append(f"{len(dmiss)} folders missing ({len(empty)} empty ones)")
    if dextra:
        problems.append(f"{len(dextra)} folders not in the source (e.g. {dextra[0]!r})")
    summary = f"{len(df)} files, {sum(v[0] for v in df.values())} bytes"
    if problems:
        print(f"verify {a.dst}: DIFFERS: " + "; ".join(problems + notes))
        sys.exit(1)
    print(f"verify {a.dst}: identical ({summary})" + (f"; not carried: {'; '.join(notes)}" if notes else ""))


def cmd_stat(a):
    n, b = walk_stat(a.dir)
    print(n, b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tree")
    t.add_argument("out")
    t.add_argument("--files", type=int, default=20000)
    t.add_argument("--total", default="1g")
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--name", default="tree")
    t.add_argument("--shape", choices=("mixed", "small"), default="mixed")
    m = sub.add_parser("meta")
    m.add_argument("out")
    m.add_argument("--entries", type=int, default=1000000)
    m.add_argument("--name", default="million")
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--tiny", action="store_true")
    c = sub.add_parser("costly")
    c.add_argument("out")
    c.add_argument("--entries", type=int, default=1 << 20)
    c.add_argument("--max-file-bytes", type=int, default=72 * (1 << 20) + (1 << 20) * 80 + 2 * (64 << 20) + (1 << 20))
    tm = sub.add_parser("tree-meta")
    tm.add_argument("tree")
    tm.add_argument("out")
    tm.add_argument("--piece-size", type=int, required=True)
    v = sub.add_parser("verify")
    v.add_argument("src")
    v.add_argument("dst")
    v.add_argument("--torrent", action="store_true")
    s = sub.add_parser("stat")
    s.add_argument("dir")
    a = ap.parse_args()
    {"tree": cmd_tree, "meta": cmd_meta, "costly": cmd_costly, "tree-meta": cmd_tree_meta, "verify": cmd_verify, "stat": cmd_stat}[a.cmd](a)


if __name__ == "__main__":
    main()
