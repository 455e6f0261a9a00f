"""The HTTP stack is at or above the releases that fixed its known advisories, and stays there.

The server's request framing is gunicorn's and its URL and header handling Werkzeug's; a
downgrade would silently reopen request smuggling or multipart denial of service, which no
other test would notice. Both what is installed and what ``setup.cfg`` allows are checked.
"""

from __future__ import annotations

import configparser
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

SETUP_CFG = Path(__file__).resolve().parent.parent / "setup.cfg"

# package: the advisories, each with the first release that fixed it.
FIXED_IN = {
    "gunicorn": {
        "CVE-2024-1135 request smuggling (conflicting Transfer-Encoding)": "22.0.0",
        "CVE-2024-6827 request smuggling (TE.CL fallback)": "23.0.0",
        "CVE-2026-134820/134821 ASGI parser smuggling and memory exhaustion": "27.0.0",
    },
    "werkzeug": {
        "CVE-2023-46136 multipart CR/LF denial of service": "3.0.1",
        "CVE-2024-34069 debugger remote code execution": "3.0.3",
        "CVE-2024-49767 multipart resource exhaustion": "3.0.6",
        "GHSA-hgf8-39gv-g3f2 safe_join Windows device names": "3.1.4",
        "CVE-2026-21860 (GHSA-87hc-h4r5-73f7) safe_join device names with extensions": "3.1.5",
        "GHSA-29vq-49wr-vm6x safe_join device names in multi-segment paths": "3.1.6",
    },
}
MINIMUM = {package: max(map(Version, fixes.values())) for package, fixes in FIXED_IN.items()}


@pytest.mark.parametrize("package", sorted(FIXED_IN))
def test_installed_version_has_every_fix(package: str) -> None:
    installed = Version(version(package))
    missing = [name for name, fixed in FIXED_IN[package].items() if installed < Version(fixed)]
    assert missing == [], f"{package} {installed} lacks the fixes for {missing}"


def _install_requires() -> dict[str, Requirement]:
    parser = configparser.ConfigParser()
    parser.read(SETUP_CFG, encoding="utf-8")
    lines = parser["options"]["install_requires"].strip().splitlines()
    requirements = [Requirement(line) for line in lines if line.strip()]
    return {requirement.name.lower(): requirement for requirement in requirements}


@pytest.mark.parametrize("package", sorted(FIXED_IN))
def test_setup_cfg_refuses_every_vulnerable_version(package: str) -> None:
    requirement = _install_requires()[package]
    lower_bounds = [
        Version(spec.version)
        for spec in requirement.specifier
        if spec.operator in (">=", ">", "==", "~=")
    ]
    assert lower_bounds, f"{requirement} has no lower bound"
    assert max(lower_bounds) >= MINIMUM[package], (
        f"setup.cfg allows {requirement}; require {package}>={MINIMUM[package]}"
    )
