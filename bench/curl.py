"""Transfers with the curl command line tool: one client process per simulated user.

curl is the client because it is fast (C, OpenSSL) and is what users type, so its numbers
are those a user would see. It runs as HTTP/1.1 with ``-k`` and its default TLS (1.3). A
client's transfers go in one curl config file, one after the other on one connection where
the server keeps it open, and curl reports each through ``--write-out '%{json}'``. Several
clients are several curl processes started together; the wall time runs from the first start
to the last exit.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field

if t.TYPE_CHECKING:
    from pathlib import Path

# Slower than this means something is broken, not slow: give up rather than hang.
MIN_SPEED = 2_000_000
BASE_TIMEOUT = 60.0
_TLS_LINE = re.compile(r"SSL connection using (\S+) / (\S+)")


class CurlError(RuntimeError):
    """curl could not run, or did not finish in time."""


@dataclass(frozen=True)
class Transfer:
    """One request: its URL, curl's long options for it, and where its body goes.

    :ivar options: e.g. ``(("upload-file", "/tmp/x"),)`` or ``(("request", "DELETE"),)``.
    :ivar output: file for the response body; ``None`` discards it.
    """

    url: str
    options: tuple[tuple[str, str], ...] = ()
    output: Path | None = None


@dataclass(frozen=True)
class ClientRun:
    """What several curl clients, started together, did.

    :ivar infos: per client, curl's ``%{json}`` report of each of its transfers, in order.
    :ivar cpu_s: CPU time all the curl processes used (user + system).
    """

    wall_s: float
    cpu_s: float
    infos: list[list[dict[str, t.Any]]] = field(repr=False)

    def transfers(self) -> list[dict[str, t.Any]]:
        """Every transfer's report, client after client."""
        return [info for client in self.infos for info in client]

    def failures(self, ok: t.Container[int]) -> int:
        """Transfers that did not finish (curl error) or got a status outside ``ok``."""
        return sum(
            1
            for info in self.transfers()
            if info.get("exitcode", 0) != 0 or info.get("http_code") not in ok
        )


def curl_binary() -> str:
    """The curl on PATH.

    :raises CurlError: if there is none.
    """
    path = shutil.which("curl")
    if path is None:
        raise CurlError("curl is not installed")
    return path


def timeout_for(size: int) -> float:
    """Seconds to allow for moving ``size`` bytes."""
    return BASE_TIMEOUT + size / MIN_SPEED


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_text(transfers: t.Sequence[Transfer], max_time: float) -> str:
    """A curl config file (``curl -K``) that makes ``transfers`` one after the other."""
    blocks = []
    for transfer in transfers:
        lines = [
            "http1.1", "insecure", "silent", "show-error",
            f"max-time = {max_time:.0f}",
            f"write-out = {_quote('%{json}' + chr(10))}",
            f"output = {_quote(str(transfer.output or '/dev/null'))}",
            # No "Expect: 100-continue": curl would wait up to 1 s for a server that does not
            # answer it (http.server's HTTP/1.0) before sending the body, timing curl, not them.
            'header = "Expect:"',
            *(f"{option} = {_quote(value)}" for option, value in transfer.options),
            f"url = {_quote(transfer.url)}",
        ]  # fmt: skip
        blocks.append("\n".join(lines))
    return "\nnext\n".join(blocks) + "\n"


def run_clients(clients: t.Sequence[t.Sequence[Transfer]], size: int, workdir: Path) -> ClientRun:
    """Start one curl per client, all at once; wait for all of them.

    :param clients: each client's transfers, made in order on one connection if possible.
    :param size: bytes all clients move together, to scale the timeout.
    :param workdir: where the config files go.
    :raises CurlError: if curl is missing or a client does not finish in time.
    """
    timeout = timeout_for(size)
    argv = []
    for number, transfers in enumerate(clients):
        config = workdir / f"curl-{number}.conf"
        config.write_text(config_text(transfers, timeout))
        argv.append([curl_binary(), "-K", str(config)])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    processes = [
        subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        for args in argv
    ]
    outputs = []
    try:
        for process in processes:
            remaining = max(1.0, timeout + 10 - (time.perf_counter() - start))
            outputs.append(process.communicate(timeout=remaining)[0])
    except subprocess.TimeoutExpired as e:
        raise CurlError(f"curl clients did not finish in {timeout + 10:.0f} s") from e
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    infos = [[json.loads(line) for line in out.decode().splitlines() if line] for out in outputs]
    return ClientRun(wall, cpu, infos)


def run_one(transfer: Transfer, size: int, workdir: Path) -> dict[str, t.Any]:
    """Make one request, untimed (setting up or cleaning up); return curl's report of it."""
    infos = run_clients([[transfer]], size, workdir).transfers()
    if len(infos) != 1:
        raise CurlError(f"curl reported {len(infos)} transfers for {transfer.url}")
    return infos[0]


def tls_session(url: str) -> str:
    """The TLS version and cipher suite curl negotiates with ``url``, e.g.
    ``TLSv1.3 / TLS_AES_256_GCM_SHA384``; ``unknown`` if curl does not say."""
    argv = [curl_binary(), "--http1.1", "-k", "-sS", "-v", "-o", "/dev/null", url]
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        argv, capture_output=True, timeout=BASE_TIMEOUT, check=False
    )
    match = _TLS_LINE.search(done.stderr.decode(errors="replace"))
    return f"{match[1]} / {match[2]}" if match else "unknown"


def version() -> str:
    """curl's version line, e.g. ``curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 ...``."""
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [curl_binary(), "--version"], capture_output=True, timeout=BASE_TIMEOUT, check=False
    )
    return done.stdout.decode(errors="replace").splitlines()[0] if done.stdout else "unknown"
