#!/usr/bin/env python3
"""Holds a server's connection slots with sockets that say nothing, then checks that a
person can still load pages. Used by e2e/idle_peers_http.sh.

idle_sockets.py --port P [--host H] --idle N [--slow M] [--slow-body B] [--churn SECONDS] --load PATH ...

Opens N sockets that never send a byte, M that send half a request's headers and
stop (slowloris), and B that send a POST's headers and one byte of its body (slow POST), then loads each --load path (plain GET, as a browser would) one after
another; with --churn, it keeps reopening the held sockets the server closes for
that many seconds while the loads run (an attacker that keeps the cap full). The
attacker runs in a process of its own, so it never delays the loads (Python's GIL). Prints one
JSON line: loads answered 200, the slowest load in seconds, sockets opened, how many
of them the server still held open at the end, and how many loads were sent again
because the server closed their connection before answering (as a browser does, once,
for a GET)."""
import argparse, http.client, json, multiprocessing, socket, time, urllib.error, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--idle", type=int, default=0)
ap.add_argument("--slow", type=int, default=0)
ap.add_argument("--slow-body", type=int, default=0)
ap.add_argument("--body-path", default="/api/files")
ap.add_argument("--churn", type=float, default=0)
ap.add_argument("--load", action="append", default=[])
ap.add_argument("--timeout", type=float, default=5)
a = ap.parse_args()


def kind(i):
    return 0 if i < a.idle else 1 if i < a.idle + a.slow else 2


def open_one(k):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((a.host, a.port))
        if k == 1:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        elif k == 2:
            s.sendall(f"POST {a.body_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      f"Content-Length: 1000\r\n\r\n{{".encode())
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


def attack(ready, stop, results):
    """The attacker, in a process of its own (as it would be): opens and holds the sockets;
    with --churn, reopens those the server closes until told to stop."""
    held = [open_one(kind(i)) for i in range(a.idle + a.slow + a.slow_body)]
    opened = sum(1 for s in held if s)
    ready.set()
    end = time.monotonic() + a.churn
    while a.churn > 0 and not stop.is_set() and time.monotonic() < end:
        for i in range(len(held)):
            if stop.is_set():
                break
            s = held[i]
            if s is not None and still_open(s):
                continue
            if s is not None:
                s.close()
            held[i] = open_one(kind(i))
            opened += held[i] is not None
        time.sleep(0.01)
    stop.wait()
    results.put((opened, sum(1 for s in held if s is not None and still_open(s))))
    for s in held:
        if s:
            s.close()


ready, stop, results = multiprocessing.Event(), multiprocessing.Event(), multiprocessing.Queue()
attacker = multiprocessing.Process(target=attack, args=(ready, stop, results), daemon=True)
attacker.start()
ready.wait(120)
time.sleep(0.5)
answered, slowest, statuses, errors, retries = 0, 0.0, [], [], 0
for path in a.load:
    t0 = time.monotonic()
    status = 0
    for attempt in range(2):
        try:
            with urllib.request.urlopen(f"http://{a.host}:{a.port}{path}", timeout=a.timeout) as r:
                r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        except OSError as e:
            status = -1
            errors.append(f"{path}: {e!r}")
            # Closed before any answer: a browser sends an idempotent request again, once.
            if attempt == 0 and isinstance(e, (ConnectionResetError, http.client.RemoteDisconnected)):
                retries += 1
                continue
        break
    dt = time.monotonic() - t0
    statuses.append(status)
    slowest = max(slowest, dt)
    answered += status == 200
    time.sleep(0.2)
stop.set()
opened, open_now = results.get(timeout=60)
attacker.join(10)
print(json.dumps({"loads": len(a.load), "answered": answered, "statuses": statuses, "slowest": round(slowest, 3),
                  "opened": opened, "still_open": open_now, "retries": retries, "errors": errors}), flush=True)
