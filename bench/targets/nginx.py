"""nginx (Debian) as the "what the hardware allows" reference: static files over TLS, and
uploads with WebDAV's PUT, which writes the body to a temporary file and renames it.

The configuration is generated into a scratch folder and nginx runs in the foreground from
there (``-p prefix -c conf``), with Debian's defaults where the benchmark does not care: one
worker per core, ``sendfile on`` (used for plain HTTP; with TLS nginx reads and encrypts).
"""

from __future__ import annotations

import os
import typing as t

from ..curl import Transfer
from ..peers import nginx_version
from ..server import ServerSpec
from ..server import free_port
from . import PUT
from . import FolderTarget

if t.TYPE_CHECKING:
    from pathlib import Path

CONFIG = """\
{user}worker_processes auto;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    types {{ application/octet-stream bin; }}
    default_type application/octet-stream;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    client_max_body_size 0;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        root {root};
        dav_methods PUT DELETE;
        dav_access user:rw;
        location = /healthz {{ return 200 "ok"; }}
    }}
}}
"""


class Nginx(FolderTarget):
    """nginx serving one folder, PUT through WebDAV."""

    name = "nginx"
    methods = (PUT,)

    def __init__(self, spec: ServerSpec, folder: Path, binary: str) -> None:
        super().__init__(spec, folder)
        self._binary = binary

    def upload(self, method: str, path: Path, name: str, response: Path | None) -> Transfer:
        return Transfer(f"{self.base_url}/{name}", (("upload-file", str(path)),), response)

    def versions(self) -> dict[str, str]:
        return {"nginx": nginx_version(self._binary)}


def prepare(workdir: Path, binary: str, certs: Path) -> Nginx:
    """Write a configuration serving ``workdir/files``; describe how to run nginx with it."""
    folder = workdir / "files"
    folder.mkdir(parents=True)
    port = free_port()
    config = workdir / "nginx.conf"
    # Started as root, nginx would run its workers as "nobody", who may not enter the private
    # scratch folder; the workers of this throwaway loopback server run as whoever started it.
    user = "user root;\n" if os.geteuid() == 0 else ""
    cert, key = certs / "cert.pem", certs / "key.pem"
    text = CONFIG.format(user=user, prefix=workdir, port=port, root=folder, cert=cert, key=key)
    config.write_text(text)
    spec = ServerSpec(
        name="nginx",
        argv=[binary, "-p", str(workdir), "-c", str(config)],
        env={"PATH": "/usr/sbin:/usr/bin:/bin"},
        cwd=workdir,
        port=port,
        health_path="/healthz",
        cafile=certs / "ca.pem",
        log_path=workdir / "server.log",
    )
    return Nginx(spec, folder, binary)
