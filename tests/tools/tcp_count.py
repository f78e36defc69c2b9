#!/usr/bin/env python3
"""A TCP listener that counts connections: accepts, writes the running count to --out,
closes at once (it speaks no protocol). The third party of a forged-announce test."""
import argparse, socket

ap = argparse.ArgumentParser()
ap.add_argument("--addr", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--out", required=True)
a = ap.parse_args()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((a.addr, a.port))
s.listen(64)
with open(a.out, "w") as f:
    f.write("0\n")
print("ready", flush=True)
n = 0
while True:
    c, peer = s.accept()
    n += 1
    c.close()
    with open(a.out, "w") as f:
        f.write(f"{n}\n")
