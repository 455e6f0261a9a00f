"""The end-to-end workloads: one big file uploaded (PUT and multipart) and downloaded.

Each run is one curl transfer over HTTPS, timed by curl, with the workers' peak RSS measured
around it. Every upload is checked (size and SHA-256 as the server reports them) and then
deleted, except the first PUT upload, which the download runs fetch; so the instance never
holds more than three copies.
"""

from __future__ import annotations

import sys
import typing as t
from dataclasses import dataclass

from . import curl
from . import procs
from .memory import PeakRss
from .stats import MB
from .stats import Summary
from .stats import mb_per_s
from .targets.secureserver import Api

if t.TYPE_CHECKING:
    from pathlib import Path

    from .memory import MemoryPeak
    from .server import RunningServer
    from .targets.secureserver import Uploaded


class TransferError(RuntimeError):
    """The server stored or sent something other than what was given to it."""


@dataclass(frozen=True)
class Payload:
    """The file to send, its size and SHA-256, and where upload responses go."""

    path: Path
    size: int
    sha256: str
    response: Path


@dataclass(frozen=True)
class TransferRun:
    """One timed transfer: curl's speed, the wall time around curl, CPU time, worker memory.

    :ivar server_cpu_s: CPU seconds the workers used during the transfer, all together.
    :ivar client_cpu_s: CPU seconds curl used.
    """

    curl_mb_per_s: float
    wall_s: float
    curl_time_s: float
    server_cpu_s: float
    client_cpu_s: float
    memory: MemoryPeak


@dataclass(frozen=True)
class Workload:
    """All runs of one workload."""

    name: str
    size: int
    speed_source: str
    runs: list[TransferRun]

    def speed(self) -> Summary:
        """MB/s as curl reports it."""
        return Summary.of([run.curl_mb_per_s for run in self.runs])

    def wall_speed(self) -> Summary:
        """MB/s from the wall time around the curl process (includes start-up and handshake)."""
        return Summary.of([mb_per_s(self.size, run.wall_s) for run in self.runs])

    def peak_rss(self) -> Summary:
        """Peak RSS of the largest worker, MiB."""
        return Summary.of([run.memory.peak_mib for run in self.runs])

    def server_cores(self) -> Summary:
        """CPU cores the workers kept busy: their CPU time over the wall time."""
        return Summary.of([run.server_cpu_s / run.wall_s for run in self.runs])

    def client_cores(self) -> Summary:
        """CPU cores curl kept busy."""
        return Summary.of([run.client_cpu_s / run.wall_s for run in self.runs])


def _workers_cpu(server: RunningServer) -> dict[int, float]:
    return {pid: procs.cpu_seconds(pid) for pid in server.worker_pids()}


def _timed(
    server: RunningServer,
    label: str,
    args: list[str],
    expect: int,
    size: int,
    body_to: Path | None = None,
) -> tuple[TransferRun, curl.CurlResult]:
    cpu_before = _workers_cpu(server)
    with PeakRss(server.worker_pids) as rss:
        result = curl.run(args, expect=expect, size=size, body_to=body_to)
    cpu_after = _workers_cpu(server)
    assert rss.result is not None
    speed = max(result.speed_upload, result.speed_download) / MB
    server_cpu = sum(cpu - cpu_before.get(pid, 0.0) for pid, cpu in cpu_after.items())
    measured = TransferRun(
        speed, result.wall_s, result.time_total, server_cpu, result.cpu_s, rss.result
    )
    print(
        f"  {label}: {speed:.1f} MB/s, peak RSS {rss.result.peak_mib:.1f} MiB, "
        f"CPU server {server_cpu:.2f} s, curl {result.cpu_s:.2f} s, wall {result.wall_s:.2f} s",
        file=sys.stderr,
    )
    return measured, result


def _check(api: Api, result: curl.CurlResult, payload: Payload) -> Uploaded:
    uploaded = api.uploaded(result.body)
    if uploaded.size != payload.size or uploaded.sha256 != payload.sha256:
        raise TransferError(
            f"server stored {uploaded.size} bytes with SHA-256 {uploaded.sha256}, "
            f"sent {payload.size} bytes with SHA-256 {payload.sha256}"
        )
    return uploaded


def _uploads(
    server: RunningServer, name: str, args: list[str], payload: Payload, runs: int
) -> tuple[Workload, str]:
    """Run an upload ``runs`` times; delete every stored copy but the first, whose id is
    returned for the downloads."""
    api = Api(server.base_url)
    kept = None
    done = []
    for run in range(runs):
        label = f"{name} {run + 1}/{runs}"
        measured, result = _timed(server, label, args, 201, payload.size, payload.response)
        file_id = _check(api, result, payload).file_id
        if kept is None:
            kept = file_id
        else:
            _delete(api, file_id)
        done.append(measured)
    assert kept is not None
    return Workload(name, payload.size, "curl %{speed_upload}", done), kept


def _downloads(server: RunningServer, file_id: str, payload: Payload, runs: int) -> Workload:
    api = Api(server.base_url)
    done = []
    for run in range(runs):
        label = f"download {run + 1}/{runs}"
        measured, result = _timed(server, label, [api.download_url(file_id)], 200, payload.size)
        if result.size_download != payload.size:
            raise TransferError(f"downloaded {result.size_download} bytes of {payload.size}")
        done.append(measured)
    return Workload("download", payload.size, "curl %{speed_download}", done)


def _delete(api: Api, file_id: str) -> None:
    curl.run(["-X", "DELETE", api.delete_url(file_id)], expect=204)


def measure_transfers(server: RunningServer, payload: Payload, runs: int) -> list[Workload]:
    """Upload the payload with PUT and with multipart, then download it, ``runs`` times each.

    :raises TransferError: if the server stored or sent something else.
    :raises curl.CurlError: if a transfer fails.
    """
    api = Api(server.base_url)
    path = str(payload.path)
    put, put_id = _uploads(
        server, "PUT upload", ["-T", path, api.put_url("bench.bin")], payload, runs
    )
    form_args = ["-F", f"{api.form_field}=@{path}", api.form_url()]
    form, form_id = _uploads(server, "multipart upload", form_args, payload, runs)
    _delete(api, form_id)
    try:
        download = _downloads(server, put_id, payload, runs)
    finally:
        _delete(api, put_id)
    return [put, form, download]
