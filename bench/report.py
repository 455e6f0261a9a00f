"""Showing the numbers: Markdown tables (printed, and saved) and a JSON file with every run.

Every figure is a median over the runs with its min and max. Every figure of our server is
also given as ratios to each peer, computed run by run (the servers of one run are measured
side by side, so a slow moment of the machine hits them alike) and then summarised, and
checked against the targets of the issue.
"""

from __future__ import annotations

import json
import math
import typing as t
from dataclasses import asdict
from dataclasses import dataclass

from .stats import Summary

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from .crypto import CryptoResult
    from .workloads import Measurement

TARGET_RSS_MIB = 100.0


@dataclass(frozen=True)
class Goal:
    """A ratio target: ``ours`` on ``workload`` over ``peer`` on ``peer_workload``."""

    label: str
    workload: str
    peer: str
    peer_workload: str
    minimum: float
    metric: str = "mb_per_s"


@dataclass(frozen=True)
class Results:
    """Everything one run of the benchmark found out."""

    started_at: str
    settings: dict[str, t.Any]
    machine: dict[str, t.Any]
    servers: list[dict[str, t.Any]]
    ours: str
    crypto: CryptoResult | None
    limits: dict[str, Summary]
    measurements: list[Measurement]

    def workloads(self) -> list[str]:
        """Workload names in the order they were run."""
        return list(dict.fromkeys(m.workload for m in self.measurements))

    def server_names(self) -> list[str]:
        """Servers in the order they were set up, ours first."""
        return [server["name"] for server in self.servers]

    def of(self, server: str, workload: str) -> list[Measurement]:
        """The runs of one workload on one server."""
        return [m for m in self.measurements if m.server == server and m.workload == workload]

    def summary(
        self, server: str, workload: str, value: Callable[[Measurement], float]
    ) -> Summary | None:
        """Median, min and max of ``value`` over the runs, or None if there were none.

        A single-file transfer that failed has no meaningful time and is left out; a
        many-file workload keeps its time (its errors are counted in their own table).
        """
        runs = [value(m) for m in self.of(server, workload) if m.errors == 0 or m.files > 1]
        return Summary.of(runs) if runs else None

    def ratio(
        self, server: str, workload: str, peer: str, peer_workload: str, metric: str = "mb_per_s"
    ) -> Summary | None:
        """Round-by-round ratios of ``server`` on ``workload`` over ``peer`` on
        ``peer_workload``, or None if no round measured both."""
        theirs = {m.run: getattr(m, metric) for m in self.of(peer, peer_workload)}
        ratios = [
            getattr(m, metric) / theirs[m.run]
            for m in self.of(server, workload)
            if theirs.get(m.run)
        ]
        return Summary.of(ratios) if ratios else None


def goals(big: str) -> list[Goal]:
    """The targets of the issue, for a run whose big file is labelled ``big``."""
    put, form, down = f"{big}/PUT", f"{big}/multipart", f"{big}/download"
    found = [
        Goal(f"{big} PUT >= 1.0x copyparty PUT", put, "copyparty", put, 1.0),
        Goal(f"{big} multipart >= 1.0x copyparty multipart", form, "copyparty", form, 1.0),
        Goal(
            f"{big} PUT >= 2.5x uploadserver (multipart, its only upload)",
            put,
            "uploadserver",
            form,
            2.5,
        ),
        Goal(f"{big} multipart >= 2.5x uploadserver multipart", form, "uploadserver", form, 2.5),
        Goal(f"{big} download >= 0.8x nginx", down, "nginx", down, 0.8),
    ]
    for workload in ("10 MiB seq", "10 MiB x 8 clients"):
        for direction in ("up", "down"):
            name = f"{workload}/{direction}"
            found.append(
                Goal(f"{name}: files/s >= copyparty", name, "copyparty", name, 1.0, "files_per_s")
            )
    return found


def _cell(summary: Summary | None, digits: int = 1) -> str:
    if summary is None:
        return "n/a"
    s = summary
    if len(s.values) == 1:
        return f"{s.median:.{digits}f}"
    return f"{s.median:.{digits}f} ({s.min:.{digits}f}-{s.max:.{digits}f})"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def goal_rows(results: Results) -> list[list[str]]:
    """One row per target: the ratio, the minimum, and whether it was met."""
    rows = []
    big = results.settings["big_label"]
    for goal in goals(big):
        ratio = results.ratio(
            results.ours, goal.workload, goal.peer, goal.peer_workload, goal.metric
        )
        verdict = "n/a" if ratio is None else ("met" if ratio.median >= goal.minimum else "MISSED")
        rows.append([goal.label, _cell(ratio, 2), f"{goal.minimum:.1f}", verdict])
    ours = [m for m in results.measurements if m.server == results.ours]
    peak = max((m.memory.peak_process_mib for m in ours), default=math.nan)
    rows.append([
        "peak RSS per worker < 100 MiB (any workload)", f"{peak:.1f} MiB", "100",
        "met" if peak < TARGET_RSS_MIB else "MISSED",
    ])  # fmt: skip
    parallel = [m for m in ours if "16 clients" in m.workload]
    errors = sum(m.errors for m in parallel)
    rows.append([
        "16 parallel clients, zero errors", f"{errors} errors in {len(parallel)} measurements", "0",
        "met" if parallel and errors == 0 else ("n/a" if not parallel else "MISSED"),
    ])  # fmt: skip
    return rows


def _per_server(
    results: Results, value: Callable[[Measurement], float], digits: int = 1
) -> list[list[str]]:
    rows = []
    for workload in results.workloads():
        cells = [
            _cell(results.summary(server, workload, value), digits)
            for server in results.server_names()
        ]
        rows.append([workload, *cells])
    return rows


def _error_rows(results: Results) -> list[list[str]]:
    rows = []
    for workload in results.workloads():
        cells = []
        for server in results.server_names():
            runs = results.of(server, workload)
            cells.append(str(sum(m.errors for m in runs)) if runs else "n/a")
        rows.append([workload, *cells])
    return rows


def _ratio_rows(results: Results) -> tuple[list[str], list[list[str]]]:
    others = [
        s["name"] for s in results.servers if s["name"] != results.ours and not s["reference"]
    ]
    rows = []
    for workload in results.workloads():
        cells = [
            _cell(results.ratio(results.ours, workload, other, workload), 2) for other in others
        ]
        rows.append([workload, *cells])
    return [f"{results.ours} ÷ {other}" for other in others], rows


def markdown(results: Results, headline_only: bool = False) -> str:
    """The report: targets, throughput, ratios, memory and CPU, raw limits, machine."""
    servers = results.server_names()
    settings = results.settings
    out = [
        f"# secureserver against its peers: {settings['runs']} run(s), "
        f"{results.machine['cores']} x {results.machine['cpu_model']}",
        "",
        f"Started {results.started_at}. Medians over the runs, (min-max) after them. "
        "MB = 10^6 bytes; throughput is bytes over the wall time of all the clients of a "
        "workload. Ratios are computed run by run, then summarised.",
        "",
        "## Targets (issue 6)",
        "",
        *_table(["target", "ratio", "at least", "verdict"], goal_rows(results)),
        "",
        "## Ratios of our throughput to each peer's, same run",
        "",
    ]
    header, rows = _ratio_rows(results)
    out += [*_table(["workload", *header], rows), ""]
    out += [
        "## Throughput, MB/s",
        "",
        *_table(["workload", *servers], _per_server(results, lambda m: m.mb_per_s)),
        "",
    ]
    out += [
        "## Requests (files) per second",
        "",
        *_table(["workload", *servers], _per_server(results, lambda m: m.files_per_s)),
        "",
    ]
    if headline_only:
        return "\n".join(out) + "\n"
    out += [
        "## Peak memory of the largest process (a worker), MiB",
        "",
        *_table(["workload", *servers], _per_server(results, lambda m: m.memory.peak_process_mib)),
        "",
        "## Peak memory of all the server's processes together (sum of PSS), MiB",
        "",
        *_table(["workload", *servers], _per_server(results, lambda m: m.memory.peak_total_mib)),
        "",
        "## Server CPU seconds per GiB moved",
        "",
        *_table(["workload", *servers], _per_server(results, lambda m: m.server_cpu_per_gib, 2)),
        "",
        "## Client (curl) CPU seconds per GiB moved",
        "",
        *_table(
            ["workload", *servers],
            _per_server(results, lambda m: m.client_cpu_s / (m.bytes / 2**30), 2),
        ),
        "",
        "## CPU cores kept busy by other processes during the measurement",
        "",
        "Everything the machine did besides the server and curl: other people's tests and "
        "builds, and the benchmark's own sampling. The run waits for a quiet machine before "
        "each measurement, within a time budget; this is what was left.",
        "",
        *_table(
            ["workload", *servers], _per_server(results, lambda m: m.other_cpu_s / m.wall_s, 2)
        ),
        "",
        "## Errors (failed requests, wrong sizes or hashes), all runs",
        "",
        *_table(["workload", *servers], _error_rows(results)),
        "",
        "## Raw limits, MB/s",
        "",
    ]
    limit_rows = [[name, _cell(summary)] for name, summary in results.limits.items()]
    if results.crypto:
        limit_rows += [[f"python {name}", _cell(s)] for name, s in results.crypto.mb_per_s.items()]
    out += [*_table(["measurement", "MB/s"], limit_rows), ""]
    out += ["## Servers", ""]
    out += [f"- {s['name']}: {s['description']}" for s in results.servers]
    out += ["", "## Machine", ""]
    out += [f"- {key}: {value}" for key, value in results.machine.items()]
    return "\n".join(out) + "\n"


def _measurement_json(m: Measurement) -> dict[str, t.Any]:
    data = asdict(m)
    data.update(
        mb_per_s=m.mb_per_s, files_per_s=m.files_per_s, server_cpu_per_gib=m.server_cpu_per_gib
    )
    return data


def as_json(results: Results) -> dict[str, t.Any]:
    """Every measurement and run, JSON-ready."""
    crypto = None
    if results.crypto:
        crypto = {
            "mb_per_s": {name: s.as_dict() for name, s in results.crypto.mb_per_s.items()},
            "baselines": results.crypto.baselines,
            "ratio_to_raw": results.crypto.ratios,
        }
    return {
        "started_at": results.started_at,
        "settings": results.settings,
        "machine": results.machine,
        "servers": results.servers,
        "ours": results.ours,
        "crypto": crypto,
        "limits": {name: s.as_dict() for name, s in results.limits.items()},
        "targets": [
            dict(zip(["target", "ratio", "at_least", "verdict"], row, strict=True))
            for row in goal_rows(results)
        ],
        "measurements": [_measurement_json(m) for m in results.measurements],
    }


def write(results: Results, directory: Path) -> tuple[Path, Path]:
    """Write ``results.json`` and ``results.md`` into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "results.json"
    md_path = directory / "results.md"
    json_path.write_text(json.dumps(as_json(results), indent=1) + "\n")
    md_path.write_text(markdown(results))
    return json_path, md_path
