#!/usr/bin/python3
# One libtorrent (python3-libtorrent, Debian) peer for bench/netns_swarm_bench.sh: a seeder or a
# leecher of one .torrent, run inside a harness namespace. libtorrent's default settings except
# what the harness needs: TCP only (the harness shapes TCP and the other tools speak only TCP),
# no DHT / local discovery / UPnP / NAT-PMP (nothing to find outside the harness), peers from the
# tracker named in the .torrent. No rate limits: the kernel caps the upload.
#
#   lt_swarm_node.py TORRENT SAVE_DIR DONE_FILE     # leecher: writes the completion time to DONE_FILE
#   lt_swarm_node.py TORRENT SAVE_DIR --seed        # seeder: SAVE_DIR holds the complete file
# Prints "ready" once it is seeding or downloading; on SIGTERM prints "uploaded BYTES" (payload
# uploaded this run) and exits 0.
import signal
import sys
import time

import libtorrent as lt

torrent, save_dir, done_file = sys.argv[1], sys.argv[2], sys.argv[3]
seeding = done_file == "--seed"

settings = {
    "enable_outgoing_utp": False, "enable_incoming_utp": False,
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "listen_interfaces": "0.0.0.0:6881",
    "alert_mask": 0,
}
ses = lt.session(settings)
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(torrent)
atp.save_path = save_dir
h = ses.add_torrent(atp)

stop = False


def on_term(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
ready = finished = False
while not stop:
    st = h.status()
    if not ready and st.state in (lt.torrent_status.downloading, lt.torrent_status.seeding):
        print("ready", flush=True)
        ready = True
    if not seeding and not finished and st.is_seeding:
        with open(done_file, "w") as f:
            f.write(f"{time.time():.3f}\n")
        finished = True
    time.sleep(0.05)
print(f"uploaded {h.status().total_payload_upload}", flush=True)
