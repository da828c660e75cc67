#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/plot.py - PNG charts from `atx bench --json` output.

Run as `atx bench plot RESULTS.json... [-o DIR]` (or directly under
/usr/bin/python3; needs Debian's python3-matplotlib).  Writes into DIR
(default: the first JSON file's directory):

  throughput_vs_block_size.png  GB/s against block size, one line per
                                workload and engine, the baseline dashed
  throughput_vs_queue_depth.png GB/s against queue depth (mb vs soft)
  latency_vs_queue_depth.png    p50 and p99 chain latency against depth
  ratio_to_baseline.png         atx / hand-written baseline, every configuration

Only verified configurations are drawn.  Prints the files it wrote.
"""
import argparse
import json
import os
import sys
from collections import defaultdict

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.stderr.write("atx: bench plot: matplotlib is missing (Debian: apt-get install python3-matplotlib)\n")
    sys.exit(2)

DPI = 80


def load(paths):
    rows = []
    for p in paths:
        try:
            with open(p) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            sys.stderr.write("atx: bench plot: %s: %s\n" % (p, e))
            sys.exit(2)
        if isinstance(data, dict):
            data = data.get("results", [])
        if not isinstance(data, list):
            sys.stderr.write("atx: bench plot: %s: not a list of results\n" % p)
            sys.exit(2)
        for r in data:
            if isinstance(r, dict) and r.get("verified") and "gbps" in r:
                rows.append(r)
    return rows


def size_label(n):
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return "%dM" % (n >> 20)
    if n >= 1024 and n % 1024 == 0:
        return "%dK" % (n >> 10)
    return str(n)


def series(rows, xkey, fixed):
    """Group rows into lines over xkey: one per (workload, engine, fixed value)."""
    groups = defaultdict(dict)
    for r in rows:
        groups[(r["workload"], r["engine"], r[fixed])][r[xkey]] = r
    return {k: v for k, v in groups.items() if len(v) >= 2}


def int_ticks(ax, lines):
    xs = sorted({x for pts in lines.values() for x in pts})
    ax.set_xticks(xs)
    ax.set_xticklabels([str(x) for x in xs])


def save(fig, out, name, written):
    fig.tight_layout()
    path = os.path.join(out, name)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    written.append(path)


def finish(fig, ax, out, name, written):
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    save(fig, out, name, written)


def plot_throughput_bs(rows, out, written):
    lines = series(rows, "block_size", "queue_depth")
    if not lines:
        return
    fig, ax = plt.subplots(figsize=(8, 5))
    baselines = {}
    for (wl, eng, qd), pts in sorted(lines.items()):
        xs = sorted(pts)
        p = ax.plot(xs, [pts[x]["gbps"] for x in xs], marker="o",
                    label="%s on %s (qd %d)" % (wl, eng, qd))
        # mb rows have an intel-ipsec-mb baseline, the others OpenSSL/ISA-L: one line per kind.
        base = pts[xs[0]].get("baseline", "hand-written")
        key = (wl, qd, base)
        if key not in baselines:
            baselines[key] = True
            ax.plot(xs, [pts[x]["baseline_gbps"] for x in xs], linestyle="--",
                    color=p[0].get_color(), alpha=0.6,
                    label="%s baseline: %s (qd %d)" % (wl, base, qd))
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted({x for pts in lines.values() for x in pts}))
    ax.set_xticklabels([size_label(x) for x in ax.get_xticks()])
    ax.set_xlabel("block size (bytes)")
    ax.set_ylabel("GB/s")
    ax.set_title("Throughput vs block size, per engine")
    finish(fig, ax, out, "throughput_vs_block_size.png", written)


def plot_vs_qd(rows, out, written, name, title, ylabel, draw, ylog=False):
    """A chart over queue depth, one configuration per (workload, engine, block size):
    draw(ax, xs, pts, label) plots that configuration's line(s)."""
    lines = series(rows, "queue_depth", "block_size")
    if not lines:
        return
    fig, ax = plt.subplots(figsize=(8, 5))
    for (wl, eng, bs), pts in sorted(lines.items()):
        draw(ax, sorted(pts), pts, "%s on %s (%s)" % (wl, eng, size_label(bs)))
    ax.set_xscale("log", base=2)
    int_ticks(ax, lines)
    if ylog:
        ax.set_yscale("log")
    ax.set_xlabel("queue depth (chains in flight)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    finish(fig, ax, out, name, written)


def plot_throughput_qd(rows, out, written):
    def draw(ax, xs, pts, label):
        ax.plot(xs, [pts[x]["gbps"] for x in xs], marker="o", label=label)

    plot_vs_qd(rows, out, written, "throughput_vs_queue_depth.png", "Throughput vs queue depth",
               "GB/s", draw)


def plot_latency_qd(rows, out, written):
    def draw(ax, xs, pts, label):
        p = ax.plot(xs, [pts[x]["p50_us"] for x in xs], marker="o", label=label + " p50")
        ax.plot(xs, [pts[x]["p99_us"] for x in xs], marker="x", linestyle=":",
                color=p[0].get_color())

    plot_vs_qd(rows, out, written, "latency_vs_queue_depth.png",
               "Latency vs queue depth (solid p50, dotted p99)", "chain latency (us)", draw,
               ylog=True)


def plot_ratio(rows, out, written):
    if not rows:
        return
    labels = ["%s | %s | %s qd%d" % (r["workload"], r["engine"], size_label(r["block_size"]),
                                      r["queue_depth"]) for r in rows]
    ratios = [r["ratio_to_baseline"] for r in rows]
    fig, ax = plt.subplots(figsize=(9, max(3, 0.22 * len(rows) + 1)))
    colors = ["tab:green" if x >= 1 else "tab:red" for x in ratios]
    ax.barh(range(len(rows)), [x - 1 for x in ratios], left=1, color=colors)  # from parity
    ax.axvline(1.0, color="black", linewidth=1)
    # Log scale: 0.5x and 2x are equally far from parity, and outliers do not flatten the rest.
    ax.set_xscale("log", base=2)
    lo = min(min(ratios), 0.5) / 1.3
    hi = max(max(ratios), 2.0) * 1.6
    ax.set_xlim(lo, hi)
    ticks = [2.0 ** k for k in range(-8, 8) if lo <= 2.0 ** k <= hi]
    ax.set_xticks(ticks)
    ax.set_xticklabels(["%gx" % t for t in ticks])
    for i, x in enumerate(ratios):
        ax.text(x * 1.04, i, "%.2f" % x, va="center", fontsize=6)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("atx throughput / hand-written baseline (same bytes, same run)")
    ax.set_title("Ratio to baseline")
    ax.grid(True, axis="x", alpha=0.3)
    save(fig, out, "ratio_to_baseline.png", written)


def main():
    ap = argparse.ArgumentParser(prog="atx bench plot", description="PNG charts from atx bench --json")
    ap.add_argument("json", nargs="+")
    ap.add_argument("-o", "--output", help="directory for the PNG files")
    a = ap.parse_args()
    out = a.output or os.path.dirname(os.path.abspath(a.json[0]))
    if not os.path.isdir(out):
        sys.stderr.write("atx: bench plot: %s is not a directory\n" % out)
        return 2
    rows = load(a.json)
    if not rows:
        sys.stderr.write("atx: bench plot: no verified results in %s\n" % ", ".join(a.json))
        return 2
    written = []
    plot_throughput_bs(rows, out, written)
    plot_throughput_qd(rows, out, written)
    plot_latency_qd(rows, out, written)
    plot_ratio(rows, out, written)
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
