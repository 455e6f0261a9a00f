"""nginx in front (``deploy/nginx.conf``) keeps stalled clients away from gunicorn altogether."""

from __future__ import annotations

import dataclasses
import re
import shutil
import socket
import subprocess
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

from secureserver.tls import INTERMEDIATE_CIPHERS

from .live_server import PROJECT_ROOT
from .live_server import free_port
from .stalls import STALLED
from .stalls import MiB
from .stalls import Stalls
from .stalls import assert_served_in_time
from .stalls import upload_file

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

    from .live_server import LiveServer

pytestmark = pytest.mark.e2e


NGINX_CONF = PROJECT_ROOT / "deploy" / "nginx.conf"
NGINX_MAIN = """\
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 512; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/secureserver.conf;
}}
"""


@dataclass
class Nginx:
    port: int
    prefix: Path
    process: subprocess.Popen[bytes]

    def error_log(self) -> str:
        return (self.prefix / "error.log").read_text(errors="replace")


def _render(conf: str, replacements: dict[str, str]) -> str:
    """deploy/nginx.conf with the production values replaced by the test's."""
    for production, local in replacements.items():
        assert production in conf, f"{production!r} is no longer in {NGINX_CONF}"
        conf = conf.replace(production, local)
    return conf


@pytest.fixture
def nginx_in_front(
    live_server_factory: Callable[..., LiveServer], tmp_path: Path
) -> Iterator[tuple[Nginx, LiveServer]]:
    """Debian's nginx with deploy/nginx.conf, in front of a gunicorn of 2 x 8 threads."""
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if binary is None:
        pytest.fail("nginx is not installed: apt-get install nginx (make test installs it)")
    server = live_server_factory(
        env={
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "8",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            "SECURESERVER_PROXY_COUNT": "1",
        }
    )
    port, prefix, certs = free_port(), tmp_path / "nginx", server.ca_file.parent
    prefix.mkdir()
    site = _render(
        NGINX_CONF.read_text(),
        {
            "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
            "/etc/secureserver/": f"{certs}/",
            "127.0.0.1:8443": f"127.0.0.1:{server.port}",
        },
    )
    (prefix / "secureserver.conf").write_text(site)
    (prefix / "nginx.conf").write_text(NGINX_MAIN.format(prefix=prefix))
    command = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    nginx = Nginx(port, prefix, process)
    try:
        _wait_for_port(port, process)
        yield nginx, server
    finally:
        process.terminate()  # a fast shutdown, by the PID started here
        process.wait(timeout=15)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert process.poll() is None, "nginx exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("nginx did not start listening")


def test_nginx_holds_48_stalled_connections_that_gunicorn_alone_could_not(
    nginx_in_front: tuple[Nginx, LiveServer], stalls: Callable[..., Stalls]
) -> None:
    nginx, server = nginx_in_front
    proxied = dataclasses.replace(server, port=nginx.port)
    path, content = upload_file(proxied, 5 * MiB)
    # 48 stalls from one address, against 16 gunicorn threads; the client below comes from
    # another address.
    held = stalls(nginx.port, server.ca_file, source="127.0.0.2")
    for kind, count in (("silent", 8), ("hello", 8), ("head", 16), ("body", 16)):
        held.open(kind, count)
    held.start(seconds=30)
    assert len(held.sockets) == STALLED

    assert_served_in_time(proxied, path, content)
    # nginx refused the uploads over its per-address limit (429) and holds all the rest.
    uploads_allowed = 4
    assert held.open_count() == STALLED - (16 - uploads_allowed)
    # Nothing of either transfer was written to nginx's disk.
    assert "buffered to a temporary file" not in nginx.error_log()
    assert not [p for p in nginx.prefix.rglob("*") if p.is_file() and p.parent != nginx.prefix]


def test_nginx_uses_the_servers_tls_policy() -> None:
    ciphers = re.search(r"^\s*ssl_ciphers (\S+);", NGINX_CONF.read_text(), re.MULTILINE)
    assert ciphers is not None
    assert ciphers[1] == INTERMEDIATE_CIPHERS
