#!/usr/bin/env python3
"""Forged LAN announces: sends --count announces naming --swarm with a SOURCE address
that is not ours (--src, a third party's), claiming TCP --claim-port, through a raw
socket (IP_HDRINCL) on --dev. What a hostile host on the LAN can do: the test checks that
the node receiving them dials the third party a small bounded number of times. Needs root
(CAP_NET_RAW) in its namespace. Each datagram has a new random node id."""
import argparse, json, os, socket, struct, time

ap = argparse.ArgumentParser()
ap.add_argument("--src", required=True)
ap.add_argument("--dev", default="eth0")
ap.add_argument("--swarm", required=True, help="64 hex digits")
ap.add_argument("--claim-port", type=int, required=True)
ap.add_argument("--claim-ports", type=int, default=1, help="cycle through this many ports from --claim-port")
ap.add_argument("--count", type=int, default=500)
ap.add_argument("--per-second", type=float, default=100)
ap.add_argument("--group", default="239.192.112.50")
ap.add_argument("--port", type=int, default=6776)
a = ap.parse_args()

s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # IPPROTO_RAW implies IP_HDRINCL
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.dev.encode())
src, dst = socket.inet_aton(a.src), socket.inet_aton(a.group)
sent = 0
for i in range(a.count):
    body = json.dumps({"protocol": "p2p-share-lan", "version": 1, "type": "announce", "node": os.urandom(16).hex(),
                       "port": a.claim_port + i % a.claim_ports, "swarms": [a.swarm]}, separators=(",", ":")).encode()
    udp = struct.pack("!HHHH", a.port, a.port, 8 + len(body), 0) + body  # UDP checksum 0: none (IPv4)
    # version/IHL, TOS, total length, id, fragment, TTL 1, UDP, checksum (the kernel fills it), src, dst
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 1, socket.IPPROTO_UDP, 0, src, dst)
    s.sendto(ip + udp, (a.group, 0))
    sent += 1
    time.sleep(1 / a.per_second)
print(f"sent {sent}", flush=True)
