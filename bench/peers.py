"""Installing the peers at bench time: PyPI packages into throwaway virtualenvs, nginx from
Debian.

Nothing of theirs is vendored. The virtualenvs live in ``bench/results/venvs/`` (ignored by
git, like all results) and are reused from one run to the next; ``--fresh-venvs`` or
deleting the folder starts them over. Each peer gets its own, so none can pull in another's
dependencies; the plots get one too, so matplotlib never enters the project's own virtualenv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

PIP_TIMEOUT = 600
APT_TIMEOUT = 900
_APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


class PeerSetupError(RuntimeError):
    """A peer could not be installed."""


def virtualenv(directory: Path, packages: list[str], fresh: bool = False) -> Path:
    """Return the python of a virtualenv at ``directory`` holding ``packages``, making it if
    needed (a marker file records what was installed, so a changed list reinstalls).

    :raises PeerSetupError: if pip fails.
    """
    marker = directory / ".bench-packages"
    wanted = "\n".join(sorted(packages))
    if fresh and directory.exists():
        shutil.rmtree(directory)
    if marker.exists() and marker.read_text() == wanted:
        return directory / "bin" / "python"
    print(f"installing {' '.join(packages)} into {directory}", file=sys.stderr)
    venv.create(directory, with_pip=True, clear=True)
    python = directory / "bin" / "python"
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages],
        capture_output=True,
        timeout=PIP_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise PeerSetupError(f"pip install {' '.join(packages)}: {done.stderr.decode()[-2000:]}")
    marker.write_text(wanted)
    return python


def package_version(python: Path, package: str) -> str:
    """The installed version of ``package`` in the virtualenv of ``python``."""
    code = f"from importlib.metadata import version; print(version({package!r}))"
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [str(python), "-c", code], capture_output=True, timeout=60, check=False
    )
    return done.stdout.decode().strip() or "unknown"


def nginx_binary() -> str:
    """Debian's nginx, installed with apt-get when missing (as root).

    Services never start on install here: the benchmark runs nginx itself, in the foreground,
    with a configuration of its own.

    :raises PeerSetupError: if nginx is missing and cannot be installed.
    """
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found:
        return found
    if os.geteuid() != 0:
        raise PeerSetupError("nginx is not installed; run `make bench-deps` as root")
    print("installing Debian's nginx", file=sys.stderr)
    for argv in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "nginx"]):
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv, env=_APT_ENV, capture_output=True, timeout=APT_TIMEOUT, check=False
        )
        if done.returncode != 0:
            raise PeerSetupError(f"{' '.join(argv)}: {done.stderr.decode()[-2000:]}")
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if not found:
        raise PeerSetupError("apt-get installed nginx, but there is no nginx binary")
    return found


def nginx_version(binary: str) -> str:
    """``nginx/1.22.1``, as ``nginx -v`` prints it."""
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [binary, "-v"], capture_output=True, timeout=60, check=False
    )
    return done.stderr.decode().strip().removeprefix("nginx version: ") or "unknown"
