"""PNG plots of a results file: ``python -m bench.plots RESULTS.json OUT_DIR``.

Run by :mod:`bench` with the python of a throwaway virtualenv that has matplotlib, so the
project's own virtualenv never needs it; this module imports nothing else from the bench.

- ``throughput.png``: median MB/s (bars) with min-max (whiskers) of every workload, per server;
- ``ratios.png``: our throughput over each peer's, run by run, median and min-max;
- ``rss.png``: memory over time during the big (1 GiB) transfers, per server.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt

COLOURS = ["#1f6feb", "#d29922", "#8957e5", "#2da44e", "#6e7781", "#cf222e", "#0a7d7d"]
DPI = 80


def _servers(results: dict) -> list[str]:
    return [server["name"] for server in results["servers"]]


def _workloads(results: dict) -> list[str]:
    return list(dict.fromkeys(m["workload"] for m in results["measurements"]))


def _spread(values: list[float]) -> tuple[float, float, float]:
    median = statistics.median(values)
    return median, median - min(values), max(values) - median


def throughput(results: dict, out: Path) -> None:
    """Grouped horizontal bars: one group per workload, one bar per server."""
    servers, workloads = _servers(results), _workloads(results)
    speeds: dict[tuple[str, str], list[float]] = defaultdict(list)
    for m in results["measurements"]:
        speeds[m["server"], m["workload"]].append(m["mb_per_s"])
    height = 0.8 / len(servers)
    fig, ax = plt.subplots(figsize=(9, 0.22 * len(workloads) * len(servers) + 1.5))
    for index, server in enumerate(servers):
        rows = [
            (i, _spread(speeds[server, w])) for i, w in enumerate(workloads) if speeds[server, w]
        ]
        if not rows:
            continue
        y = [i + index * height for i, _ in rows]
        medians = [s[0] for _, s in rows]
        errors = [[s[1] for _, s in rows], [s[2] for _, s in rows]]
        ax.barh(y, medians, height, xerr=errors, label=server, color=COLOURS[index % len(COLOURS)])
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(workloads))], workloads)
    ax.invert_yaxis()
    ax.set_xlabel("MB/s (median; whiskers: min-max over the runs)")
    ax.set_title("Throughput per workload, HTTPS on loopback")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(out / "throughput.png", dpi=DPI)
    plt.close(fig)


def ratios(results: dict, out: Path) -> None:
    """Our throughput over each peer's on the same workload, run by run."""
    ours = results["ours"]
    peers = [s["name"] for s in results["servers"] if s["name"] != ours and not s["reference"]]
    workloads = _workloads(results)
    by_run: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for m in results["measurements"]:
        by_run[m["server"], m["workload"]][m["run"]] = m["mb_per_s"]
    height = 0.8 / max(1, len(peers))
    fig, ax = plt.subplots(figsize=(9, 0.25 * len(workloads) * len(peers) + 1.5))
    for index, peer in enumerate(peers):
        rows = []
        for i, workload in enumerate(workloads):
            mine, theirs = by_run[ours, workload], by_run[peer, workload]
            values = [mine[run] / theirs[run] for run in mine if theirs.get(run)]
            if values:
                rows.append((i, _spread(values)))
        if rows:
            ax.barh(
                [i + index * height for i, _ in rows], [s[0] for _, s in rows], height,
                xerr=[[s[1] for _, s in rows], [s[2] for _, s in rows]],
                label=f"÷ {peer}", color=COLOURS[(index + 1) % len(COLOURS)],
            )  # fmt: skip
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(workloads))], workloads)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ticks = [0.125, 0.25, 0.5, 1, 2, 4, 8]
    ax.set_xticks(ticks, [f"{tick:g}" for tick in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel(f"{ours} throughput ÷ peer throughput, same run (log scale; > 1: {ours} faster)")
    ax.set_title("Ratios, run by run (median; whiskers: min-max)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(out / "ratios.png", dpi=DPI)
    plt.close(fig)


def rss(results: dict, out: Path) -> None:
    """Memory over time during each big transfer, from the last run that kept a curve."""
    big = results["settings"]["big_label"]
    panels = [w for w in _workloads(results) if w.startswith(f"{big}/")]
    if not panels:
        return
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4 * len(panels), 3.6), sharey=True, squeeze=False
    )
    for ax, workload in zip(axes[0], panels, strict=True):
        for index, server in enumerate(_servers(results)):
            runs = [
                m
                for m in results["measurements"]
                if m["server"] == server and m["workload"] == workload
            ]
            runs = [m for m in runs if m["memory"]["curve"]]
            if not runs:
                continue
            curve = runs[-1]["memory"]["curve"]
            colour = COLOURS[index % len(COLOURS)]
            ax.plot(
                [p[0] for p in curve], [p[2] for p in curve], color=colour, label=f"{server} total"
            )
            ax.plot([p[0] for p in curve], [p[1] for p in curve], color=colour, linestyle=":")
        ax.set_title(workload)
        ax.set_xlabel("seconds")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("MiB")
    axes[0][-1].legend(fontsize="small")
    fig.suptitle(
        "Server memory during the big transfers, last run "
        "(solid: all processes, sum of PSS; dotted: largest process, RSS)"
    )
    fig.tight_layout()
    fig.savefig(out / "rss.png", dpi=DPI)
    plt.close(fig)


def main(argv: list[str]) -> int:
    """Draw every plot of ``argv[0]`` into the folder ``argv[1]``."""
    results = json.loads(Path(argv[0]).read_text())
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    throughput(results, out)
    ratios(results, out)
    rss(results, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
