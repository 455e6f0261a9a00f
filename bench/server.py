"""Running a server under test: a free loopback port, start, readiness, and a clean stop.

Nothing here is specific to one server; :mod:`bench.targets` says how to launch each one.
Only processes started here are ever signalled: the master by its pid, then, if it had to be
killed, whichever of its own workers outlived it (matched by pid *and* start time).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import ssl
import subprocess
import time
import typing as t
from dataclasses import dataclass

from . import procs

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

LOOPBACK = "127.0.0.1"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


class ServerError(RuntimeError):
    """The server under test did not start or did not answer as expected."""


@dataclass(frozen=True)
class ServerSpec:
    """How to run one server: its command, environment, and where it answers when ready.

    :ivar cafile: the certificate the server presents, trusted for the readiness probe.
    """

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    port: int
    health_path: str
    cafile: Path
    log_path: Path
    forks_workers: bool = True


class RunningServer:
    """A started server: its master process and its base URL."""

    def __init__(self, spec: ServerSpec, process: subprocess.Popen[bytes]) -> None:
        self.spec = spec
        self.process = process
        self.base_url = f"https://{LOOPBACK}:{spec.port}"

    @property
    def pid(self) -> int:
        """The master process's pid."""
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The master's current children (gunicorn's or nginx's workers)."""
        return procs.children(self.pid)

    def process_tree(self) -> list[int]:
        """The master and everything below it: what the server costs in CPU and memory."""
        return procs.descendants(self.pid) if self.process.poll() is None else []

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's combined stdout/stderr, for error messages."""
        try:
            return "\n".join(self.spec.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _healthy(server: RunningServer, context: ssl.SSLContext) -> bool:
    connection = http.client.HTTPSConnection(LOOPBACK, server.spec.port, timeout=2, context=context)
    try:
        connection.request("GET", server.spec.health_path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def wait_ready(server: RunningServer, timeout: float = READY_TIMEOUT) -> None:
    """Poll the health URL until it answers 200, verifying the server's own certificate.

    :raises ServerError: if the server exits or is not ready within ``timeout`` seconds.
    """
    context = ssl.create_default_context(cafile=server.spec.cafile)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(
                f"{server.spec.name} exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        if _healthy(server, context):
            return
        time.sleep(0.2)
    raise ServerError(f"{server.spec.name} not ready after {timeout:.0f} s:\n{server.log_tail()}")


def wait_settled(server: RunningServer, quiet: float = 1.0, timeout: float = READY_TIMEOUT) -> None:
    """Wait until the master has had the same workers for ``quiet`` seconds.

    A server answers as soon as its first worker is up; the others fork a moment later, and
    a measurement that began before them would miss them.

    :raises ServerError: if the workers keep changing for ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    workers, since = server.worker_pids(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = server.worker_pids()
        if now != workers:
            workers, since = now, time.monotonic()
        elif workers and time.monotonic() - since >= quiet:
            return
    raise ServerError(f"{server.spec.name} workers still changing after {timeout:.0f} s")


def stop(server: RunningServer) -> None:
    """SIGTERM the master and wait; SIGKILL it, and any worker it left, after 10 s."""
    workers = {pid: procs.start_time(pid) for pid in server.worker_pids()}
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(STOP_TIMEOUT)
        return
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(STOP_TIMEOUT)
    for pid, started in workers.items():
        if started is not None and procs.start_time(pid) == started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def launch(spec: ServerSpec) -> Iterator[RunningServer]:
    """Start the server of ``spec``, wait until it is ready, and stop it on exit."""
    with spec.log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - argv built by bench.targets, no shell
            spec.argv, cwd=spec.cwd, env=spec.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    server = RunningServer(spec, process)
    try:
        wait_ready(server)
        if spec.forks_workers:
            wait_settled(server)
        yield server
    finally:
        stop(server)
