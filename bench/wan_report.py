#!/usr/bin/env python3
# Tables, JSON and a plot for bench/wan_bench.sh, from its one-row-per-run file (tab-separated):
#   part tool cap_bps rtt_ms rep n bytes wall first status rss_kb cpu load tstar steady_mib_s
# (wall: seconds until the last downloader held a verified copy, or "timeout"/"failed";
# status: ok, bad_copy or "K/N_done"; rtt_ms "mixed" for the swarm).
#   wan_report.py RAW OUT [--host ... --versions ... --commands FILE --reproduce CMD ...]
#   -> OUT-latest.md, OUT-latest.json, OUT.png (gnuplot; skipped with a note if it is missing)
#   wan_report.py steady FROM_MIB LOG:SKIP...  -> the steady rate (MiB/s) of the connection that
#      carried the most bytes, from the delay relays' --stats lines in each LOG after its first
#      SKIP lines: MiB FROM_MIB to the last over the time between (the start-up and the window's
#      ramp-up left out); "-" if there is none or it carried less than FROM_MIB + 8 MiB.
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

TOOLS = [("p2p", "p2p-share"), ("aria", "aria2c"), ("lt", "libtorrent")]
FIELDS = "part tool cap rtt rep n bytes wall first status rss cpu load tstar steady relay_cpu".split()
# issue 21's targets: capped at 200 ms >= 0.9 x RTT 0; uncapped at 100 ms >= 0.8 x; swarm <= 1.3 x T*
TARGETS = {("capped", 200): 0.9, ("uncapped", 100): 0.8}
SWARM_TARGET = 1.3


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def load(path):
    rows = []
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == len(FIELDS) - 1:
            parts.append("-")  # a row from before relay_cpu was recorded
        if len(parts) == len(FIELDS):
            rows.append(dict(zip(FIELDS, parts)))
    return rows


def steady(from_mib, logs):
    best = None
    for spec in logs:
        path, skip = spec.rsplit(":", 1)
        try:
            lines = open(path).read().splitlines()[int(skip):]
        except OSError:
            continue
        for line in lines:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if not isinstance(e, dict) or e.get("event") != "closed":
                continue
            for marks in (e.get("up_mib_ms", []), e.get("down_mib_ms", [])):
                if best is None or len(marks) > len(best):
                    best = marks
    if not best or len(best) < from_mib + 8:
        return "-"
    return f"{(len(best) - from_mib) / ((best[-1] - best[from_mib - 1]) / 1000):.1f}"


def cell(rows):
    """Median over the runs of one cell; a run that failed counts as infinitely slow."""
    inf = float("inf")
    walls = [num(r["wall"]) if r["status"] == "ok" and num(r["wall"]) is not None else inf for r in rows]
    ok = [w for w in walls if w != inf]
    med = statistics.median(walls)
    size = int(rows[0]["bytes"])
    rss = [num(r["rss"]) for r in rows if num(r["rss"]) is not None]
    cpu = [num(r["cpu"]) for r in rows if num(r["cpu"]) is not None]
    relay_cpu = [num(r["relay_cpu"]) for r in rows if num(r["relay_cpu"]) is not None]
    st = [num(r["steady"]) for r in rows if num(r["steady"]) is not None]
    return {
        "steady_mib_s": round(statistics.median(st), 1) if st else None,
        "runs": len(rows), "failed": len(rows) - len(ok),
        "wall_s": None if med == inf else round(med, 3),
        "wall_min_s": round(min(ok), 3) if ok else None, "wall_max_s": round(max(ok), 3) if len(ok) == len(rows) else None,
        "mib_s": None if med == inf else round(size / 1048576 / med, 2),
        "peak_rss_kib": max(rss) if rss else None,
        "cpu_s": round(statistics.median(cpu), 2) if cpu else None,
        "relay_cpu_s": round(statistics.median(relay_cpu), 2) if relay_cpu else None,
        "tstar_s": num(rows[0]["tstar"]),
        "why": sorted({r["status"] if r["status"] != "ok" else r["wall"] for r in rows if r["status"] != "ok" or num(r["wall"]) is None}),
    }


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "steady":
        print(steady(int(sys.argv[2]), sys.argv[3:]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("out")
    ap.add_argument("--host", default="")
    ap.add_argument("--versions", default="")
    ap.add_argument("--elapsed", default="")
    ap.add_argument("--commands", default="")
    ap.add_argument("--repeats", default="")
    ap.add_argument("--swarm", default="")
    ap.add_argument("--reproduce", default="")
    a = ap.parse_args()
    rows = load(a.raw)
    if not rows:
        sys.exit(f"wan_report: no runs in {a.raw}")
    tools = [(t, name) for t, name in TOOLS if any(r["tool"] == t for r in rows)]

    # ---- one connection: throughput per tool, cap and RTT; ratio to the same tool and cap at RTT 0
    one = [r for r in rows if r["part"] == "one"]
    caps = sorted({int(r["cap"]) for r in one}, key=lambda c: (c == 0, c))
    rtts = sorted({int(r["rtt"]) for r in one})
    result = {"one": [], "swarm": [], "host": a.host, "versions": a.versions, "command": a.reproduce,
              "repeats": a.repeats, "elapsed_s": num(a.elapsed)}
    md = ["# WAN benchmark (bench/wan_bench.sh)", "",
          f"Command: `{a.reproduce}`", "", f"Host: {a.host}", "", f"Versions: {a.versions}", "",
          f"Median of {a.repeats} runs per cell; took {a.elapsed} s. Round trips come from delay relays "
          "(scripts/netns/harness.sh nsh_delay: RTT/2 each way, in user space, so each kernel TCP "
          "connection itself has a sub-millisecond RTT); RTT 0 = through the same relays without delay.", ""]
    if one:
        size = int(one[0]["bytes"])
        md += [f"## One connection, {size >> 20} MiB, default flags", "",
               "Throughput (MiB/s, downloader start → verified copy) and its ratio to the same tool and cap at RTT 0; "
               "after the · the steady rate the relay measured on the connection (MiB/s from its 8th MiB to its last: "
               "start-up, tracker and the window's ramp-up left out).", "",
               "| tool | seeder upload | " + " | ".join(f"RTT {r} ms" for r in rtts) + " |",
               "| --- | --- | " + " | ".join("---" for _ in rtts) + " |"]
        for cap in caps:
            capname = f"{cap >> 20} MiB/s" if cap else "uncapped"
            for t, name in tools:
                base = base_steady = None
                cells = []
                for rtt in rtts:
                    rs = [r for r in one if r["tool"] == t and int(r["cap"]) == cap and int(r["rtt"]) == rtt]
                    if not rs:
                        cells.append("-")
                        continue
                    c = cell(rs)
                    if rtt == 0:
                        base, base_steady = c["mib_s"], c["steady_mib_s"]
                    ratio = round(c["mib_s"] / base, 3) if base and c["mib_s"] else None
                    c["steady_ratio_to_rtt0"] = (round(c["steady_mib_s"] / base_steady, 3)
                                                 if base_steady and c["steady_mib_s"] else None)
                    target = TARGETS.get(("capped" if cap else "uncapped", rtt)) if t == "p2p" else None
                    result["one"].append(dict(tool=t, cap_bps=cap, rtt_ms=rtt, ratio_to_rtt0=ratio, target_ratio=target, **c))
                    if c["mib_s"] is None:
                        cells.append(f"failed ({', '.join(c['why'])})")
                        continue
                    s = f"{c['mib_s']:.1f}" + (f" ({ratio:.2f}×)" if ratio is not None and rtt else "")
                    if c["steady_mib_s"] is not None:
                        s += f" · {c['steady_mib_s']:.0f}"
                    if target is not None and ratio is not None:
                        s += " ✓" if ratio >= target else f" ✗ (target ≥ {target})"
                    if c["failed"]:
                        s += f" [{c['failed']} failed]"
                    cells.append(s)
                md.append(f"| {name} | {capname} | " + " | ".join(cells) + " |")
        busy = [x for x in result["one"] if x["cpu_s"] is not None and x["relay_cpu_s"] is not None and x["wall_s"]]
        if busy:
            md += ["", "CPU seconds of a run (medians), the tool's seeder and downloader + the two relays, and how busy "
                   "that keeps the host's cores over the transfer (a share of cores × wall time: near 1, the host's CPU "
                   "is the limit, for every tool alike):", "",
                   "| tool | seeder upload | RTT | tool CPU-s | relays CPU-s | cores busy |", "| --- | --- | ---: | ---: | ---: | ---: |"]
            for x in busy:
                share = (x["cpu_s"] + x["relay_cpu_s"]) / ((os.cpu_count() or 1) * x["wall_s"])
                md.append(f"| {dict(tools)[x['tool']]} | {(x['cap_bps'] >> 20) if x['cap_bps'] else 'uncapped'}"
                          f"{' MiB/s' if x['cap_bps'] else ''} | {x['rtt_ms']} ms | {x['cpu_s']:.1f} | {x['relay_cpu_s']:.1f} | {share:.2f} |")
        rss = [(x["rtt_ms"], x["cap_bps"], x["peak_rss_kib"]) for x in result["one"] if x["tool"] == "p2p" and x["peak_rss_kib"]]
        if rss:
            md += ["", "p2p-download's peak RSS (VmHWM, largest of the runs): " +
                   ", ".join(f"{(c >> 20) if c else 'uncapped'}{' MiB/s' if c else ''} RTT {r} ms: {k / 1024:.1f} MiB" for r, c, k in rss)]
        md.append("")

    # ---- swarm: time against T*
    swarm = [r for r in rows if r["part"] == "swarm"]
    if swarm:
        md += ["## Swarm with mixed round trips", "", a.swarm, "",
               "| tool | all done (median, min–max) | × T* | T* | CPU s (all peers) | runs failed |",
               "| --- | --- | --- | --- | --- | --- |"]
        for t, name in tools:
            rs = [r for r in swarm if r["tool"] == t]
            if not rs:
                continue
            c = cell(rs)
            ratio = round(c["wall_s"] / c["tstar_s"], 3) if c["wall_s"] and c["tstar_s"] else None
            result["swarm"].append(dict(tool=t, ratio_to_tstar=ratio, target_ratio=SWARM_TARGET if t == "p2p" else None, **c))
            span = f"{c['wall_min_s']}–{c['wall_max_s']}" if c["wall_max_s"] is not None else f"{c['wall_min_s']}–(failed)"
            med = f"{c['wall_s']} s ({span})" if c["wall_s"] is not None else f"failed ({', '.join(c['why'])})"
            rtxt = "-" if ratio is None else f"{ratio:.2f}" + ((" ✓" if ratio <= SWARM_TARGET else f" ✗ (target ≤ {SWARM_TARGET})") if t == "p2p" else "")
            md.append(f"| {name} | {med} | {rtxt} | {c['tstar_s']} s | {c['cpu_s']} | {c['failed']} |")
        md.append("")

    if a.commands:
        md += ["## Commands (each in its namespace)", "", "```"] + [l.rstrip() for l in open(a.commands) if l.strip()] + ["```", ""]
    md += [f"Raw runs: {a.out.split('/')[-1]}-latest.dat (one row per run: " + " ".join(FIELDS) + ")", ""]

    open(a.out + "-latest.md", "w").write("\n".join(md))
    json.dump(result, open(a.out + "-latest.json", "w"), indent=1)
    plot(a.out, result, tools, caps, rtts)
    print("\n".join(md))


def plot(out, result, tools, caps, rtts):
    """Throughput ratio to RTT 0 against the round trip, one line per tool and cap."""
    if not result["one"] or len(rtts) < 2:
        return
    if not shutil.which("gnuplot"):
        print("wan_report: gnuplot is not installed; no plot", file=sys.stderr)
        return
    dat = out + "-plot.dat"
    series = []
    with open(dat, "w") as f:
        for cap in caps:
            for t, name in tools:
                pts = [x for x in result["one"] if x["tool"] == t and x["cap_bps"] == cap and x["ratio_to_rtt0"] is not None]
                if not pts:
                    continue
                f.write(f"# {name} {cap}\n")
                for x in sorted(pts, key=lambda x: x["rtt_ms"]):
                    sr = x["steady_ratio_to_rtt0"] if x["steady_ratio_to_rtt0"] is not None else "NaN"
                    f.write(f"{x['rtt_ms']} {x['ratio_to_rtt0']} {x['mib_s']} {sr}\n")
                f.write("\n\n")
                series.append(f"{name}, {(str(cap >> 20) + ' MiB/s cap') if cap else 'uncapped'}")
    def plots(col, key):
        lines = [f"'{dat}' index {i} using 1:{col} with linespoints ls {i + 1} title {repr(s) if key else 'notitle'}"
                 .replace("title notitle", "notitle") for i, s in enumerate(series)]
        return ", ".join(lines)
    targets = ("0.9 with lines dashtype 2 lc rgb 'gray' title 'target, capped at 200 ms', "
               "0.8 with lines dashtype 3 lc rgb 'gray' title 'target, uncapped at 100 ms'")
    script = f"""set terminal pngcairo size 1400,560 noenhanced
set output '{out}.png'
set multiplot layout 1,2 title 'One connection through delay relays: throughput / throughput at RTT 0'
set xlabel 'round trip (ms)'
set ylabel 'ratio to RTT 0'
set yrange [0:1.5]
set grid
set key top right font ',9'
set title 'wall clock (downloader start to verified copy)'
plot {plots(2, True)}, {targets}
set title 'steady (the relay: 8th MiB to last)'
unset key
plot {plots(4, False)}, 0.9 with lines dashtype 2 lc rgb 'gray' notitle, 0.8 with lines dashtype 3 lc rgb 'gray' notitle
unset multiplot
"""
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        print(f"wan_report: gnuplot failed: {r.stderr.strip()}", file=sys.stderr)


if __name__ == "__main__":
    main()
