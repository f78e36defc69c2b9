#!/usr/bin/env python3
"""Holds a server's connection slots with sockets that say nothing, then checks that a
person can still load pages. Used by e2e/idle_peers_http.sh.

idle_sockets.py --port P [--host H] --idle N [--slow M] [--churn SECONDS] --load PATH ...

Opens N sockets that never send a byte and M that send half a request's headers and
stop (slowloris), then loads each --load path (plain GET, as a browser would) one after
another; with --churn, a thread keeps reopening the held sockets the server closes for
that many seconds while the loads run (an attacker that keeps the cap full). Prints one
JSON line: loads answered 200, the slowest load in seconds, sockets opened, and how many
of them the server still held open at the end."""
import argparse, json, socket, threading, time, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--idle", type=int, default=0)
ap.add_argument("--slow", type=int, default=0)
ap.add_argument("--churn", type=float, default=0)
ap.add_argument("--load", action="append", default=[])
ap.add_argument("--timeout", type=float, default=5)
a = ap.parse_args()


def open_one(slow):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((a.host, a.port))
        if slow:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        s.setblocking(False)
        return s
    except OSError:
        s.close()
        return None


def still_open(s):
    try:
        s.recv(4096)
    except BlockingIOError:
        return True  # nothing to read: the server still holds it
    except OSError:
        return False
    return False  # end of stream, or a 503 / 408 the server wrote as it closed


held = [open_one(i >= a.idle) for i in range(a.idle + a.slow)]
opened = sum(1 for s in held if s)
lock = threading.Lock()
stop = threading.Event()


def churn():
    global opened
    end = time.monotonic() + a.churn
    while not stop.is_set() and time.monotonic() < end:
        for i in range(len(held)):
            if stop.is_set():
                break
            with lock:
                s = held[i]
                if s is not None and still_open(s):
                    continue
                if s is not None:
                    s.close()
                held[i] = open_one(i >= a.idle)
                if held[i]:
                    opened += 1
        time.sleep(0.01)


t = None
if a.churn > 0:
    t = threading.Thread(target=churn, daemon=True)
    t.start()
time.sleep(0.5)
answered, slowest, statuses = 0, 0.0, []
for path in a.load:
    t0 = time.monotonic()
    status = 0
    try:
        with urllib.request.urlopen(f"http://{a.host}:{a.port}{path}", timeout=a.timeout) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    except OSError:
        status = -1
    dt = time.monotonic() - t0
    statuses.append(status)
    slowest = max(slowest, dt)
    answered += status == 200
    time.sleep(0.2)
stop.set()
if t:
    t.join()
with lock:
    open_now = sum(1 for s in held if s is not None and still_open(s))
print(json.dumps({"loads": len(a.load), "answered": answered, "statuses": statuses, "slowest": round(slowest, 3),
                  "opened": opened, "still_open": open_now}), flush=True)
for s in held:
    if s:
        s.close()
