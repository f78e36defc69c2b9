#!/usr/bin/env python3
"""Where the CPU goes during one transfer: reads `perf script` output of a system-wide
`perf record -a -g` (cpu-clock) on stdin, and prints one TSV row per (process, category):

    bytes  process  category  cpu_seconds

Categories come from each sample's call chain: SHA-256 in libcrypto is "hashing"; kernel
time is named by the system call it runs under (pwrite64/sync_file_range/fdatasync are
"disk writes", recvmsg/read "socket receive", sendfile/sendmsg "sends", pread64 "file
reads"); page faults, waiting, interrupts and the rest of user space get their own rows.
On loopback the receiving side's TCP processing runs inside the sender's system call
(softirq), so it is counted in "sends".

  perf script -F comm,pid,tid,cpu,time,period,event,ip,sym,dso -i perf.data | cpu_breakdown.py --seeder PID --bytes N
"""
import argparse
import re
import sys
from collections import defaultdict

HEADER = re.compile(r"^(\S.*?)\s+(\d+)(?:/(\d+))?\s+\[\d+\]\s+[\d.]+:\s+(\d+)\s+\S+:")

SYSCALLS = [
    ("disk writes", ("pwrite64", "pwritev", "sync_file_range", "fdatasync", "fsync", "fallocate", "ftruncate")),
    ("socket receive", ("recvmsg", "recvfrom", "read", "readv", "recvmmsg")),
    ("sends", ("sendfile64", "sendmsg", "sendto", "write", "writev", "sendmmsg")),
    ("file reads", ("pread64", "preadv")),
    ("waiting & scheduling", ("futex", "epoll_wait", "epoll_pwait", "nanosleep", "clock_nanosleep", "poll", "ppoll",
                              "sched_yield")),
]


def classify_syscall(name):
    for category, names in SYSCALLS:
        if name in names:
            return category
    return "other system calls"


def classify(comm, frames):
    """frames: list of (symbol, dso), leaf first."""
    if comm.startswith("swapper"):
        return "idle"
    if comm.startswith("kworker") or comm.startswith("jbd2") or comm.startswith("ksoftirqd") \
            or comm.startswith("rcu") or comm.startswith("kswapd") or comm.startswith("migration"):
        return "kernel threads (writeback, journal, softirq)"
    if any("libcrypto" in dso for _, dso in frames):
        return "hashing (SHA-256)"
    syscall = None
    for sym, dso in frames:
        m = re.match(r"^__(?:x64|ia32)_sys_(\w+)", sym)
        if m:
            syscall = m.group(1)
    if syscall:
        return classify_syscall(syscall)
    if any(sym.startswith(("asm_exc_page_fault", "exc_page_fault")) for sym, _ in frames):
        return "page faults"
    if frames and "kernel" in frames[0][1]:
        return "interrupts & other kernel"
    return "protocol & other user code"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeder", type=int, required=True, help="pid of the seeder process")
    ap.add_argument("--bytes", type=int, required=True, help="bytes transferred (for the first column)")
    args = ap.parse_args()
    totals = defaultdict(float)
    comm = None
    pid = 0
    period = 0
    frames = []

    def flush():
        if comm is None:
            return
        if comm.startswith("swapper"):
            who = "idle"
        elif comm == "p2p-download":
            who = "downloader"
        elif pid == args.seeder or comm == "p2p-seed":
            who = "seeder"
        elif comm.startswith(("kworker", "jbd2", "ksoftirqd", "rcu", "kswapd", "migration", "swapper")):
            who = "kernel"
        else:
            who = "other processes"
        category = classify(comm, frames) if who != "other processes" else comm.split("/")[0].split()[0]
        totals[(who, category)] += period / 1e9

    for line in sys.stdin:
        if not line.strip():
            continue
        if not line[0].isspace():
            flush()
            m = HEADER.match(line)
            if not m:
                comm = None
                continue
            comm, pid, period = m.group(1).strip(), int(m.group(2)), int(m.group(4))
            frames = []
        else:
            parts = line.strip().split(None, 1)
            if len(parts) < 2:
                continue
            rest = parts[1]
            dso = rest[rest.rfind("(") + 1:-1] if rest.endswith(")") else ""
            sym = rest[:rest.rfind("(")].strip() if "(" in rest else rest
            sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
            frames.append((sym, dso))
    flush()
    for (who, category), secs in sorted(totals.items(), key=lambda kv: (kv[0][0], -kv[1])):
        print(f"{args.bytes}\t{who}\t{category}\t{secs:.3f}")


if __name__ == "__main__":
    main()
