"""An outside view of the TLS policy: Debian's testssl.sh scans the live server.

``test_serving.py`` checks the SSL context we build; this checks what a client actually
gets on the wire: no SSLv2/SSLv3/TLS 1.0/1.1, TLS 1.2 and 1.3, and only AEAD suites with
forward secrecy. The scan stays on this machine: no DNS look-up of the target (``--nodns
none``, ``--ip``), none in testssl's probe of the local openssl (``NXCONNECT``, whose default
"invalid." goes to the resolver), and no revocation or OCSP look-ups (``--phone-out`` is off
unless given).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import typing as t

import pytest

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from .live_server import LiveServer

pytestmark = pytest.mark.e2e

SCAN_TIMEOUT_SECONDS = 90
NOT_OFFERED = ("SSLv2", "SSLv3", "TLS1", "TLS1_1")
OFFERED = ("TLS1_2", "TLS1_3")
# testssl's cipher categories (3.0 names; 3.2 renamed AVERAGE to OBSOLETED and split STRONG
# by forward secrecy): none of the weak ones may be offered.
WEAK_CATEGORIES = (
    "cipherlist_NULL",
    "cipherlist_aNULL",
    "cipherlist_EXPORT",
    "cipherlist_LOW",
    "cipherlist_3DES_IDEA",
    "cipherlist_AVERAGE",
    "cipherlist_OBSOLETED",
    "cipherlist_STRONG_NOFS",
)
AEAD_MARKERS = ("_GCM_", "_CHACHA20_POLY1305_", "_CCM")
FORWARD_SECRET_PREFIXES = ("TLS_ECDHE_", "TLS_DHE_")
WEAK_MARKERS = ("CBC", "NULL", "EXPORT", "RC4", "3DES", "_DES_", "anon")


def _testssl() -> str:
    found = shutil.which("testssl") or shutil.which("testssl.sh")
    if found is None:
        pytest.fail("testssl.sh is not installed: apt-get install testssl.sh (make test does)")
    return found


def scan(port: int, json_file: Path) -> list[dict[str, str]]:
    """Run testssl.sh against 127.0.0.1:``port``: protocols, cipher categories, and every
    cipher suite of every protocol; return its findings."""
    command = [
        _testssl(),
        "--quiet",
        "--color",
        "0",
        "--warnings",
        "batch",
        "--nodns",
        "none",
        "--ip",
        "127.0.0.1",
        "--connect-timeout",
        "10",
        "--openssl-timeout",
        "10",
        "--protocols",
        "--std",
        "--cipher-per-proto",
        "--jsonfile",
        str(json_file),
        f"127.0.0.1:{port}",
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=SCAN_TIMEOUT_SECONDS,
        check=False,
        cwd=json_file.parent,
        env={**os.environ, "NXCONNECT": "127.0.0.1:0"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    findings: list[dict[str, str]] = json.loads(json_file.read_text())
    return findings


def problems(findings: Iterable[dict[str, str]]) -> list[str]:
    """Everything in a testssl.sh report that breaks the policy, in words."""
    by_id = {f["id"]: f["finding"] for f in findings}
    found: list[str] = []
    for protocol in NOT_OFFERED:
        if not by_id.get(protocol, "").startswith("not offered"):
            found.append(f"{protocol}: {by_id.get(protocol, 'not tested')}")
    for protocol in OFFERED:
        if not by_id.get(protocol, "").startswith("offered"):
            found.append(f"{protocol}: {by_id.get(protocol, 'not tested')}")
    for category in WEAK_CATEGORIES:
        if category in by_id and not by_id[category].startswith("not offered"):
            found.append(f"{category}: {by_id[category]}")
    suites = {key: finding for key, finding in by_id.items() if key.startswith("cipher-")}
    for key, finding in suites.items():
        # "TLS 1.2   xc02b   ECDHE-ECDSA-AES128-GCM-SHA256   ECDH 253   AESGCM   128   TLS_…"
        iana = finding.split()[-1]
        protocol = key.removeprefix("cipher-").split("_x")[0]
        if not protocol.startswith(("tls1_2", "tls1_3")):
            found.append(f"{protocol} suite {iana}")
        if not any(marker in iana for marker in AEAD_MARKERS):
            found.append(f"not an AEAD: {iana}")
        if protocol == "tls1_2" and not iana.startswith(FORWARD_SECRET_PREFIXES):
            found.append(f"no forward secrecy: {iana}")
        if any(marker in iana for marker in WEAK_MARKERS):
            found.append(f"weak: {iana}")
    if not any(key.startswith("cipher-tls1_2_") for key in suites):
        found.append("no TLS 1.2 suite listed")
    if not any(key.startswith("cipher-tls1_3_") for key in suites):
        found.append("no TLS 1.3 suite listed")
    return found


def test_testssl_finds_only_modern_protocols_and_aead_forward_secret_suites(
    live_server: LiveServer, tmp_path: Path
) -> None:
    started = time.monotonic()
    findings = scan(live_server.port, tmp_path / "testssl.json")
    assert time.monotonic() - started < SCAN_TIMEOUT_SECONDS
    assert problems(findings) == []


def _finding(id_: str, finding: str) -> dict[str, str]:
    return {"id": id_, "severity": "INFO", "finding": finding}


GOOD_REPORT = [
    *(_finding(protocol, "not offered") for protocol in NOT_OFFERED),
    _finding("TLS1_2", "offered"),
    _finding("TLS1_3", "offered with final"),
    _finding("cipherlist_AVERAGE", "not offered"),
    _finding(
        "cipher-tls1_2_xc02b",
        "TLS 1.2   xc02b   ECDHE-ECDSA-AES128-GCM-SHA256     ECDH 253   AESGCM      128      "
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    ),
    _finding(
        "cipher-tls1_3_x1303",
        "TLS 1.3   x1303   TLS_CHACHA20_POLY1305_SHA256      ECDH 253   ChaCha20    256      "
        "TLS_CHACHA20_POLY1305_SHA256",
    ),
]


def test_the_report_check_accepts_a_good_report() -> None:
    assert problems(GOOD_REPORT) == []


@pytest.mark.parametrize(
    ("finding", "problem"),
    [
        (_finding("TLS1", "offered"), "TLS1: offered"),
        (_finding("TLS1_3", "not offered"), "TLS1_3: not offered"),
        (_finding("cipherlist_AVERAGE", "offered"), "cipherlist_AVERAGE: offered"),
        (
            _finding(
                "cipher-tls1_2_xc013",
                "TLS 1.2   xc013   ECDHE-RSA-AES128-SHA   ECDH 253   AES   128   "
                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            ),
            "not an AEAD: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        ),
        (
            _finding(
                "cipher-tls1_2_x9c",
                "TLS 1.2   x9c   AES128-GCM-SHA256   RSA   AESGCM   128   "
                "TLS_RSA_WITH_AES_128_GCM_SHA256",
            ),
            "no forward secrecy: TLS_RSA_WITH_AES_128_GCM_SHA256",
        ),
        (
            _finding(
                "cipher-tls1_x0a",
                "TLS 1   x0a   DES-CBC3-SHA   RSA   3DES   168   TLS_RSA_WITH_3DES_EDE_CBC_SHA",
            ),
            "tls1 suite TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        ),
    ],
)
def test_the_report_check_finds_each_weakness(finding: dict[str, str], problem: str) -> None:
    report = [f for f in GOOD_REPORT if f["id"] != finding["id"]] + [finding]
    assert problem in problems(report)
