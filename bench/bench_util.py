#!/usr/bin/env python3
"""Small helpers for bench/core_bench.sh (no third-party modules).

  bench_util.py infohash X.torrent        40-hex SHA-1 of the bencoded info dict
  bench_util.py hf RESULT.json            "mean stddev min max n" (seconds) of the first command
  bench_util.py timelog FILE              "mean_wall mean_user mean_sys max_rss_kb n" from
                                          /usr/bin/time -f '%e %U %S %M' lines
  bench_util.py table ROWS.tsv            prints the text table; with --md OUT also writes
                                          the markdown table to OUT
Rows (tab separated): measure, p2p, p2p_sd, peer_label, peer, peer_sd, unit, target
  (the *_sd fields are "stddev" or "stddev,min", in seconds for times)
  unit: s | ms | MiB | info-s ; target: "<=R x" (ratio p2p/peer), "<N ms" (absolute), or "-".
"""
import hashlib
import json
import sys


def _skip(b, i):
    c = b[i:i + 1]
    if c == b'i':
        return b.index(b'e', i) + 1
    if c in (b'l', b'd'):
        i += 1
        while b[i:i + 1] != b'e':
            i = _skip(b, i)
        return i + 1
    if not c.isdigit():
        raise ValueError(f'bad bencode at offset {i}')
    colon = b.index(b':', i)
    return colon + 1 + int(b[i:colon])


def infohash(path):
    b = open(path, 'rb').read()
    if b[:1] != b'd':
        raise SystemExit(f'{path}: not a bencoded dict')
    i = 1
    while b[i:i + 1] != b'e':
        kend = _skip(b, i)
        key = b[b.index(b':', i) + 1:kend]
        vend = _skip(b, kend)
        if key == b'info':
            return hashlib.sha1(b[kend:vend]).hexdigest()
        i = vend
    raise SystemExit(f'{path}: no info dict')


def hf(path):
    r = json.load(open(path))['results'][0]
    times = r['times']
    return f"{r['mean']:.6f} {r.get('stddev') or 0:.6f} {r['min']:.6f} {r['max']:.6f} {len(times)}"


def timelog(path):
    rows = [l.split() for l in open(path) if l.strip() and l.split()[0][0].isdigit()]
    if not rows:
        raise SystemExit(f'{path}: no /usr/bin/time lines')
    n = len(rows)
    mean = lambda k: sum(float(r[k]) for r in rows) / n
    return f"{mean(0):.3f} {mean(1):.3f} {mean(2):.3f} {max(int(r[3]) for r in rows)} {n}"


def _fmt(v, sd, unit):
    if v == '' or v == '-':
        return '-'
    v = float(v)
    sd, mn = (sd.split(',') + [''])[:2] if sd not in ('', '-') else ('', '')
    sd = float(sd) if sd else None
    mn = float(mn) if mn else None
    if unit in ('s', 'info-s'):
        if v < 1:
            return (f'{v * 1000:.1f} ms' + (f' ± {sd * 1000:.1f}' if sd is not None else '')
                    + (f' (min {mn * 1000:.1f})' if mn is not None else ''))
        return (f'{v:.3f} s' + (f' ± {sd:.3f}' if sd is not None else '')
                + (f' (min {mn:.3f})' if mn is not None else ''))
    if unit == 'MiB':
        return f'{v / 1024:.1f} MiB'  # values are KiB
    return f'{v:g} {unit}'


def table(rows_path, md_out=None):
    header = ['Measure', 'p2p-share', 'Peer tool', 'Peer figure', 'Ratio', 'Target', 'Met']
    out = []
    for line in open(rows_path):
        if not line.strip():
            continue
        f = line.rstrip('\n').split('\t')
        measure, p2p, p2p_sd, peer_label, peer, peer_sd, unit, target = f
        ratio = None
        if p2p not in ('', '-') and peer not in ('', '-') and float(peer) > 0:
            ratio = float(p2p) / float(peer)
        met = '-'
        if target.startswith('<=') and target.endswith('x') and ratio is not None:
            met = 'yes' if ratio <= float(target[2:-1]) else 'NO'
        elif target.startswith('<') and target.endswith('ms') and p2p not in ('', '-'):
            met = 'yes' if float(p2p) * 1000 < float(target[1:-2]) else 'NO'
        if target.endswith('x'):
            target = target[:-1] + '×'
        out.append([measure, _fmt(p2p, p2p_sd, unit), peer_label or '-', _fmt(peer, peer_sd, unit),
                    (f'{ratio:.2f}×' if ratio >= 0.1 else f'{ratio:.3f}×') if ratio is not None else '-', target or '-', met])
    widths = [max(len(r[i]) for r in [header] + out) for i in range(len(header))]
    line = lambda r: '  '.join(c.ljust(w) for c, w in zip(r, widths))
    print(line(header))
    print(line(['-' * w for w in widths]))
    for r in out:
        print(line(r))
    if md_out:
        with open(md_out, 'a') as f:
            f.write('| ' + ' | '.join(header) + ' |\n')
            f.write('|' + '|'.join('---' for _ in header) + '|\n')
            for r in out:
                f.write('| ' + ' | '.join(c.replace('|', '\\|') for c in r) + ' |\n')


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    cmd, arg = argv[1], argv[2]
    if cmd == 'infohash':
        print(infohash(arg))
    elif cmd == 'hf':
        print(hf(arg))
    elif cmd == 'timelog':
        print(timelog(arg))
    elif cmd == 'table':
        md = argv[4] if len(argv) > 4 and argv[3] == '--md' else None
        table(arg, md)
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main(sys.argv)
