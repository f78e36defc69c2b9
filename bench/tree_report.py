#!/usr/bin/env python3
"""Report and small helpers for bench/tree_bench.sh (no third-party modules).

  tree_report.py report --rows RUNS.tsv --fails FAILS.tsv --info INFO.tsv --commands CMDS --out FILE
      Prints the summary table (medians, ratios, targets of issue 11) and the failed steps;
      writes them with every raw run, the notes, tool versions and the exact command to FILE.
  tree_report.py timeit --runs N [--prepare CMD] [--allow-fail 0|1] --json OUT -- CMD...
      Runs CMD N times after one warm-up (PREPARE, split on spaces, before each), timing process
      start to exit; writes hyperfine-shaped JSON (results[0].times/median). Used without hyperfine.
  tree_report.py hfmedian JSON          "median min max n" (seconds) of the first command
  tree_report.py metainfo META          one line about a tree meta (piece size, counts, info hash)

RUNS.tsv rows: step tool mode wall user sys rss_kb load1 idle_pct server_cpu (transfers: CPU seconds
of the serving end over the run, "-" if unknown); step is create, transfer,
only or parse; mode first, repeated, cold or median (a median computed by hyperfine).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time


def read_tsv(path, width):
    out = []
    for line in open(path, encoding="utf-8"):
        if line.strip():
            f = line.rstrip("\n").split("\t")
            out.append(f + [""] * (width - len(f)))
    return out


def fmt_s(v):
    if v is None:
        return "-"
    return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"


def fmt_bytes(n):
    n = int(n)
    for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div:
            return f"{n:,} B ({n / div:.1f} {unit})"
    return f"{n:,} B"


def report(a):
    rows = read_tsv(a.rows, 10)
    fails = read_tsv(a.fails, 2)
    info = dict((k, v) for k, v in read_tsv(a.info, 2))
    failed_steps = {}
    for step, msg in fails:
        failed_steps.setdefault(step, msg)

    def walls(step, tool, mode="repeated"):
        return [float(r[3]) for r in rows if r[0] == step and r[1] == tool and r[2] == mode]

    def med(step, tool, mode="repeated"):
        w = walls(step, tool, mode)
        return statistics.median(w) if w else None

    def spread(step, tool, mode="repeated"):
        w = walls(step, tool, mode)
        return f" [{min(w):.2f}-{max(w):.2f}, n={len(w)}]" if len(w) > 1 else (f" [n=1]" if w else "")

    table = []  # measure, p2p, anchor label, anchor, ratio, target, met

    def p2p_cell(step, v, extra=""):
        if v is not None:
            return fmt_s(v) + extra
        return "FAILED" if step in failed_steps else "-"

    def ratio_row(measure, step, p2p_tool, anchor, target, mode="repeated"):
        p, q = med(step, p2p_tool, mode), med(step, anchor, mode)
        ratio = p / q if p is not None and q else None
        met = "-"
        if ratio is not None and target.startswith("<="):
            met = "yes" if ratio <= float(target[2:-1]) else "NO"
        table.append([measure, p2p_cell(step, p, spread(step, p2p_tool, mode)), anchor,
                      (fmt_s(q) + spread(step, anchor, mode)) if q is not None else "-",
                      f"{ratio:.2f}x" if ratio is not None else "-", target, met])

    if any(r[2] == "cold" for r in rows):
        ratio_row("create, cold cache (1 run)", "create", "p2p-create", "mktorrent", "-", "cold")
    ratio_row("create, first run", "create", "p2p-create", "mktorrent", "-", "first")
    ratio_row("create, median", "create", "p2p-create", "mktorrent", "<=1.0x")
    ratio_row("transfer vs rsync daemon", "transfer", "p2p", "rsync", "<=0.8x")
    ratio_row("transfer vs aria2c", "transfer", "p2p", "aria2c", "-")
    ratio_row("transfer vs libtorrent", "transfer", "p2p", "libtorrent", "-")

    # CPU seconds of both ends (the downloader's user + system, the serving end's): on a
    # shared machine the figure that load changes least.
    def cpus(tool):
        out = []
        for r in rows:
            if r[0] == "transfer" and r[1] == tool and r[2] == "repeated" and r[9] not in ("", "-"):
                out.append(float(r[4]) + float(r[5]) + float(r[9]))
        return out

    p, q = cpus("p2p"), cpus("rsync")
    if p and q:
        pm, qm = statistics.median(p), statistics.median(q)
        table.append(["transfer CPU-s, both ends, vs rsync", f"{pm:.2f} s [{min(p):.2f}-{max(p):.2f}, n={len(p)}]",
                      "rsync", f"{qm:.2f} s [{min(q):.2f}-{max(q):.2f}, n={len(q)}]", f"{pm / qm:.2f}x", "-", "-"])
    only = med("only", "p2p", "median")
    table.append(["--only 1 MiB file, start to exit 0", p2p_cell("only", only), "-", "-", "-", "<100 ms",
                  ("yes" if only < 0.1 else "NO") if only is not None else "-"])
    base = med("parse", "one", "median")
    n_tree, n_big = (info.get("entries", "? ?").split() + ["?", "?"])[:2]
    tor = info.get("torrent_size_tree", "-").split(" ")[0]
    table.append(["parse, a one-file meta (baseline)", p2p_cell("parse", base) if base is not None else "-",
                  "-", "-", "-", "-", "-"])
    for label, what, size_key in ((f"tree", f"the {n_tree}-file tree's meta", "meta_size_tree"),
                                  ("big", f"a {n_big}-entry meta (gen_tree.py)", "meta_size_big")):
        size = info.get(size_key, "-").split(" ")[0]
        p2p_size = fmt_bytes(size) if size.isdigit() else ("FAILED" if "create" in failed_steps else "-")
        anchor = ["mktorrent .torrent", fmt_bytes(tor), f"{int(size) / int(tor):.2f}x" if size.isdigit() and tor.isdigit() else "-"] \
            if label == "tree" and tor.isdigit() else ["-", "-", "-"]
        table.append([f"meta size, {what}", p2p_size] + anchor + ["-", "-"])
        t = med("parse", label, "median")
        net = (f" ({'+' if t >= base else '-'}{fmt_s(abs(t - base))} vs the baseline)"
               if t is not None and base is not None else "")
        refused = any(s == "parse" and (m.startswith(f"p2p-download refuses the {label}") or m.startswith(f"{label}:"))
                      for s, m in fails)
        table.append([f"parse, {what}", p2p_cell("parse", t, net) if t is not None else ("FAILED" if refused else "-"),
                      "-", "-", "-", "-", "-"])

    header = ["Measure", "p2p-share", "Anchor", "Anchor figure", "Ratio", "Target", "Met"]
    widths = [max(len(r[i]) for r in [header] + table) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
    text = [line(header), line(["-" * w for w in widths])] + [line(r) for r in table]
    summary = "\n".join(text)
    fail_text = "\n".join(f"  [{s}] {m}" for s, m in fails)

    out = []
    out.append("p2p-share directory benchmark (issue 11): bench/tree_bench.sh")
    out.append("")
    for k in ("command", "date", "host", "versions", "load", "settings", "tree", "only_file", "cache"):
        if k in info:
            out.append(f"{k}: {info[k]}")
    out.append("")
    out.append("Times are wall seconds, medians of the repeated runs [min-max, n]; ratio = p2p-share / anchor;")
    out.append("first run = the first of its series, cache warm like the rest (cold rows only with COLD=1 as root);")
    out.append("parse = p2p-download process start to exit with a meta and no peer (see parse_method).")
    out.append(summary)
    if fails:
        out.append("")
        out.append("Failed steps:")
        out.append(fail_text)
    out.append("")
    out.append("Notes:")
    shown = {"command", "date", "host", "versions", "load", "settings", "tree", "only_file", "cache"}
    for k, v in info.items():
        if k not in shown:
            out.append(f"  {k}: {v}")
    out.append("")
    out.append("Raw runs (step tool mode wall_s user_s sys_s peak_rss_kb load1 idle_pct server_cpu_s):")
    for r in rows:
        out.append("  " + "\t".join(r))
    out.append("")
    out.append("Commands (TREE, paths and ports as in this run):")
    out.append(open(a.commands, encoding="utf-8").read().rstrip("\n"))
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")

    print()
    print(summary)
    if fails:
        print("\nFailed steps:")
        print(fail_text)
    for k in ("cache", "verified_p2p", "verified_rsync", "verified_aria2c", "verified_libtorrent", "ref_vs_p2p"):
        if k in info:
            print(f"{k}: {info[k]}")


def timeit(a):
    def prepare():
        if a.prepare:
            subprocess.run(a.prepare.split(), check=True)

    times = []
    for i in range(a.runs + 1):
        prepare()
        t0 = time.perf_counter()
        rc = subprocess.run(a.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        t = time.perf_counter() - t0
        if rc != 0 and a.allow_fail != "1":
            print(f"timeit: {' '.join(a.cmd)} exited {rc}", file=sys.stderr)
            sys.exit(1)
        if i > 0:
            times.append(t)
    r = {"command": " ".join(a.cmd), "times": times, "median": statistics.median(times),
         "mean": statistics.mean(times), "min": min(times), "max": max(times)}
    json.dump({"results": [r]}, open(a.json, "w"))


def hfmedian(path):
    r = json.load(open(path))["results"][0]
    t = r["times"]
    print(f"{statistics.median(t):.6f} {min(t):.6f} {max(t):.6f} {len(t)}")


def metainfo(path):
    m = json.load(open(path, encoding="utf-8"))
    print(f"format {m.get('version')}, piece_size {m.get('piece_size')}, {len(m.get('pieces', []))} pieces, "
          f"{len(m.get('files', []))} files, {len(m.get('dirs', []))} empty folders, info hash {m.get('info_hash')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="sub", required=True)
    r = sub.add_parser("report")
    for opt in ("--rows", "--fails", "--info", "--commands", "--out"):
        r.add_argument(opt, required=True)
    t = sub.add_parser("timeit")
    t.add_argument("--runs", type=int, required=True)
    t.add_argument("--prepare", default="")
    t.add_argument("--allow-fail", default="0")
    t.add_argument("--json", required=True)
    t.add_argument("command", nargs=argparse.REMAINDER)
    h = sub.add_parser("hfmedian")
    h.add_argument("json")
    m = sub.add_parser("metainfo")
    m.add_argument("meta")
    a = ap.parse_args()
    if a.sub == "report":
        report(a)
    elif a.sub == "timeit":
        a.cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
        timeit(a)
    elif a.sub == "hfmedian":
        hfmedian(a.json)
    else:
        metainfo(a.meta)

if __name__ == "__main__":
    main()
