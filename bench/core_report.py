#!/usr/bin/env python3
"""Turns bench/core_bench.sh's rows into bench/results/core_bench-latest.md (tables with the
targets of issue 9, the CPU breakdown, load, exact commands) and a gnuplot PNG of seconds per
GiB against size. Medians of the runs of each (tool, size, mode).

Rows (TSV): tool size_bytes mode wall user sys rss_kb seeder_cpu load1 idle_pct ("-" = none)
CPU rows (TSV, from cpu_breakdown.py): size_bytes process category cpu_seconds
"""
import argparse
import datetime
import os
import statistics
import subprocess
import tempfile
from collections import defaultdict

GIB = 1 << 30
MIB = 1 << 20


def num(x):
    return None if x in ("-", "") else float(x)


def load_runs(path):
    runs = defaultdict(list)
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) < 10:
            continue
        tool, size, mode = f[0], int(f[1]), f[2]
        runs[(tool, size, mode)].append({
            "wall": num(f[3]), "user": num(f[4]), "sys": num(f[5]), "rss": num(f[6]),
            "seed_cpu": num(f[7]), "load": num(f[8]), "idle": num(f[9])})
    return runs


def med(rows, key):
    vals = [r[key] for r in rows if r[key] is not None]
    return statistics.median(vals) if vals else None


def mx(rows, key):
    vals = [r[key] for r in rows if r[key] is not None]
    return max(vals) if vals else None


def size_label(b):
    return f"{b / GIB:g} GiB" if b >= GIB else f"{b / MIB:g} MiB"


def fmt_s(v):
    if v is None:
        return "–"
    return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"


def fmt_ratio(v):
    return "–" if v is None else (f"{v:.3f}×" if v < 0.1 else f"{v:.2f}×")


def load_range(rows):
    loads = [r["load"] for r in rows if r["load"] is not None]
    idles = [r["idle"] for r in rows if r["idle"] is not None]
    s = f"{min(loads):.2f}–{max(loads):.2f}" if loads else "–"
    if idles:
        s += f" (idle {min(idles):.0f}–{max(idles):.0f}%)"
    return s


def met(ok):
    return "–" if ok is None else ("yes" if ok else "**no**")


def main():
    ap = argparse.ArgumentParser()
    for a in ("runs", "cpu", "commands", "md", "plot", "host", "versions", "load", "settings"):
        ap.add_argument("--" + a, required=True)
    a = ap.parse_args()
    runs = load_runs(a.runs)
    sizes = sorted({s for (t, s, m) in runs if t == "p2p" and s >= 100 * MIB})
    xtics = ", ".join(f'"{size_label(s)}" {s / GIB:.4f}' for s in sizes)

    def get(tool, size, mode="repeated"):
        return runs.get((tool, size, mode), [])

    def per_gib(tool, size, mode="repeated", key="wall"):
        v = med(get(tool, size, mode), key)
        return None if v is None else v / (size / GIB)

    out = []
    w = out.append
    w("# Core transfer benchmark — latest run\n")
    w(f"Produced by `bash bench/core_bench.sh` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC.\n")
    w(f"- Host: {a.host}")
    w(f"- Load average (1, 5, 15 min): {a.load}. Each row below gives the 1-minute load and the CPU idle share "
      "(over 0.5 s) just before its runs; our own runs raise the load average, the idle share shows whether "
      "anything else was running.")
    w(f"- Versions: {a.versions}")
    w(f"- Settings: {a.settings}")
    w("- Method: one seeder and one downloader over loopback; times are process start to exit of the downloader "
      "(file complete, every piece verified, fdatasync'd and renamed for p2p-share), medians of the runs; user/sys "
      "and peak RSS from `/usr/bin/time`; seeder CPU from /proc/PID/stat around each run; seeder peak RSS is VmHWM "
      "of the seeder process (its start-up check included). *First runs*: a fresh random file is written, "
      "`p2p-create`d and seeded, and the download starts at once (the source is still dirty in the page cache, "
      "as a user's new file is); *repeated*: the same seeder after `sync` and one warm-up. Every output was "
      "compared with `cmp` against its source. Default flags everywhere (p2p-download: one connection per peer, automatic "
      "piece size; mktorrent's default 256 KiB pieces for aria2c and libtorrent).")
    w("")

    # --- transfers per size ---------------------------------------------------------------------------
    w("## Transfers by size (seconds; per GiB in brackets)\n")
    w("| size | p2p-share first | p2p-share repeated | first ÷ repeated | per GiB ÷ 1 GiB's | downloader user / sys per GiB | "
      "seeder CPU per GiB | peak RSS downloader / seeder | aria2c | libtorrent | cp | cp + sync | load (idle) |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ref = per_gib("p2p", GIB)
    plot_rows = []
    size_checks = []
    for s in sizes:
        g = s / GIB
        first, rep = med(get("p2p", s, "first"), "wall"), med(get("p2p", s), "wall")
        fr = first / rep if first and rep else None
        pg = per_gib("p2p", s)
        vs1 = pg / ref if pg and ref else None
        user, sys_ = per_gib("p2p", s, key="user"), per_gib("p2p", s, key="sys")
        seed = med(get("p2p", s) + get("p2p", s, "first"), "seed_cpu")
        rss_d = mx(get("p2p", s) + get("p2p", s, "first"), "rss")
        rss_s = mx(get("p2p-seeder", s, "peak"), "rss")
        cells = []
        for tool in ("aria2c", "libtorrent", "cp", "cpsync"):
            v = med(get(tool, s), "wall")
            cells.append(f"{fmt_s(v)} ({fmt_s(v / g)})" if v else "–")
        allrows = get("p2p", s) + get("p2p", s, "first")
        w(f"| {size_label(s)} | {fmt_s(first)} ({fmt_s(first / g if first else None)}) | {fmt_s(rep)} ({fmt_s(pg)}) | "
          f"{fmt_ratio(fr)} | {fmt_ratio(vs1)} | {fmt_s(user)} / {fmt_s(sys_)} | {fmt_s(seed / g if seed else None)} | "
          f"{(rss_d or 0) / 1024:.1f} / {(rss_s or 0) / 1024:.1f} MiB | " + " | ".join(cells) + f" | {load_range(allrows)} |")
        plot_rows.append((g, pg, first / g if first else None, per_gib("aria2c", s), per_gib("libtorrent", s),
                          per_gib("cp", s), per_gib("cpsync", s)))
        size_checks.append((s, fr, vs1, sys_, rss_d, rss_s))
    w("")

    # --- targets ------------------------------------------------------------------------------------------
    w("## Targets (issue 9)\n")
    w("| target | measured | met |")
    w("|---|---|---|")
    p1 = med(get("p2p", GIB), "wall")
    for tool, label, limit in (("aria2c", "aria2c", 0.15), ("libtorrent", "libtorrent", 0.15), ("cp", "`cp`", 3.0)):
        v = med(get(tool, GIB), "wall")
        r = p1 / v if p1 and v else None
        w(f"| 1 GiB download ≤ {limit:g}× {label} | {fmt_s(p1)} vs {fmt_s(v)}: {fmt_ratio(r)} | {met(None if r is None else r <= limit)} |")
    sys1 = per_gib("p2p", GIB, key="sys")
    for s, fr, vs1, sys_, rss_d, rss_s in size_checks:
        L = size_label(s)
        w(f"| {L}: time per GiB ≤ 1.25× the 1 GiB figure (repeated) | {fmt_ratio(vs1)} | {met(None if vs1 is None else vs1 <= 1.25)} |")
        w(f"| {L}: first runs ≤ 1.25× repeated | {fmt_ratio(fr)} | {met(None if fr is None else fr <= 1.25)} |")
        sr = sys_ / sys1 if sys_ and sys1 else None
        w(f"| {L}: sys time per GiB flat (÷ 1 GiB's) | {fmt_s(sys_)} per GiB, {fmt_ratio(sr)} | {met(None if sr is None else sr <= 1.25)} |")
        ok = rss_d is not None and rss_s is not None and max(rss_d, rss_s) <= 25 * 1024
        w(f"| {L}: peak RSS seeder and downloader ≤ 25 MiB | {(rss_d or 0) / 1024:.1f} / {(rss_s or 0) / 1024:.1f} MiB | {met(ok)} |")
    for s in (GIB, 8 * GIB):
        c, m = med(get("p2p-create", s), "wall"), med(get("mktorrent", s), "wall")
        r = c / m if c and m else None
        w(f"| p2p-create ≤ 1.0× `mktorrent -t 2`, {size_label(s)} | {fmt_s(c)} vs {fmt_s(m)}: {fmt_ratio(r)} | {met(None if r is None else r <= 1.0)} |")
    multi = med(get("multi4", GIB), "wall")
    if multi and p1:
        agg, single = 4 / multi, 1 / p1
        w(f"| 1 seeder, 4 downloaders at once: aggregate ≥ 1.5× one downloader | {agg:.2f} GiB/s ({fmt_s(multi)} for all 4) "
          f"vs {single:.2f} GiB/s: {agg / single:.2f}× | {met(agg / single >= 1.5)} |")
    small = med(get("p2p", MIB), "wall")
    if small:
        w(f"| 1 MiB, process start → verified file < 50 ms | {fmt_s(small)} | {met(small < 0.05)} |")
    w("")

    # --- p2p-create ---------------------------------------------------------------------------------------
    w("## p2p-create\n")
    w("| size | p2p-create (warm) | user / sys | mktorrent -t 2 | user / sys | p2p-create right after the file was written |")
    w("|---|---|---|---|---|---|")
    for s in sorted({s for (t, s, m) in runs if t == "p2p-create"}):
        c, m = get("p2p-create", s), get("mktorrent", s)
        w(f"| {size_label(s)} | {fmt_s(med(c, 'wall'))} | {fmt_s(med(c, 'user'))} / {fmt_s(med(c, 'sys'))} | "
          f"{fmt_s(med(m, 'wall'))} | {fmt_s(med(m, 'user'))} / {fmt_s(med(m, 'sys'))} | {fmt_s(med(get('p2p-create', s, 'first'), 'wall'))} |")
    w("")

    # --- CPU breakdown ------------------------------------------------------------------------------------
    cpu = defaultdict(lambda: defaultdict(float))
    if os.path.exists(a.cpu):
        for line in open(a.cpu):
            f = line.rstrip("\n").split("\t")
            if len(f) == 4:
                cpu[int(f[0])][(f[1], f[2])] += float(f[3])
    if cpu:
        w("## Where the CPU goes (one repeated download per size under `perf record -a -g -F 999`; CPU seconds per GiB)\n")
        keys = sorted({k for d in cpu.values() for k in d if k[0] in ("downloader", "seeder", "kernel")},
                      key=lambda k: (("downloader", "seeder", "kernel").index(k[0]),
                                     -max(cpu[s].get(k, 0) / s for s in list(cpu))))
        w("| process | category | " + " | ".join(size_label(s) for s in sorted(cpu)) + " |")
        w("|---|---|" + "---|" * len(cpu))
        for k in keys:
            w(f"| {k[0]} | {k[1]} | " + " | ".join(f"{cpu[s].get(k, 0) / (s / GIB):.3f}" for s in sorted(cpu)) + " |")
        others = {s: sum(v for k, v in cpu[s].items() if k[0] == "other processes") / (s / GIB) for s in cpu}
        w("| other processes | (not ours: shows whether the machine was shared) | " +
          " | ".join(f"{others[s]:.3f}" for s in sorted(cpu)) + " |")
        w("")
        w("Hashing is SHA-256 in libcrypto (SHA-NI). Kernel time is named by the system call it ran under: "
          "*disk writes* = pwrite64 + sync_file_range + fdatasync, *socket receive* = recvfrom/recvmsg/read, *sends* "
          "= sendfile/sendmsg (on loopback this includes the receiver's TCP processing, done in the sender's softirq).\n")

    # --- plot --------------------------------------------------------------------------------------------
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as dat:
        for row in plot_rows:
            dat.write(" ".join("NaN" if v is None else f"{v:.4f}" for v in row) + "\n")
    gp = f"""set terminal pngcairo size 1000,650 font "sans,11"
set output "{a.plot}"
set title "Loopback transfer, one seeder and one downloader: seconds per GiB (median)"
set xlabel "file size (GiB)"
set ylabel "seconds per GiB"
set logscale x
set xtics ({xtics})
set yrange [0:*]
set key outside right top
set grid
plot "{dat.name}" u 1:2 w lp lw 2 pt 7 t "p2p-share (repeated)", \\
     "" u 1:3 w lp lw 2 pt 5 t "p2p-share (first run)", \\
     "" u 1:4 w lp lw 2 pt 9 t "aria2c", \\
     "" u 1:5 w lp lw 2 pt 11 t "libtorrent 2.0 (TCP)", \\
     "" u 1:6 w lp dt 2 pt 1 t "cp", \\
     "" u 1:7 w lp dt 3 pt 2 t "cp + sync"
"""
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)
    os.unlink(dat.name)
    w(f"![seconds per GiB against size]({os.path.basename(a.plot)})\n")

    # --- all runs -----------------------------------------------------------------------------------------
    w("## Every run\n")
    w("| tool | size | mode | runs: wall (s) | user / sys (median) | peak RSS | load (idle) |")
    w("|---|---|---|---|---|---|---|")
    for (tool, s, mode), rows in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])):
        walls = ", ".join(f"{r['wall']:.3f}" for r in rows if r["wall"] is not None) or "–"
        w(f"| {tool} | {size_label(s)} | {mode} | {walls} | {fmt_s(med(rows, 'user'))} / {fmt_s(med(rows, 'sys'))} | "
          f"{(mx(rows, 'rss') or 0) / 1024:.1f} MiB | {load_range(rows)} |")
    w("")
    w("## Exact commands\n")
    w("Ports are chosen free at run time; `/usr/bin/time -f '%e %U %S %M'` wraps each timed command.\n")
    w(open(a.commands).read())
    with open(a.md, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
