#!/usr/bin/env python3
"""A TCP relay that keeps what it forwards: what an observer on the path would see.

recording_relay.py TARGET_HOST TARGET_PORT RECORD_FILE
Listens on 127.0.0.1 (a free port, printed as "listening 127.0.0.1:PORT"), forwards every
connection to TARGET in both directions, and appends every byte it forwards, in either
direction, to RECORD_FILE. Used by tests/e2e/private_relay.sh: a private swarm's bytes
must not show JSON, the info hash or file content; a public swarm's do.
"""
import selectors
import socket
import sys


def main():
    host, port, record = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    out = open(record, "ab", buffering=0)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    print(f"listening 127.0.0.1:{lsock.getsockname()[1]}", flush=True)
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    peer_of = {}

    def drop(s):
        other = peer_of.pop(s, None)
        for x in (s, other):
            if x is None:
                continue
            peer_of.pop(x, None)
            try:
                sel.unregister(x)
            except (KeyError, ValueError):
                pass
            x.close()

    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is lsock:
                client, _ = lsock.accept()
                try:
                    upstream = socket.create_connection((host, port))
                except OSError:
                    client.close()
                    continue
                peer_of[client], peer_of[upstream] = upstream, client
                sel.register(client, selectors.EVENT_READ, None)
                sel.register(upstream, selectors.EVENT_READ, None)
                continue
            try:
                data = s.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                drop(s)
                continue
            out.write(data)
            try:
                peer_of[s].sendall(data)
            except (OSError, KeyError):
                drop(s)


if __name__ == "__main__":
    main()
