#!/usr/bin/env python3
"""UDP tracker (BEP 15) load: SOCKETS sockets each connect, then keep WINDOW
announces in flight over SWARMS x PEERS random 20-byte hashes and peer ids (the
same sequence for every tracker, seeded). Prints answered announces/s and the p99
latency in ms. usage: bt_udp_load.py PORT SECONDS [SOCKETS] [WINDOW] [SWARMS] [PEERS] [--hashes FILE]"""
import random, select, socket, struct, sys, time

port, secs = int(sys.argv[1]), float(sys.argv[2])
nsock = int(sys.argv[3]) if len(sys.argv) > 3 else 32
window = int(sys.argv[4]) if len(sys.argv) > 4 else 4
swarms = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
peers = int(sys.argv[6]) if len(sys.argv) > 6 else 20
rng = random.Random(1)
hashes = [rng.randbytes(20) for _ in range(swarms)]
if "--hashes" in sys.argv:  # the whitelist's hashes (hex, one a line)
    hashes = [bytes.fromhex(l.strip()) for l in open(sys.argv[sys.argv.index("--hashes") + 1]) if l.strip()]
    swarms = len(hashes)
ids = [b"-BN0001-" + rng.randbytes(12) for _ in range(peers)]
addr = ("127.0.0.1", port)
socks, cids, sent = [], {}, {}
for i in range(nsock):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setblocking(False); socks.append(s)
    # Each socket from its own loopback address (127.0.0.0/8 is all local): many clients,
    # as a tracker sees them, not one address (whose per-address limit would be measured).
    s.bind((f"127.0.{i // 250}.{i % 250 + 1}", 0))
    s.sendto(struct.pack(">QII", 0x41727101980, 0, i), addr)
deadline = time.time() + 5
while len(cids) < nsock and time.time() < deadline:
    for s in select.select(socks, [], [], 0.1)[0]:
        a, t, c = struct.unpack(">IIQ", s.recv(64)); cids[s] = c
if len(cids) < nsock: sys.exit(f"bt_udp_load: only {len(cids)} of {nsock} sockets connected")
tid = 1
def fire(s):
    global tid
    h, p = rng.randrange(swarms), rng.randrange(peers)
    pkt = struct.pack(">QII20s20sQQQIIIiH", cids[s], 1, tid, hashes[h], ids[p], 0, (p % 2) * 1000, 0, 0, 0, 0, 50, 6881 + p)
    s.sendto(pkt, addr); sent[tid] = time.perf_counter(); tid += 1
for s in socks:
    for _ in range(window): fire(s)
lat, done, start = [], 0, time.perf_counter()
end = start + secs
while time.perf_counter() < end:
    for s in select.select(socks, [], [], 0.05)[0]:
        while True:
            try: r = s.recv(4096)
            except BlockingIOError: break
            t = struct.unpack(">I", r[4:8])[0]
            if t in sent: lat.append(time.perf_counter() - sent.pop(t)); done += 1
            fire(s)
    # Lost datagrams: refill the window for anything older than 1 s.
    now = time.perf_counter()
    for t in [t for t, ts in sent.items() if now - ts > 1.0]:
        del sent[t]; fire(socks[t % nsock])
elapsed = time.perf_counter() - start
lat.sort()
p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else float("nan")
print(f"{done / elapsed:.0f} {p99:.2f}")
