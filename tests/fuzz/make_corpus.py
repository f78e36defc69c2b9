#!/usr/bin/env python3
"""Writes the hand-made seed corpora in tests/fuzz/corpus/<target>/ (small valid
and near-valid inputs). Rerun after changing it; fuzz.sh never writes here."""
import hashlib, json, os, shutil, struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

def sha(b): return hashlib.sha256(b if isinstance(b, bytes) else b.encode()).hexdigest()
def canon(o): return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

def write(target, items):
    d = os.path.join(OUT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in items:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())

# --- wire -----------------------------------------------------------------
H = sha("info")
PEER = "9f3a" * 10
headers = {
    "handshake": {"type": "handshake", "protocol": "p2p-share", "version": 1, "info_hash": H, "peer_id": PEER, "listen_port": 40123},
    "bitfield": {"type": "bitfield", "len": 2},
    "have": {"type": "have", "piece": 17},
    "haves": {"type": "haves", "pieces": [17, 3, 4294967295]},
    "interested": {"type": "interested"},
    "not_interested": {"type": "not_interested"},
    "choke": {"type": "choke"},
    "unchoke": {"type": "unchoke"},
    "request": {"type": "request", "piece": 17, "begin": 0, "length": 262144},
    "cancel": {"type": "cancel", "piece": 3, "begin": 262144, "length": 16384},
    "piece": {"type": "piece", "piece": 1, "begin": 0, "len": 8},
    "keepalive": {"type": "keepalive"},
    "error": {"type": "error", "code": "info_hash_mismatch", "message": "not my swarm"},
    "pex": {"type": "pex", "added": [{"ip": "10.0.0.2", "port": 6881}, {"ip": "::1", "port": 7000}], "dropped": [{"ip": "10.0.0.3", "port": 1}]},
}
near = {
    "version_big": '{"type":"handshake","protocol":"p2p-share","version":4294967295,"info_hash":"%s","peer_id":"%s","listen_port":65535}' % (H.upper(), PEER),
    "port_too_big": '{"type":"handshake","protocol":"p2p-share","version":1,"info_hash":"%s","peer_id":"%s","listen_port":65536}' % (H, PEER),
    "have_negative": '{"type":"have","piece":-1}',
    "have_float": '{"type":"have","piece":1.5}',
    "have_len": '{"type":"have","piece":1,"len":0}',
    "haves_empty": '{"type":"haves","pieces":[]}',
    "haves_nested": '{"type":"haves","pieces":[[1],{"a":2}]}',
    "piece_nolen": '{"type":"piece","piece":1,"begin":0}',
    "piece_huge": '{"type":"piece","piece":1,"begin":0,"len":1048577}',
    "unknown": '{"type":"bogus"}',
    "array": '[{"type":"choke"}]',
    "dup_keys": '{"type":"have","piece":1,"piece":2}',
    "unicode": '{"type":"error","code":"x","message":"\\u00e9\\ud83d\\ude00 caf\u00e9"}',
    "pex_bad_ip": '{"type":"pex","added":[{"ip":"evil.com","port":1}]}',
    "truncated": '{"type":"request","piece":1,"beg',
}
msg_items = [(k + ".json", canon(v)) for k, v in headers.items()] + [(k + ".json", v) for k, v in near.items()]
write("fuzz_message_parser", msg_items)

def frame(header, payload=b""):
    body = canon(header).encode() if isinstance(header, dict) else header.encode()
    return struct.pack(">I", len(body)) + body + payload

session = b"".join([frame(headers["handshake"]), frame(headers["bitfield"], b"\xff\xc0"),
                    frame(headers["interested"]), frame(headers["unchoke"]), frame(headers["request"]),
                    frame(headers["piece"], b"ABCDEFGH"), frame(headers["have"]), frame(headers["pex"]),
                    frame(headers["cancel"]), frame(headers["keepalive"]), frame(headers["error"])])
frames = [("session", b"\x03" + session), ("session_bytewise", b"\x00" + session),
          ("one_have", b"\x07" + frame(headers["have"])),
          ("zero_len", b"\x02" + b"\x00\x00\x00\x00"),
          ("too_long", b"\x02" + b"\x00\x00\x40\x01" + b"{}"),
          ("short_payload", b"\x05" + frame(headers["piece"], b"ABC")),
          ("bad_json", b"\x01" + frame('{"type":')),
          ("bitfield_then_garbage", b"\x06" + frame(headers["bitfield"], b"\x01\x02") + b"\xde\xad\xbe\xef")]
write("fuzz_frame_decoder", frames)

# --- meta -----------------------------------------------------------------
def merkle(hex_leaves):
    """Format 2's root: binary tree of SHA-256(left || right), leaves padded with zero digests."""
    if not hex_leaves: return "0" * 64
    layer = [bytes.fromhex(h) for h in hex_leaves]
    width = 1
    while width < len(layer): width *= 2
    layer += [bytes(32)] * (width - len(layer))
    while len(layer) > 1:
        layer = [hashlib.sha256(layer[i] + layer[i + 1]).digest() for i in range(0, len(layer), 2)]
    return layer[0].hex()

def meta(name, size, piece_size, trackers=(), created=1700000000, npieces=None, extra=None, version=1,
         file_hash=True, root=None):
    n = -(-size // piece_size) if npieces is None else npieces
    pieces = [sha(str(i)) for i in range(n)]
    info = {"version": version, "name": name, "size": size, "piece_size": piece_size, "pieces": pieces}
    if version >= 2: info["root"] = merkle(pieces) if root is None else root
    if file_hash: info["file_sha256"] = sha(name)
    m = dict(info)
    m["info_hash"] = sha(canon(info))
    m["trackers"] = list(trackers)
    m["created"] = created
    if extra: m.update(extra)
    return json.dumps(m, indent=1, ensure_ascii=False) + "\n"

meta_items = [
    ("small.p2pmeta", meta("small.bin", 1000, 16384)),
    ("empty.p2pmeta", meta("empty", 0, 16384)),
    ("three.p2pmeta", meta("three pieces.dat", 3 * 16384, 16384, ["127.0.0.1:6969", "[::1]:80"])),
    ("big_piece.p2pmeta", meta("b", 16 * 1024 * 1024 + 1, 16 * 1024 * 1024, created=-5)),
    ("unicode.p2pmeta", meta("caf\u00e9 \u65e5\u672c.txt", 20000, 16384)),
    ("bad_count.p2pmeta", meta("x", 40000, 16384, npieces=2)),
    ("bad_piece_size.p2pmeta", meta("x", 40000, 10000)),
    ("bad_name.p2pmeta", meta("../etc/passwd", 100, 16384)),
    ("bad_tracker.p2pmeta", meta("t", 100, 16384, ["nohost"])),
    ("huge_size.p2pmeta", meta("h", 2**64 - 1, 16 * 1024 * 1024, npieces=0)),
    ("not_object.p2pmeta", "[1,2,3]"),
    # Format 2: root over the pieces, whole-file hash optional.
    ("v2_small.p2pmeta", meta("small.bin", 1000, 16384, version=2, file_hash=False)),
    ("v2_empty.p2pmeta", meta("empty", 0, 16384, version=2, file_hash=False)),
    ("v2_five.p2pmeta", meta("five.dat", 5 * 16384 - 1, 16384, ["127.0.0.1:6969"], version=2, file_hash=False)),
    ("v2_sha256.p2pmeta", meta("with-hash.bin", 3 * 65536, 65536, version=2)),
    ("v2_bad_root.p2pmeta", meta("r", 40000, 16384, version=2, file_hash=False, root="ab" * 32)),
    ("v2_no_root.p2pmeta", meta("r", 40000, 16384, version=2, file_hash=False, extra={"root": None})),
    ("v3.p2pmeta", meta("r", 40000, 16384, version=3, file_hash=False)),
]
def tree(files, dirs=(), piece_size=16384, name="tree", size=None, extra=None):
    """Format 3: files in path order, each starting on a piece boundary; `dirs` lists empty folders."""
    pieces = []
    for path, fsize, *_ in files:
        pieces += [sha(path + str(i)) for i in range(-(-fsize // piece_size))]
    entries = []
    for path, fsize, *rest in files:
        e = {"path": path, "size": fsize}
        if rest and rest[0]: e["exec"] = True
        entries.append(e)
    info = {"version": 3, "name": name, "size": sum(f[1] for f in files) if size is None else size,
            "piece_size": piece_size, "files": entries, "pieces": pieces, "root": merkle(pieces)}
    if dirs: info["dirs"] = list(dirs)
    m = dict(info, info_hash=sha(canon(info)), trackers=[], created=1700000000)
    if extra: m.update(extra)
    return json.dumps(m, indent=1, ensure_ascii=False) + "\n"

meta_items += [
    ("tree_ok.p2pmeta", tree([("a/b.txt", 20000), ("a/c", 0), ("bin/run", 100, True), ("z", 16384)], ["empty/deeper"])),
    ("tree_empty.p2pmeta", tree([])),
    ("tree_dotdot.p2pmeta", tree([("../evil", 10)])),
    ("tree_absolute.p2pmeta", tree([("/etc/passwd", 10)])),
    ("tree_dup.p2pmeta", tree([("a", 10), ("a", 10)])),
    ("tree_file_dir.p2pmeta", tree([("a", 10), ("a.txt", 1), ("a/b", 10)])),
    ("tree_unsorted.p2pmeta", tree([("b", 1), ("a", 1)])),
    ("tree_dir_holds.p2pmeta", tree([("d/f", 1)], ["d"])),
    ("tree_dir_is_file.p2pmeta", tree([("d", 1)], ["d"])),
    ("tree_empty_component.p2pmeta", tree([("a//b", 1)])),
    ("tree_own_dir.p2pmeta", tree([(".p2p/x", 1)])),
    ("tree_backslash.p2pmeta", tree([("a\\b", 1)])),
    ("tree_bad_size.p2pmeta", tree([("a", 10)], size=11)),
    ("tree_deep.p2pmeta", tree([("/".join(["d"] * 70), 1)])),
    ("tree_with_sha.p2pmeta", tree([("a", 1)], extra={"file_sha256": sha("x")})),
]
write("fuzz_meta_parser", meta_items)

# --- state files (metas built in fuzz_state_loader.cpp) ------------------------
def fixed_meta(size):
    name = "fuzz-%d.bin" % size
    n = -(-size // 16384)
    pieces = [sha(str(i)) for i in range(n)]
    info = {"version": 2, "name": name, "size": size, "piece_size": 16384, "pieces": pieces, "root": merkle(pieces)}
    return sha(canon(info)), n

def state(size, verified=None, **over):
    h, n = fixed_meta(size)
    if verified is None:
        bits = "".join("1" if i % 2 == 0 else "0" for i in range(n)) + "0" * ((-n) % 8)
        verified = "".join("%02x" % int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    s = {"version": 1, "info_hash": h, "pieces": n, "piece_size": 16384, "size": size, "verified": verified}
    s.update(over)
    return json.dumps(s)

state_items = [("s%d.json" % size, state(size)) for size in (0, 1000, 3 * 16384, 8 * 16384 + 1, 17 * 16384 - 5)]
state_items += [
    ("spare_bits.json", state(8 * 16384 + 1, verified="ffff")),
    ("upper_hex.json", state(17 * 16384 - 5, verified="AAAAAA")),
    ("short.json", state(3 * 16384, verified="")),
    ("wrong_version.json", state(1000, version=2)),
    ("wrong_pieces.json", state(1000, pieces=4294967297)),
    ("not_json.json", "{\"version\":1,"),
]
write("fuzz_state_loader", state_items)

# --- tracker ----------------------------------------------------------------
PID1, PID2 = "1" * 40, "2" * 40
pub = meta("pub.bin", 1000, 16384, ["127.0.0.1:6969"])
pub_hash = json.loads(pub)["info_hash"]
ann = "/announce?info_hash=%s&peer_id=%s&port=6881&left=0&event=started" % (pub_hash, PID1)
ann2 = "/announce?info_hash=%s&peer_id=%s&port=6882&left=10&numwant=5&uploaded=1&downloaded=2&compact=1" % (pub_hash, PID2)
api_reqs = ["POST /publish\n" + pub, "GET " + ann, "GET " + ann2, "GET /scrape?info_hash=" + pub_hash,
            "GET /files?q=pub&limit=10", "GET /lookup?name=pub.bin", "GET /lookup?info_hash=" + pub_hash,
            "GET /meta/" + pub_hash, "GET /stats", "GET /metrics", "GET /",
            "GET " + ann.replace("started", "stopped"), "GET " + ann2.replace("left=10", "left=0&event=completed")]
http = "".join("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % t for t in [ann, ann2, "/stats", "/files?q=p%75b"])
http_pub = ("POST /publish HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
            "Content-Length: %d\r\n\r\n%s" % (len(pub.encode()), pub))
tracker_items = [
    ("api_session", "a" + "\x1e".join(api_reqs)),
    ("api_errors", "a" + "\x1e".join(["PUT /announce", "GET /nowhere", "GET /announce?info_hash=zz", "GET /scrape",
                                      "POST /publish\n{}", "GET /lookup?name=a&info_hash=b", "GET /meta/xyz",
                                      "GET /files?limit=99999", "GET /announce?%zz=1"])),
    ("query", "q/announce?info_hash=%41%42&peer_id=x+y&a&=b&&c=%"),
    ("query_plain", "q/scrape?info_hash=" + pub_hash + "&info_hash=" + H),
    ("http_pipelined", "h" + http),
    ("http_publish", "h" + http_pub + "GET /lookup?name=pub.bin HTTP/1.1\r\n\r\n"),
    ("http_chunked", "hPOST /publish HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n"),
    ("http_close", "hGET /stats HTTP/1.0\r\n\r\nGET /stats HTTP/1.1\r\n\r\n"),
    ("http_too_big", "hPOST /announce HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"),
    ("http_garbage", "h\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
]
write("fuzz_tracker_request", tracker_items)

# --- LAN announces ----------------------------------------------------------
NODE = "5c" * 16
def lan(kind="announce", swarms=(H,), port=6881, **over):
    o = {"protocol": "p2p-share-lan", "version": 1, "type": kind, "node": NODE, "port": port, "swarms": list(swarms)}
    o.update(over)
    return json.dumps(o, separators=(",", ":"))
lan_items = [
    ("announce", lan()),
    ("answer", lan("answer")),
    ("sixteen", lan(swarms=[sha(str(i)) for i in range(16)], port=65535)),
    ("seventeen", lan(swarms=[sha(str(i)) for i in range(17)])),
    ("duplicate_id", lan(swarms=[H, H])),
    ("upper_hex", lan(swarms=[H.upper()])),
    ("port_zero", lan(port=0)),
    ("port_big", lan(port=65536)),
    ("version2", lan(version=2)),
    ("other_protocol", lan(protocol="p2p-share")),
    ("unknown_field", lan(hint="x")),
    ("nested", lan(swarms=[[H]])),
    ("empty", "{}"),
    ("bep14", "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: %s\r\n\r\n\r\n" % H[:40]),
]
write("fuzz_lan_announce", lan_items)
