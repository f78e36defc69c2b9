#!/usr/bin/env python3
"""What a LAN observer sees: joins the LAN-announce group (docs/PROTOCOL.md, "LAN
announces") on one interface address and writes every datagram received, one JSON line
each ({"src", "sport", "len", "data"}), to --out, until --seconds pass or it is killed.
Prints "ready" once joined, so a test starts the nodes only after that."""
import argparse, json, select, socket, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--iface-addr", required=True, help="IPv4 address of the interface to join on")
ap.add_argument("--out", required=True)
ap.add_argument("--seconds", type=float, default=120)
ap.add_argument("--group", default="239.192.112.50")
ap.add_argument("--port", type=int, default=6776)
a = ap.parse_args()

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((a.group, a.port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(a.group) + socket.inet_aton(a.iface_addr))
print("ready", flush=True)
end = time.monotonic() + a.seconds
with open(a.out, "a") as out:
    while (left := end - time.monotonic()) > 0:
        r, _, _ = select.select([s], [], [], min(left, 0.5))
        if not r:
            continue
        data, (src, sport) = s.recvfrom(65536)
        out.write(json.dumps({"src": src, "sport": sport, "len": len(data),
                              "data": data.decode("utf-8", "replace")}) + "\n")
        out.flush()
