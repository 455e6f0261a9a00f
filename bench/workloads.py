"""The end-to-end workloads, and one timed measurement of a workload on a server.

A workload is a shape (``clients`` curl processes, each moving ``files`` files of ``size``
bytes) and a direction. Uploads of a shape are followed by downloads of the very files they
stored, then everything is deleted, untimed, so that storage is the same at every run.
The 1 GiB download fetches a file staged once per server. Each measurement records the wall
time, every request's status, the CPU time of the server's processes and of curl, and the
server's memory (with a curve over time for the 1 GiB transfers).
"""

from __future__ import annotations

import sys
import time
import typing as t
from dataclasses import dataclass

from . import procs
from .curl import CurlError
from .curl import run_clients
from .memory import PeakRss
from .targets import MULTIPART
from .targets import PUT
from .targets import StoredWrong

if t.TYPE_CHECKING:
    from pathlib import Path

    from .curl import ClientRun
    from .memory import MemoryPeak
    from .server import RunningServer
    from .targets import Target

MiB = 1024 * 1024
# Before each measurement, wait up to this long for the machine to be this quiet.
QUIET_CORES = 0.25
QUIET_SAMPLE = 0.3
QUIET_WAIT_PER_MEASUREMENT = 15.0
GiB = 1024 * MiB
UP = "up"
DOWN = "down"


@dataclass(frozen=True)
class Shape:
    """``clients`` clients at once, each moving ``files`` files of ``size`` bytes in turn.

    :ivar methods: the upload methods to time, in order; ``None`` means the server's best
        (PUT where it has it, multipart otherwise).
    :ivar curve: keep the memory curve (the 1 GiB transfers, for the plots).
    """

    key: str
    label: str
    size: int
    files: int
    clients: int
    methods: tuple[str | None, ...]
    download: bool
    curve: bool = False

    @property
    def total_bytes(self) -> int:
        """Bytes the shape moves in one direction."""
        return self.size * self.files * self.clients


@dataclass(frozen=True)
class Payloads:
    """A random file of each size the shapes need, and the SHA-256 of each."""

    paths: dict[int, Path]
    sha256: dict[int, str]


@dataclass(frozen=True)
class Measurement:
    """One workload on one server in one run.

    :ivar workload: e.g. ``"1 GiB/PUT"``, ``"10 MiB x 8 clients/down"``.
    :ivar errors: requests that failed or stored something wrong; 0 is the only good value.
    """

    server: str
    workload: str
    run: int
    method: str
    size: int
    files: int
    bytes: int
    wall_s: float
    errors: int
    server_cpu_s: float
    client_cpu_s: float
    other_cpu_s: float
    memory: MemoryPeak

    @property
    def mb_per_s(self) -> float:
        """Throughput over the wall time, 1 MB = 10**6 bytes."""
        return self.bytes / self.wall_s / 1e6

    @property
    def files_per_s(self) -> float:
        """Requests (files) per second."""
        return self.files / self.wall_s

    @property
    def server_cpu_per_gib(self) -> float:
        """CPU seconds the server's processes spent per GiB moved."""
        return self.server_cpu_s / (self.bytes / GiB)


def plan(quick: bool) -> list[Shape]:
    """The shapes of the issue; small ones with ``quick``."""
    big = 64 * MiB if quick else GiB
    big_label = f"{big // MiB} MiB" if quick else "1 GiB"
    small = 20 if quick else 200
    return [
        Shape("big", big_label, big, 1, 1, (PUT, MULTIPART), download=True, curve=True),
        Shape("small", f"1 MiB x {small} seq", MiB, small, 1, (None,), download=True),
        Shape("seq10", "10 MiB seq", 10 * MiB, 8 if quick else 40, 1, (None,), download=True),
        Shape("par10", "10 MiB x 8 clients", 10 * MiB, 1 if quick else 5, 8, (None,), True),
        Shape("par16", "32 MiB x 16 clients", 4 * MiB if quick else 32 * MiB, 1, 16, (None,), True),
    ]


def _method(target: Target, wanted: str | None) -> str | None:
    if wanted is None:
        return PUT if PUT in target.methods else target.methods[0]
    return wanted if wanted in target.methods else None


def _tree_cpu(server: RunningServer) -> dict[int, float]:
    return {pid: procs.cpu_seconds(pid) for pid in server.process_tree()}


def wait_for_quiet(budget: list[float]) -> None:
    """Wait, within what is left of ``budget[0]`` seconds, until the machine's other work
    keeps less than :data:`QUIET_CORES` busy (tests, builds of other people): a measurement
    that starts during someone's test run measures their test run."""
    deadline = time.monotonic() + min(budget[0], QUIET_WAIT_PER_MEASUREMENT)
    start = time.monotonic()
    while True:
        before = procs.busy_seconds()
        time.sleep(QUIET_SAMPLE)
        if (procs.busy_seconds() - before) / QUIET_SAMPLE < QUIET_CORES:
            break
        if time.monotonic() >= deadline:
            break
    budget[0] = max(0.0, budget[0] - (time.monotonic() - start))


@dataclass(frozen=True)
class Timed:
    """What one timed batch of clients did, and what the machine did meanwhile."""

    done: ClientRun
    server_cpu_s: float
    other_cpu_s: float
    memory: MemoryPeak


def _timed(
    server: RunningServer, clients: list[list[t.Any]], size: int, curve: bool, workdir: Path
) -> Timed:
    before = _tree_cpu(server)
    busy = procs.busy_seconds()
    with PeakRss(server.process_tree, keep_curve=curve) as rss:
        done = run_clients(clients, size, workdir)
    busy = procs.busy_seconds() - busy
    after = _tree_cpu(server)
    assert rss.result is not None
    cpu = sum(value - before.get(pid, 0.0) for pid, value in after.items())
    # Everything else the machine did meanwhile: other people's work, and the benchmark's own
    # sampling (a few per cent of a core).
    other = max(0.0, busy - cpu - done.cpu_s)
    return Timed(done, cpu, other, rss.result)


class Runner:
    """Runs the shapes on the servers; :attr:`measurements` collects every result."""

    def __init__(self, payloads: Payloads, workdir: Path, quiet_budget: float = 0.0) -> None:
        self.payloads = payloads
        self.workdir = workdir
        self.measurements: list[Measurement] = []
        self.staged: dict[str, str] = {}
        # Seconds left for waiting on a quiet machine, over the whole run (a list, to share).
        self.quiet_budget = [quiet_budget]

    def stage_big(self, target: Target, shape: Shape) -> None:
        """Put the big file on the server once, for the big downloads."""
        self.staged[target.name] = target.stage(
            self.payloads.paths[shape.size], "big.bin", self.workdir
        )

    def shape(self, target: Target, server: RunningServer, shape: Shape, run: int) -> None:
        """Time every upload method of ``shape``, then its download; clean up."""
        kept: list[str] = []
        for wanted in shape.methods:
            method = _method(target, wanted)
            if method is None:
                continue
            handles = self._upload(target, server, shape, run, method)
            if shape.download and shape.files * shape.clients > 1 and not kept:
                kept = handles  # the downloads fetch these
            else:
                target.remove(handles, self.workdir)
        if not shape.download:
            return
        if shape.files * shape.clients == 1:
            kept_big = [self.staged[target.name]]
            self._download(target, server, shape, run, kept_big)
        elif kept:
            self._download(target, server, shape, run, kept)
            target.remove(kept, self.workdir)

    def _upload(
        self, target: Target, server: RunningServer, shape: Shape, run: int, method: str
    ) -> list[str]:
        path, sha = self.payloads.paths[shape.size], self.payloads.sha256[shape.size]
        names = [
            [f"{shape.key}-{run}-{client}-{number}.bin" for number in range(shape.files)]
            for client in range(shape.clients)
        ]
        responses = self.workdir / "responses"
        responses.mkdir(exist_ok=True)
        clients = [
            [target.upload(method, path, name, responses / f"{name}.out") for name in row]
            for row in names
        ]
        label = "PUT" if method == PUT else "multipart"
        workload = f"{shape.label}/{label}" if len(shape.methods) > 1 else f"{shape.label}/up"
        handles: list[str] = []
        wait_for_quiet(self.quiet_budget)
        try:
            timed = _timed(server, clients, shape.total_bytes, shape.curve, self.workdir)
        except CurlError as e:
            print(f"  {target.name} {workload}: {e}", file=sys.stderr)
            return handles
        errors = timed.done.failures(target.upload_ok)
        for name in (name for row in names for name in row):
            try:
                handles.append(target.stored(name, shape.size, sha, responses / f"{name}.out"))
            except (StoredWrong, OSError, ValueError, KeyError) as e:
                errors += 1
                print(f"  {target.name} {workload}: {e}", file=sys.stderr)
        self._record(target, shape, run, workload, label, timed, errors)
        return handles

    def _download(
        self, target: Target, server: RunningServer, shape: Shape, run: int, handles: list[str]
    ) -> None:
        per_client = [handles[i : i + shape.files] for i in range(0, len(handles), shape.files)]
        clients = [[target.download(handle) for handle in row] for row in per_client]
        workload = (
            f"{shape.label}/download" if shape.files * shape.clients == 1 else f"{shape.label}/down"
        )
        wait_for_quiet(self.quiet_budget)
        try:
            timed = _timed(server, clients, shape.total_bytes, shape.curve, self.workdir)
        except CurlError as e:
            print(f"  {target.name} {workload}: {e}", file=sys.stderr)
            return
        errors = timed.done.failures((200,)) + sum(
            1 for info in timed.done.transfers() if info.get("size_download") != shape.size
        )
        errors += shape.files * shape.clients - len(handles)  # files the uploads lost
        self._record(target, shape, run, workload, "GET", timed, errors)

    def _record(
        self, target: Target, shape: Shape, run: int, workload: str, method: str, timed: Timed,
        errors: int,
    ) -> None:  # fmt: skip
        files = shape.files * shape.clients
        measured = Measurement(
            server=target.name, workload=workload, run=run, method=method, size=shape.size,
            files=files, bytes=shape.total_bytes, wall_s=timed.done.wall_s, errors=errors,
            server_cpu_s=timed.server_cpu_s, client_cpu_s=timed.done.cpu_s,
            other_cpu_s=timed.other_cpu_s, memory=timed.memory,
        )  # fmt: skip
        self.measurements.append(measured)
        print(
            f"  {target.name:>19} {workload:<26} {measured.mb_per_s:7.1f} MB/s "
            f"{measured.files_per_s:6.1f} files/s  RSS {timed.memory.peak_process_mib:5.1f} MiB  "
            f"CPU {timed.server_cpu_s:5.2f} s  others {timed.other_cpu_s / timed.done.wall_s:4.2f} "
            f"cores  errors {errors}",
            file=sys.stderr,
        )
