"""The raw limits of this machine, next to which the servers' numbers are read.

- ``openssl speed``: ChaCha20-Poly1305 (age's cipher) and AES-256-GCM (the TLS 1.3 suite
  curl and Python agree on) on 64 KiB blocks, in OpenSSL's own C loop;
- SHA-256 with :mod:`hashlib` on 1 MiB pieces, as the upload path hashes;
- the disk: 64 KiB writes into a new file, then ``fsync``, as a blob is written.

(The service's and the bare AEAD's rates from Python are in :mod:`bench.crypto`; a bare TLS
stream in Python is the ``python-tls`` target of the transfers.)
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
import typing as t

from .payload import random_piece
from .stats import Summary
from .stats import mb_per_s

if t.TYPE_CHECKING:
    from pathlib import Path

OPENSSL_CIPHERS = ("chacha20-poly1305", "aes-256-gcm")
OPENSSL_SECONDS = 2
WRITE_SIZE = 64 * 1024 + 16  # one sealed age chunk
_SPEED_LINE = re.compile(r"^(\S+)\s+([\d.]+)k\s*$")


def openssl_speed(cipher: str, seconds: int = OPENSSL_SECONDS) -> float | None:
    """MB/s of ``openssl speed -evp cipher`` on 64 KiB blocks; None if openssl cannot say."""
    argv = ["openssl", "speed", "-evp", cipher, "-bytes", "65536", "-seconds", str(seconds)]
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv, capture_output=True, timeout=seconds * 10 + 30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in done.stdout.decode(errors="replace").splitlines():
        match = _SPEED_LINE.match(line.strip())
        if match:
            return float(match[2]) * 1000 / 1e6
    return None


def time_sha256(size: int, piece: bytes) -> float:
    """Seconds for hashlib's SHA-256 over ``size`` bytes, fed ``piece`` at a time."""
    digest = hashlib.sha256()
    start = time.perf_counter()
    for _ in range(size // len(piece)):
        digest.update(piece)
    return time.perf_counter() - start


def time_disk(path: Path, size: int, piece: bytes) -> tuple[float, float]:
    """Seconds to write ``size`` bytes to a new file in sealed-chunk writes, then to fsync it."""
    chunk = piece[:WRITE_SIZE]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        start = time.perf_counter()
        for _ in range(size // len(chunk)):
            os.write(fd, chunk)
        written = time.perf_counter()
        os.fsync(fd)
        synced = time.perf_counter()
    finally:
        os.close(fd)
        path.unlink()
    return written - start, synced - written


def measure_limits(size: int, runs: int, workdir: Path) -> dict[str, Summary]:
    """MB/s of every raw limit, ``runs`` times each, interleaved."""
    piece = random_piece()
    speeds: dict[str, list[float]] = {}
    for _ in range(runs):
        for cipher in OPENSSL_CIPHERS:
            speed = openssl_speed(cipher)
            if speed is not None:
                speeds.setdefault(f"openssl {cipher}", []).append(speed)
        speeds.setdefault("hashlib sha256", []).append(mb_per_s(size, time_sha256(size, piece)))
        write_s, sync_s = time_disk(workdir / "disk.tmp", size, piece)
        speeds.setdefault("disk write (page cache)", []).append(mb_per_s(size, write_s))
        speeds.setdefault("disk write + fsync", []).append(mb_per_s(size, write_s + sync_s))
    return {name: Summary.of(values) for name, values in speeds.items()}
