#!/usr/bin/env python3
"""A TCP listener that counts connections: on --ports consecutive ports from --port it
accepts, writes the running counts to --out ("total distinct_ports"), and closes at once
(it speaks no protocol). The third party of a forged-announce test."""
import argparse, os, selectors, socket

ap = argparse.ArgumentParser()
ap.add_argument("--addr", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--ports", type=int, default=1)
ap.add_argument("--out", required=True)
a = ap.parse_args()
sel = selectors.DefaultSelector()
for p in range(a.port, a.port + a.ports):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.addr, p))
    s.listen(64)
    sel.register(s, selectors.EVENT_READ, p)

def write(total, ports):
    with open(a.out + ".tmp", "w") as f:  # replaced whole: a reader never sees half a line
        f.write(f"{total} {len(ports)}\n")
    os.replace(a.out + ".tmp", a.out)

total, ports = 0, set()
write(total, ports)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        c, _peer = key.fileobj.accept()
        c.close()
        total += 1
        ports.add(key.data)
        write(total, ports)
