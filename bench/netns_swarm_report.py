#!/usr/bin/env python3
# Tables and plot for bench/netns_swarm_bench.sh, from its one-row-per-run file:
#   tool shape n rep wall first seeder_copies verify load tstar extra
# (wall: seconds, or "timeout"/"failed"; extra: when the late joiner joined / the leaver or the
# seeder left, and for "late" ":<its completion time>").
#   netns_swarm_report.py report RAW OUT --F ... --R ... (see main) -> OUT-latest.md, OUT.png
import argparse
import statistics
import subprocess
import sys

TARGET = 1.25
TOOLS = [("p2p", "p2p-share"), ("aria", "aria2c"), ("lt", "libtorrent")]


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def summary(rows):
    """Median (min-max) of the all-done times of some runs; a run not done counts as infinite."""
    if not rows:
        return None
    inf = float("inf")
    t = [num(r["wall"]) if r["verify"] == "ok" and num(r["wall"]) is not None else inf for r in rows]
    ok = [x for x in t if x != inf]
    ts = num(rows[0]["tstar"])
    copies = [num(r["copies"]) for r in rows if num(r["copies"]) is not None]
    why = [r["wall"] if r["verify"] == "ok" else r["verify"] for r in rows]
    cpu = [num(r.get("cpu", "")) for r in rows if num(r.get("cpu", "")) is not None]
    return dict(n=len(rows), med=statistics.median(t), lo=min(ok) if ok else None, cpu=statistics.median(cpu) if cpu else None,
                hi=max(ok) if len(ok) == len(rows) else None, why=why, tstar=ts,
                within=sum(1 for x in ok if x <= TARGET * ts + 1e-9),
                copies=statistics.median(copies) if copies else None,
                load=[num(r["load"]) for r in rows if num(r["load"]) is not None])


def cell(s):
    if s is None:
        return ["-", "-"]
    if s["med"] == float("inf"):
        t, ratio = "not done", "-"
    else:
        t, ratio = f"{s['med']:.1f}", f"{s['med'] / s['tstar']:.2f}×"
    if s["hi"] is None:
        t += " (" + ", ".join(s["why"]) + ")"
    elif s["n"] > 1:
        t += f" ({s['lo']:.1f}–{s['hi']:.1f})"
    return [t, ratio]


def copies(s):
    return "-" if s is None or s["copies"] is None else f"{s['copies']:.2f}"


def report(a):
    keys = "tool shape n rep wall first copies verify load tstar extra cpu".split()
    rows = [dict(zip(keys, line.rstrip("\n").split("\t"))) for line in open(a.raw) if line.strip()]
    F, R = a.F, a.R
    fr = F / R
    pick = lambda tool, shape, n: [r for r in rows if r["tool"] == tool and r["shape"] == shape and int(r["n"]) == n]
    md = []
    flags = f"tuned ({a.tuned.strip()}), not the defaults" if a.tuned.strip() else "default flags"
    md.append(f"# Swarm in network namespaces — kernel-capped links, {flags}\n")
    md.append(f"{a.host}; {a.versions}; runs took {a.elapsed} s.\n")
    md.append(
        f"Every process in its own network namespace (scripts/netns/harness.sh: a veth into one bridge), its upload\n"
        f"capped by the kernel (tbf on its veth, 100 ms queue); downloads uncapped. File F = {F >> 20} MiB (random),\n"
        f"R = {R >> 20} MiB/s (F/R = {fr:g} s). hom: seeder and every downloader upload at R; het: the even-numbered half\n"
        f"of the downloaders at R/4. T* = max(F/u_s, N·F/(u_s + Σu_i)) (Kumar & Ross 2006, downloads uncapped).\n"
        f"\"All done\" = from starting the N downloaders (together) until the last holds a verified copy (p2p-share: the\n"
        f"file is renamed into place; aria2c: its --on-bt-download-complete hook; libtorrent: is_seeding), polled every\n"
        f"0.1 s; every copy is then compared with the source (cmp; a wrong or missing copy counts as not done).\n"
        f"p2p-share: median (min–max) of {a.repeats} runs; aria2c and libtorrent: {a.anchor_repeats} run(s) each.\n"
        f"Seeder copies = what the seeder uploaded until the last finished, / F (p2p-seed's `stopped` event; aria2c:\n"
        f"uploadLength over RPC; libtorrent: total_payload_upload). p2p-share piece size {a.piece} bytes (p2p-create's\n"
        f"automatic choice); aria2c and libtorrent: mktorrent's default (262144). Target: all done ≤ {TARGET} × T*,\n"
        f"seeder copies ≤ 1.1.\n")
    head = ["shape", "N", "T* (s)"]
    for _, label in TOOLS:
        head += [f"{label} all done (s)", "÷ T*"] + (["runs ≤ 1.25×T*"] if label == "p2p-share" else []) + \
                [f"{label} seeder copies"]
    head += ["load (1 min)"]
    md.append("| " + " | ".join(head) + " |")
    md.append("|" + "|".join("---:" for _ in head) + "|")
    plot = {}
    ns = sorted({int(r["n"]) for r in rows if r["shape"] in ("hom", "het")})
    for shape in ("hom", "het"):
        for n in ns:
            ss = {t: summary(pick(t, shape, n)) for t, _ in TOOLS}
            if not ss["p2p"] and not ss["aria"]:
                continue
            ts = next(s["tstar"] for s in ss.values() if s)
            line = [shape, str(n), f"{ts:.1f}"]
            for t, label in TOOLS:
                line += cell(ss[t])
                if t == "p2p":
                    line.append("-" if ss[t] is None else f"{ss[t]['within']}/{ss[t]['n']}")
                line.append(copies(ss[t]))
            loads = [x for s in ss.values() if s for x in s["load"]]
            line.append(f"{min(loads):.1f}–{max(loads):.1f}" if loads else "-")
            md.append("| " + " | ".join(line) + " |")
            ratio = lambda s, k: "NaN" if s is None or s[k] is None or s[k] == float("inf") else f"{s[k] / s['tstar']:.3f}"
            plot.setdefault(shape, []).append(
                f"{n} {ratio(ss['p2p'], 'med')} {ratio(ss['p2p'], 'lo')} {ratio(ss['p2p'], 'hi')} "
                f"{ratio(ss['aria'], 'med')} {ratio(ss['lt'], 'med')}")
    md.append("\nCPU seconds (user + system, all threads) used by the seeder and the N downloaders in a run, median —\n"
              "the 2 cores give at most 2 CPU-seconds per second of wall time, shared with whatever else runs:\n")
    md.append("| shape | N | " + " | ".join(label for _, label in TOOLS) + " |")
    md.append("|---|---:|" + "---:|" * len(TOOLS))
    for shape in ("hom", "het"):
        for n in ns:
            ss = {t: summary(pick(t, shape, n)) for t, _ in TOOLS}
            if not any(ss.values()):
                continue
            c = lambda s: "-" if s is None or s["cpu"] is None else (
                f"{s['cpu']:.1f}" + (f" ({s['cpu'] / s['med']:.2f}/s)" if s["med"] not in (0, float("inf")) else ""))
            md.append(f"| {shape} | {n} | " + " | ".join(c(ss[t]) for t, _ in TOOLS) + " |")
    extra = [r for r in rows if r["shape"] in ("late", "leave", "seedleave")]
    if extra:
        md.append("\nMore shapes (p2p-share, homogeneous caps, one run each):\n")
        md.append("| shape | N | T* (s) | event at (s) | all done (s) | ÷ T* | seeder copies | note |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---|")
        what = {"late": "d{n} starts at T*/2", "leave": "d{n} is stopped (SIGTERM) at T*/2; the other {m} must finish",
                "seedleave": "the seeder, on a 2R link, is stopped (SIGTERM) once its progress shows uploaded_bytes ≥ F"}
        for r in extra:
            n, ts = int(r["n"]), float(r["tstar"])
            ev, note = r["extra"], what[r["shape"]].format(n=n, m=n - 1)
            if r["shape"] == "late" and ":" in ev:
                ev, done = ev.split(":")
                note += f"; it finished {float(done) - float(ev):.1f} s after joining ({(float(done) - float(ev)) / fr:.2f} × F/R)"
            wall = num(r["wall"])
            ok = r["verify"] == "ok" and wall is not None
            md.append(f"| {r['shape']} | {n} | {ts:.1f} | {ev} | {r['wall'] if ok else r['verify']} | "
                      f"{f'{wall / ts:.2f}×' if ok else '-'} | {r['copies']} | {note} |")
    md.append(f"\nPlot: {a.out.split('/')[-1]}.png; one row per run: {a.out.split('/')[-1]}-latest.dat.")
    md.append(f"Reproduce: `{a.reproduce}`\n")
    md.append("Commands (scratch paths vary; each downloader has its own namespace and directory):\n")
    for c in open(a.commands).read().splitlines():
        if c.strip():
            md.append(f"    {c}")
    open(f"{a.out}-latest.md", "w").write("\n".join(md) + "\n")
    print("\n".join(md))
    gnuplot(a, plot, ns)


def gnuplot(a, plot, ns):
    if not plot:
        return
    files = {}
    for shape, lines in plot.items():
        files[shape] = f"{a.out}-{shape}.plotdat"
        open(files[shape], "w").write("\n".join(lines) + "\n")
    xt = ", ".join(f'"{n}" {n}' for n in ns)
    titles = {"hom": "homogeneous: every peer uploads at R", "het": "heterogeneous: half the downloaders at R/4"}
    script = [
        'set terminal pngcairo size 1200,560 font "sans,11"', f'set output "{a.out}.png"',
        f'set multiplot layout 1,{len(files)} title "Swarm in network namespaces, tbf-capped uploads, default flags: '
        f'time until all N hold the file ÷ T*\\nF = {a.F >> 20} MiB, R = {a.R >> 20} MiB/s; p2p-share median of '
        f'{a.repeats} (bars: min–max), aria2c and libtorrent {a.anchor_repeats} run(s)"',
        "set logscale x 2", f"set xrange [{min(ns) / 1.3}:{max(ns) * 1.3}]", f"set xtics ({xt})",
        "set yrange [0.8:*]", "set grid", "set key top left", 'set datafile missing "NaN"',
        'set xlabel "N downloaders"', 'set ylabel "all done ÷ T*"']
    for shape, f in files.items():
        cols = [l.split() for l in plot[shape]]
        has = lambda k: any(c[k] != "NaN" for c in cols)  # plot only the tools that ran
        lines = [f'plot 1 with lines dt 1 lw 1 lc rgb "#000000" title "T*"',
                 f'{TARGET} with lines dt 2 lw 2 lc rgb "#d62728" title "target {TARGET}×T*"']
        if has(2) and has(3):
            lines.append(f'"{f}" using 1:3:4 with filledcurves lc rgb "#c6dbef" title "p2p-share min–max"')
        if has(1):
            lines.append(f'"{f}" using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "p2p-share"')
        if has(4):
            lines.append(f'"{f}" using 1:5 with linespoints lw 2 pt 5 lc rgb "#ff7f0e" title "aria2c"')
        if has(5):
            lines.append(f'"{f}" using 1:6 with linespoints lw 2 pt 9 lc rgb "#2ca02c" title "libtorrent"')
        script += [f'set title "{titles[shape]}"', ", ".join(lines)]
    script.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True)
    import os
    for f in files.values():
        os.remove(f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd")
    p.add_argument("raw")
    p.add_argument("out")
    for k in ("F", "R", "piece", "repeats", "anchor_repeats"):
        p.add_argument("--" + k.replace("_", "-"), type=int, required=True)
    for k in ("host", "versions", "elapsed", "commands", "reproduce"):
        p.add_argument("--" + k, required=True)
    p.add_argument("--tuned", default="", help="the non-default settings of the run, if any")
    report(p.parse_args())


main()
