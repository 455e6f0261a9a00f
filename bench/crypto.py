"""Throughput of the encryption service next to the bare AEAD it is built on.

The service (``secureserver.crypto``) adds chunking, nonces, buffering and file reads to
ChaCha20-Poly1305; the ratio of its MB/s to the bare primitive's on the same 64 KiB chunks is
the cost of that machinery, and the number to watch (target: at least 0.75). The bare
primitive is timed through both the allocating API (``encrypt``/``decrypt``) and, where
cryptography offers it, the ``*_into`` API that writes into a reused buffer; the faster of the
two is the baseline. Decryption reads a file (from the page cache) and the raw primitive does
not, so the time of that read alone is measured too.
"""

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from secureserver.crypto import CHUNK_SIZE
from secureserver.crypto import X25519Identity
from secureserver.crypto import decrypt
from secureserver.crypto import encrypt

from .payload import random_piece
from .stats import Summary
from .stats import mb_per_s

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

TAG_SIZE = 16
TARGET_RATIO = 0.75


class Discard:
    """A sink that drops ciphertext, so that encryption is timed without any I/O."""

    def write(self, data: bytes | memoryview, /) -> int:
        return len(data)


@dataclass(frozen=True)
class CryptoResult:
    """MB/s summaries of every crypto measurement, keyed by name, and the service/raw ratios.

    :ivar baselines: for ``encrypt`` and ``decrypt``, the name of the fastest raw measurement.
    :ivar ratios: for ``encrypt`` and ``decrypt``, the service's median over the baseline's.
    """

    size: int
    mb_per_s: dict[str, Summary]
    baselines: dict[str, str]
    ratios: dict[str, float]


def _nonce(counter: int) -> bytes:
    # The service's chunk nonce: counter (11 bytes, big endian) || last-chunk flag.
    return (counter << 8).to_bytes(12, "big")


def time_service_encrypt(size: int, piece: bytes) -> float:
    """Seconds to push ``size`` bytes, in ``piece``-sized writes, through ``encrypt``."""
    recipient = X25519Identity.generate().recipient
    start = time.perf_counter()
    writer = encrypt([recipient], Discard())
    for _ in range(size // len(piece)):
        writer.write(piece)
    writer.close()
    return time.perf_counter() - start


def write_age_file(path: Path, identity: X25519Identity, size: int, piece: bytes) -> None:
    """Encrypt ``size`` bytes to ``identity`` into the age file ``path``."""
    with path.open("wb") as file:
        writer = encrypt([identity.recipient], file)
        for _ in range(size // len(piece)):
            writer.write(piece)
        writer.close()


def time_service_decrypt(path: Path, identity: X25519Identity) -> float:
    """Seconds to open the age file ``path`` and iterate all of its verified chunks."""
    start = time.perf_counter()
    with path.open("rb") as source:
        for _ in decrypt([identity], source).chunks():
            pass
    return time.perf_counter() - start


def time_file_read(path: Path) -> float:
    """Seconds to read ``path`` the way the service's reader does, seek and read per sealed
    chunk, without decrypting: the part of decryption that is I/O (from the page cache)."""
    start = time.perf_counter()
    with path.open("rb") as source:
        for offset in range(0, path.stat().st_size, CHUNK_SIZE + TAG_SIZE):
            source.seek(offset)
            source.read(CHUNK_SIZE + TAG_SIZE)
    return time.perf_counter() - start


def _chunks_of(piece: bytes) -> list[memoryview]:
    view = memoryview(piece)
    return [view[i : i + CHUNK_SIZE] for i in range(0, len(piece), CHUNK_SIZE)]


def time_raw_encrypt(size: int, piece: bytes, into: bool) -> float:
    """Seconds for bare ChaCha20-Poly1305 to seal ``size`` bytes in 64 KiB chunks."""
    aead = ChaCha20Poly1305(ChaCha20Poly1305.generate_key())
    chunks = _chunks_of(piece)
    out = bytearray(CHUNK_SIZE + TAG_SIZE)
    start = time.perf_counter()
    for counter in range(size // CHUNK_SIZE):
        chunk = chunks[counter % len(chunks)]
        if into:
            aead.encrypt_into(_nonce(counter), chunk, None, out)
        else:
            aead.encrypt(_nonce(counter), chunk, None)
    return time.perf_counter() - start


def time_raw_decrypt(size: int, piece: bytes, into: bool) -> float:
    """Seconds for bare ChaCha20-Poly1305 to open ``size`` bytes in 64 KiB chunks.

    Only one piece's worth of chunks is sealed up front, so chunk ``i`` reuses the nonce of
    chunk ``i mod 16``; the nonce is still built per chunk, as the service does.
    """
    aead = ChaCha20Poly1305(ChaCha20Poly1305.generate_key())
    chunks = _chunks_of(piece)
    sealed = [aead.encrypt(_nonce(i), chunk, None) for i, chunk in enumerate(chunks)]
    out = bytearray(CHUNK_SIZE)
    start = time.perf_counter()
    for counter in range(size // CHUNK_SIZE):
        index = counter % len(sealed)
        if into:
            aead.decrypt_into(_nonce(index), sealed[index], None, out)
        else:
            aead.decrypt(_nonce(index), sealed[index], None)
    return time.perf_counter() - start


def measure_crypto(size: int, runs: int, workdir: Path) -> CryptoResult:
    """Time every crypto path ``runs`` times over ``size`` bytes, interleaving the runs.

    :param size: bytes per measurement, a multiple of 1 MiB.
    :param workdir: where the age file for the decryption runs is written, then deleted.
    """
    piece = random_piece()
    identity = X25519Identity.generate()
    age_file = workdir / "crypto.age"
    write_age_file(age_file, identity, size, piece)
    has_into = hasattr(ChaCha20Poly1305, "encrypt_into")
    timers: dict[str, Callable[[], float]] = {
        "service encrypt": lambda: time_service_encrypt(size, piece),
        "service decrypt": lambda: time_service_decrypt(age_file, identity),
        "file read only": lambda: time_file_read(age_file),
        "raw encrypt": lambda: time_raw_encrypt(size, piece, into=False),
        "raw decrypt": lambda: time_raw_decrypt(size, piece, into=False),
    }
    if has_into:
        timers["raw encrypt_into"] = lambda: time_raw_encrypt(size, piece, into=True)
        timers["raw decrypt_into"] = lambda: time_raw_decrypt(size, piece, into=True)
    speeds: dict[str, list[float]] = {name: [] for name in timers}
    try:
        for _ in range(runs):
            for name, timer in timers.items():
                speeds[name].append(mb_per_s(size, timer()))
    finally:
        age_file.unlink()
    summaries = {name: Summary.of(values) for name, values in speeds.items()}
    baselines, ratios = {}, {}
    for operation in ("encrypt", "decrypt"):
        raw = [name for name in summaries if name.startswith(f"raw {operation}")]
        baselines[operation] = max(raw, key=lambda name: summaries[name].median)
        service = summaries[f"service {operation}"].median
        ratios[operation] = service / summaries[baselines[operation]].median
    return CryptoResult(size, summaries, baselines, ratios)
