"""The systemd unit in deploy/: it is valid, its sandbox scores well, and its ExecStart serves.

systemd is not PID 1 here, nor in CI, so the unit is exercised the way systemd would run it:
``systemd-analyze verify`` and ``systemd-analyze security --offline`` read the file, and the
test runs ExecStart itself, in a clean environment made of the unit's ``Environment=`` lines,
a credentials folder laid out as ``LoadCredential=`` does, a state folder as
``StateDirectory=`` does, and a notify socket as ``Type=notify`` expects. The unit's
/opt/secureserver is pointed at this checkout and its virtualenv.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import typing as t

import pytest
import requests

from secureserver import create_app

from .live_server import PROJECT_ROOT
from .live_server import free_port

if t.TYPE_CHECKING:
    from pathlib import Path

UNIT = PROJECT_ROOT / "deploy" / "secureserver.service"
PORT_443_DROP_IN = PROJECT_ROOT / "deploy" / "port-443.conf"
VARIANTS = {"unit": "", "unit with port-443.conf": PORT_443_DROP_IN.read_text()}
MAX_EXPOSURE = 2.0
TIMEOUT = 20.0
WORKERS = 2
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture
def systemd_analyze() -> str:
    """The systemd-analyze binary; missing means a broken install step, so it fails."""
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.fail("systemd-analyze is missing: `make test` installs Debian's systemd package")
    return path


def render_unit(conf_dir: Path, drop_in: str = "") -> str:
    """The unit as `make install-systemd` writes it, for this checkout and its virtualenv."""
    text = UNIT.read_text() + drop_in
    text = text.replace("/opt/secureserver/.venv/bin", os.path.dirname(sys.executable))
    return text.replace("/opt/secureserver", str(PROJECT_ROOT)).replace(
        "/etc/secureserver", str(conf_dir)
    )


def service_settings(unit: str) -> dict[str, list[str]]:
    """Every ``Key=value`` of the [Service] sections, values in order, as systemd reads them."""
    settings: dict[str, list[str]] = {}
    section = None
    for line in unit.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        assert not line.endswith("\\"), "continued lines are not supported by this test"
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def expand(value: str, credentials: Path) -> str:
    """Resolve the unit specifiers this unit uses (``%d``, ``%%``); refuse any other."""
    known = {"d": str(credentials), "%": "%"}
    return re.sub(r"%(.)", lambda m: known[m.group(1)], value)


def run_analyze(*args: str, unit_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", *args, str(unit_file)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_unit_has_the_required_sandbox() -> None:
    settings = service_settings(UNIT.read_text())
    assert settings["Type"] == ["notify"]
    assert settings["User"] == ["secureserver"]
    assert settings["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert "identity:/etc/secureserver/identity.txt" in settings["LoadCredential"]
    assert settings["StateDirectory"] == ["secureserver"]
    assert settings["CapabilityBoundingSet"] == [""]
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateUsers"):
        assert settings[key] == ["yes"], key
    assert settings["ProtectSystem"] == ["strict"]
    assert "@system-service" in settings["SystemCallFilter"]
    # Nothing points the instance folder elsewhere than $STATE_DIRECTORY.
    assert not any("SECURESERVER_INSTANCE_PATH" in value for value in settings["Environment"])


@pytest.mark.parametrize("drop_in", VARIANTS.values(), ids=VARIANTS.keys())
@pytest.mark.usefixtures("systemd_analyze")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path, drop_in: str) -> None:
    unit_file = tmp_path / "secureserver.service"
    unit_file.write_text(render_unit(tmp_path, drop_in))
    result = run_analyze("verify", "--man=no", unit_file=unit_file)
    ours = [line for line in result.stderr.splitlines() if "secureserver" in line]
    assert result.returncode == 0, result.stderr
    assert not ours, result.stderr


@pytest.mark.parametrize("drop_in", VARIANTS.values(), ids=VARIANTS.keys())
@pytest.mark.usefixtures("systemd_analyze")
def test_sandbox_exposure_is_low(tmp_path: Path, drop_in: str) -> None:
    unit_file = tmp_path / "secureserver.service"
    unit_file.write_text(render_unit(tmp_path, drop_in))
    result = run_analyze("security", "--offline=true", "--no-pager", unit_file=unit_file)
    found = re.search(
        r"Overall exposure level for secureserver\.service: (\d+\.\d+)", result.stdout
    )
    assert found, result.stdout + result.stderr
    assert float(found.group(1)) < MAX_EXPOSURE, result.stdout


def worker_pids(master: int) -> set[int]:
    """The children of ``master``, read from /proc."""
    children = set()
    for stat_file in os.scandir("/proc"):
        if stat_file.name.isdigit():
            try:
                with open(f"/proc/{stat_file.name}/stat") as stat:
                    # The parent pid is the second field after the parenthesised command.
                    parent = int(stat.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == master:
                children.add(int(stat_file.name))
    return children


def healthz(port: int, ca_file: Path) -> int:
    """GET /healthz on a fresh connection, so that no keep-alive pins an old worker."""
    with requests.Session() as session:
        session.trust_env = False
        response = session.get(
            f"https://127.0.0.1:{port}/healthz",
            verify=str(ca_file),
            headers={"Connection": "close"},
            timeout=5,
        )
        return response.status_code


def wait_for(condition: t.Callable[[], bool], what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn exited with {process.returncode}"
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def wait_for_ready(notify: socket.socket, process: subprocess.Popen[bytes]) -> None:
    """Read the notify socket as systemd does until the service says READY=1."""
    deadline = time.monotonic() + TIMEOUT
    notify.settimeout(0.2)
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn exited with {process.returncode}"
        try:
            if "READY=1" in notify.recv(4096).decode().splitlines():
                return
        except TimeoutError:
            continue
    raise AssertionError("the service never sent READY=1")


def make_secrets(conf_dir: Path, scratch: Path) -> None:
    """What `make install-systemd` puts in /etc/secureserver: identity, certificate, key."""
    app = create_app({"IDENTITY_FILE": str(conf_dir / "identity.txt")}, instance_path=scratch)
    runner = app.test_cli_runner()
    for args in (["keygen"], ["gen-cert", "--out-dir", str(conf_dir)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output


def load_credentials(settings: dict[str, list[str]], credentials: Path) -> None:
    """Copy each ``LoadCredential=id:path`` to ``credentials/id``, read-only, as systemd does."""
    credentials.mkdir(mode=0o700)
    for entry in settings["LoadCredential"]:
        name, _, source = entry.partition(":")
        shutil.copyfile(source, credentials / name)
        (credentials / name).chmod(0o400)
    credentials.chmod(0o500)


@pytest.mark.e2e
def test_exec_start_serves_reloads_and_stops(tmp_path: Path) -> None:
    conf_dir, credentials, state = tmp_path / "etc", tmp_path / "credentials", tmp_path / "state"
    conf_dir.mkdir(mode=0o700)
    state.mkdir(mode=0o700)
    make_secrets(conf_dir, tmp_path / "scratch")
    settings = service_settings(render_unit(conf_dir))
    load_credentials(settings, credentials)
    port = free_port()
    environment = {
        "PATH": SYSTEMD_PATH,
        "LANG": "C.UTF-8",
        "CREDENTIALS_DIRECTORY": str(credentials),
        "STATE_DIRECTORY": str(state),
        "NOTIFY_SOCKET": str(tmp_path / "notify"),
    }
    for line in settings["Environment"]:
        for assignment in shlex.split(expand(line, credentials)):
            key, _, value = assignment.partition("=")
            environment[key] = value
    environment.update(BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(WORKERS), GUNICORN_THREADS="2")
    [exec_start] = settings["ExecStart"]
    [working_directory] = settings["WorkingDirectory"]
    log_file = tmp_path / "service.log"
    with (
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify,
        log_file.open("wb") as log,
    ):
        notify.bind(environment["NOTIFY_SOCKET"])
        process = subprocess.Popen(
            shlex.split(expand(exec_start, credentials)),
            cwd=working_directory,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_ready(notify, process)
            assert healthz(port, conf_dir / "ca.pem") == 200
            # The instance folder is systemd's StateDirectory.
            assert any(state.iterdir())

            # systemctl reload: a new set of workers, the same master, still serving.
            wait_for(lambda: len(worker_pids(process.pid)) == WORKERS, "workers", process)
            old_workers = worker_pids(process.pid)

            def replaced() -> bool:
                workers = worker_pids(process.pid)
                return len(workers) == WORKERS and workers.isdisjoint(old_workers)

            process.send_signal(signal.SIGHUP)
            wait_for(replaced, "new workers after SIGHUP", process)
            assert healthz(port, conf_dir / "ca.pem") == 200

            # systemctl stop: SIGTERM to the master, a clean exit.
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=TIMEOUT) == 0
        except BaseException:
            print(log_file.read_text(errors="replace"))
            raise
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=5)
            credentials.chmod(0o700)
