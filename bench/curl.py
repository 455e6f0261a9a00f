"""Transfers with the curl command line tool, timed by curl itself.

curl is the client because it is fast (C, OpenSSL) and is what users type, so its numbers
are those a user would see. It runs as HTTP/1.1 with ``-k`` and its default TLS (1.3), and
reports its own speeds and times through ``--write-out '%{json}'``; the wall time around the
process is kept too.
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

if t.TYPE_CHECKING:
    from pathlib import Path

# Slower than this means something is broken, not slow: give up rather than hang.
MIN_SPEED = 2_000_000
BASE_TIMEOUT = 60.0
_TLS_LINE = re.compile(r"SSL connection using (\S+) / (\S+)")


class CurlError(RuntimeError):
    """curl failed, or the server answered with an unexpected status."""


@dataclass(frozen=True)
class CurlResult:
    """One finished transfer.

    :ivar speed_upload: bytes/s, as curl's ``%{speed_upload}`` (bytes sent / total time).
    :ivar speed_download: bytes/s, as curl's ``%{speed_download}``.
    :ivar cpu_s: CPU time curl used (user + system), from the kernel's child accounting.
    :ivar body: the response body, unless it was discarded.
    """

    status: int
    time_total: float
    wall_s: float
    cpu_s: float
    size_upload: int
    size_download: int
    speed_upload: float
    speed_download: float
    body: bytes


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


def run(args: list[str], *, expect: int, size: int = 0, body_to: Path | None = None) -> CurlResult:
    """Run one curl transfer and check its HTTP status.

    :param args: method, data and URL options (e.g. ``["-T", path, url]``).
    :param expect: the HTTP status that counts as success.
    :param size: bytes expected to move, to scale the timeout.
    :param body_to: keep the response body in this file; it is discarded otherwise.
    :raises CurlError: if curl fails, times out or gets another status.
    """
    timeout = timeout_for(size)
    argv = [
        curl_binary(), "--http1.1", "-k", "-sS", "--max-time", f"{timeout:.0f}",
        "-o", str(body_to) if body_to else "/dev/null", "-w", "%{json}", *args,
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv, capture_output=True, timeout=timeout + 10, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise CurlError(f"curl {args[-1]} did not finish in {timeout + 10:.0f} s") from e
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        raise CurlError(f"curl {args[-1]}: exit {done.returncode}: {done.stderr.decode().strip()}")
    info = json.loads(done.stdout)
    body = body_to.read_bytes() if body_to else b""
    if info["http_code"] != expect:
        raise CurlError(f"curl {args[-1]}: HTTP {info['http_code']}, not {expect}: {body[:300]!r}")
    return CurlResult(
        status=info["http_code"],
        time_total=info["time_total"],
        wall_s=wall,
        cpu_s=cpu,
        size_upload=info["size_upload"],
        size_download=info["size_download"],
        speed_upload=info["speed_upload"],
        speed_download=info["speed_download"],
        body=body,
    )


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
