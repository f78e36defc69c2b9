#!/usr/bin/env python3
"""A peer that speaks only plaintext frames (docs/PROTOCOL.md), to test private swarms.

plain_peer.py dial PORT INFO_HASH   : dials 127.0.0.1:PORT, sends a plaintext handshake for
    INFO_HASH, prints each frame header it gets back (one JSON per line) and the number of
    bytes in total ("bytes N") once the other side hangs up.
plain_peer.py listen INFO_HASH      : prints "listening 127.0.0.1:PORT", accepts one
    connection, answers it with a plaintext handshake for INFO_HASH whatever it was sent (a
    downgrade attempt), then prints "first_byte 0xNN" and "saw_json yes|no" about what the
    dialler sent.
"""
import json
import socket
import struct
import sys


def frame(obj):
    body = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
    return struct.pack(">I", len(body)) + body


def handshake(info_hash):
    return frame({"type": "handshake", "protocol": "p2p-share", "version": 1, "info_hash": info_hash,
                  "peer_id": "e" * 40, "listen_port": 0})


def dial(port, info_hash):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(handshake(info_hash))
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    total, pos = len(data), 0
    while pos + 4 <= total:
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        if pos + 4 + n > total:
            break
        header = data[pos + 4:pos + 4 + n]
        print(header.decode(errors="replace"))
        try:
            skip = json.loads(header).get("len", 0)
        except ValueError:
            skip = 0
        pos += 4 + n + skip
    print(f"bytes {total}", flush=True)


def listen(info_hash):
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
    l.listen(1)
    print(f"listening 127.0.0.1:{l.getsockname()[1]}", flush=True)
    c, _ = l.accept()
    c.settimeout(10)
    c.sendall(handshake(info_hash))
    got = b""
    try:
        while len(got) < 65536:
            chunk = c.recv(65536)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    print(f"first_byte 0x{got[0]:02x}" if got else "first_byte none")
    print("saw_json " + ("yes" if b'{"' in got else "no"), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "dial":
        dial(int(sys.argv[2]), sys.argv[3])
    else:
        listen(sys.argv[2])
