"""Showing the numbers: a table on the terminal, and JSON plus Markdown in ``bench/results/``.

The JSON keeps everything (every run, the machine, the settings) for later comparison and
plots; the table and the Markdown show the medians with their spread, next to the targets.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import asdict
from dataclasses import dataclass

from .crypto import TARGET_RATIO
from .stats import Summary

if t.TYPE_CHECKING:
    from pathlib import Path

    from .crypto import CryptoResult
    from .transfers import Workload

TARGET_RSS_MIB = 100.0
HEADER = ["", "measurement", "median", "min", "max", "unit", "note"]
UNITS_NOTE = (
    "MB = 10^6 bytes. Transfer speeds are curl's own (bytes / total transfer time); the "
    "wall rows divide by the time around the curl process. CPU is in cores kept busy "
    "(CPU seconds / wall seconds); peak RSS is the largest worker's."
)


@dataclass(frozen=True)
class Results:
    """Everything one run of the benchmark found out."""

    started_at: str
    settings: dict[str, t.Any]
    machine: dict[str, t.Any]
    crypto: CryptoResult | None
    server: dict[str, t.Any] | None
    transfers: list[Workload]


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    group: str
    name: str
    summary: Summary
    unit: str
    note: str


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _crypto_rows(crypto: CryptoResult) -> list[Row]:
    rows = []
    for name, summary in crypto.mb_per_s.items():
        note = "baseline" if name in crypto.baselines.values() else ""
        if name == "file read only":
            note = "seek + read per 64 KiB chunk, page cache, no crypto"
        if name.startswith("service "):
            ratio = crypto.ratios[name.removeprefix("service ")]
            note = f"{ratio:.2f} x raw, target >= {TARGET_RATIO}: {_verdict(ratio >= TARGET_RATIO)}"
        rows.append(Row("crypto", name, summary, "MB/s", note))
    return rows


def _transfer_rows(workload: Workload) -> list[Row]:
    rss = workload.peak_rss()
    rss_note = f"max worker, target < {TARGET_RSS_MIB:.0f}: {_verdict(rss.max < TARGET_RSS_MIB)}"
    return [
        Row("e2e", workload.name, workload.speed(), "MB/s", workload.speed_source),
        Row("e2e", f"{workload.name}, wall", workload.wall_speed(), "MB/s", "incl. curl start"),
        Row("e2e", f"{workload.name}, server CPU", workload.server_cores(), "cores", "workers"),
        Row("e2e", f"{workload.name}, curl CPU", workload.client_cores(), "cores", "client"),
        Row("e2e", f"{workload.name}, peak RSS", rss, "MiB", rss_note),
    ]


def rows(results: Results) -> list[Row]:
    """The table's rows: crypto first, then each end-to-end workload."""
    found = _crypto_rows(results.crypto) if results.crypto else []
    for workload in results.transfers:
        found.extend(_transfer_rows(workload))
    return found


def _title(results: Results) -> str:
    settings, machine = results.settings, results.machine
    return (
        f"secureserver benchmark, {settings['size_mib']} MiB x {settings['runs']} run(s), "
        f"{machine['cores']} x {machine['cpu_model']}"
    )


def _cells(row: Row) -> list[str]:
    s = row.summary
    digits = 2 if row.unit == "cores" else 1
    numbers = [f"{value:.{digits}f}" for value in (s.median, s.min, s.max)]
    return [row.group, row.name, *numbers, row.unit, row.note]


def text_table(results: Results) -> str:
    """A fixed-width table for the terminal."""
    lines = [HEADER, *(_cells(row) for row in rows(results))]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    numeric = {2, 3, 4}
    out = [_title(results)]
    if results.server:
        out.append(f"server: {results.server['workers']} workers, TLS {results.server['tls']}")
    for line in lines:
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def markdown(results: Results) -> str:
    """The same table in Markdown, with the machine below it."""
    out = [f"# {_title(results)}", "", f"Started {results.started_at}. {UNITS_NOTE}", ""]
    if results.server:
        out += [f"Server: {results.server['workers']} workers, TLS {results.server['tls']}.", ""]
    out += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    out += ["| " + " | ".join(_cells(row)) + " |" for row in rows(results)]
    out += ["", "## Machine", ""]
    out += [f"- {key}: {value}" for key, value in results.machine.items()]
    return "\n".join(out) + "\n"


def _crypto_json(crypto: CryptoResult) -> dict[str, t.Any]:
    return {
        "size": crypto.size,
        "mb_per_s": {name: s.as_dict() for name, s in crypto.mb_per_s.items()},
        "baselines": crypto.baselines,
        "ratio_to_raw": crypto.ratios,
        "target_ratio": TARGET_RATIO,
    }


def _workload_json(workload: Workload) -> dict[str, t.Any]:
    return {
        "name": workload.name,
        "size": workload.size,
        "speed_source": workload.speed_source,
        "mb_per_s": workload.speed().as_dict(),
        "wall_mb_per_s": workload.wall_speed().as_dict(),
        "server_cores": workload.server_cores().as_dict(),
        "client_cores": workload.client_cores().as_dict(),
        "peak_rss_mib": workload.peak_rss().as_dict(),
        "target_rss_mib": TARGET_RSS_MIB,
        "runs": [
            {**asdict(run), "memory": {**asdict(run.memory), "peak_mib": run.memory.peak_mib}}
            for run in workload.runs
        ],
    }


def as_json(results: Results) -> dict[str, t.Any]:
    """Every measurement and run, JSON-ready."""
    return {
        "started_at": results.started_at,
        "settings": results.settings,
        "machine": results.machine,
        "crypto": _crypto_json(results.crypto) if results.crypto else None,
        "server": results.server,
        "transfers": [_workload_json(workload) for workload in results.transfers],
    }


def write(results: Results, directory: Path) -> tuple[Path, Path]:
    """Write ``<stamp>.json`` and ``<stamp>.md`` into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = results.started_at.replace(":", "").replace("-", "")
    json_path = directory / f"bench-{stamp}.json"
    md_path = directory / f"bench-{stamp}.md"
    json_path.write_text(json.dumps(as_json(results), indent=2) + "\n")
    md_path.write_text(markdown(results))
    return json_path, md_path
