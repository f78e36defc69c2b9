#!/usr/bin/python3
"""libtorrent (Debian's python3-libtorrent, run with /usr/bin/python3) as the peer tool
of bench/core_bench.sh: one seeder, one downloader, TCP only, no DHT/LSD/UPnP/NAT-PMP.

  lt_transfer.py seed TORRENT DATA_DIR        checks DATA_DIR/<name> against TORRENT, prints
                                              "listening 127.0.0.1:PORT", seeds until killed
  lt_transfer.py get TORRENT OUT_DIR HOST:PORT connects to that peer only; exits 0 once every
                                              piece is downloaded, hash-checked and written
uTP is off: on loopback it ran ~20x slower than TCP here, which says nothing about disks or CPUs.
"""
import signal
import sys
import time

import libtorrent as lt


def session():
    return lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    })


def add(ses, torrent, save_path):
    # No tracker: the downloader is given the seeder's address. The torrent's own announce
    # URL (opentracker, for aria2c) is removed before the torrent starts: the tracker would
    # hand the seeder its own address, and libtorrent, having connected to itself, then
    # refused every connection from 127.0.0.1 (the downloader never got a byte).
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
    params.save_path = save_path
    params.flags |= lt.torrent_flags.paused
    params.flags &= ~lt.torrent_flags.auto_managed
    h = ses.add_torrent(params)
    h.replace_trackers([])
    h.resume()
    return h


def fail(msg):
    print(f"lt_transfer: {msg}", file=sys.stderr)
    sys.exit(1)


def seed(torrent, data_dir):
    ses = session()
    h = add(ses, torrent, data_dir)
    deadline = time.time() + 600
    while not h.status().is_seeding:
        st = h.status()
        if st.errc.value() != 0:
            fail(f"seeder: {st.errc.message()}")
        if time.time() > deadline:
            fail("seeder: the check of the source took more than 600 s")
        if st.state == lt.torrent_status.downloading:  # checked, and something is missing
            fail(f"seeder: {data_dir} does not match {torrent} ({st.num_pieces} pieces good)")
        time.sleep(0.05)
    print(f"listening 127.0.0.1:{ses.listen_port()}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})


def get(torrent, out_dir, peer):
    host, port = peer.rsplit(":", 1)
    ses = session()
    h = add(ses, torrent, out_dir)
    h.connect_peer((host, int(port)))
    deadline = time.time() + 3600
    last_connect = time.time()
    last_done, last_change = -1, time.time()
    while True:
        st = h.status()
        if st.is_seeding or st.is_finished:
            break
        if st.errc.value() != 0:
            fail(f"downloader: {st.errc.message()}")
        if time.time() > deadline:
            fail("downloader: not finished after 3600 s")
        if st.total_done != last_done:
            last_done, last_change = st.total_done, time.time()
        elif time.time() - last_change > 60:
            fail(f"downloader: no progress for 60 s (state {st.state}, {st.num_peers} peers)")
        if st.num_peers == 0 and time.time() - last_connect > 1:
            h.connect_peer((host, int(port)))
            last_connect = time.time()
        ses.wait_for_alert(100)
        ses.pop_alerts()
    # Finished means every piece passed its hash check; removing the torrent flushes
    # libtorrent's writes to the file (as closing it would), without deleting anything.
    ses.remove_torrent(h)
    time.sleep(0)  # let the removal be queued before the session is destroyed
    del ses


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "seed":
        seed(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "get":
        get(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        fail(__doc__)
