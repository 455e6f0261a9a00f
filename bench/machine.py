"""The machine and software a result was measured on, so that results can be compared fairly."""

from __future__ import annotations

import os
import platform
import ssl
import typing as t
from importlib import metadata
from pathlib import Path

from cryptography.hazmat.backends.openssl import backend

from . import curl

PACKAGES = ("cryptography", "gunicorn", "flask", "werkzeug")
# The CPU features that decide how fast ChaCha20-Poly1305 and AES-GCM (TLS) run.
SIMD_FLAGS = ("sse4_1", "avx", "avx2", "avx512f", "avx512vl", "aes", "vaes", "pclmulqdq")


def _cpuinfo(key: str) -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.split(":", 1)[0].strip() == key:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _cpu_features() -> list[str]:
    flags = set((_cpuinfo("flags") or "").split())
    return [flag for flag in SIMD_FLAGS if flag in flags]


def _memory_total_mib() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def describe() -> dict[str, t.Any]:
    """CPU, cores, memory, kernel, and the versions of everything on the data path.

    Python's ``ssl`` (the server's TLS) and cryptography's OpenSSL (the age encryption) may
    be different libraries, so both are recorded.
    """
    return {
        "cpu_model": _cpuinfo("model name") or platform.processor() or "unknown",
        "cpu_features": _cpu_features(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_mib": _memory_total_mib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "openssl_ssl_module": ssl.OPENSSL_VERSION,
        "openssl_cryptography": backend.openssl_version_text(),
        "curl": curl.version(),
        **{name: metadata.version(name) for name in PACKAGES},
    }
