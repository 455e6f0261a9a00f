"""Gunicorn settings for secureserver: TLS on, gthread workers, secrets from certs/.

Every value can be overridden from the environment (``BIND``, ``WEB_CONCURRENCY``,
``GUNICORN_THREADS``, ``SECURESERVER_CERTFILE``, ``SECURESERVER_KEYFILE``) so that
``make run``, the tests and the systemd unit share this one file.
"""

import os
from pathlib import Path

from secureserver.tls import INTERMEDIATE_CIPHERS
from secureserver.tls import harden_server_context

ROOT = Path(__file__).resolve().parent

wsgi_app = "wsgi:app"
bind = [os.environ.get("BIND", "127.0.0.1:8443")]
certfile = os.environ.get("SECURESERVER_CERTFILE", str(ROOT / "certs" / "cert.pem"))
keyfile = os.environ.get("SECURESERVER_KEYFILE", str(ROOT / "certs" / "key.pem"))
ciphers = INTERMEDIATE_CIPHERS

# One process per core keeps the CPU-bound encryption parallel despite the GIL; threads
# let a worker serve several slow transfers at once.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, os.cpu_count() or 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Load the app once in the master: a missing or unsafe identity stops the server with one
# clear message instead of a crash loop of workers.
preload_app = True
timeout = 60
graceful_timeout = 30
keepalive = 5

# Never believe X-Forwarded-* headers unless an admin says which proxy sends them.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")

# Gunicorn's runtime control socket is a management surface this server does not use.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")


def ssl_context(config, default_ssl_context_factory):
    """Gunicorn hook: the default context (cert, key, ciphers) with our TLS policy on top."""
    return harden_server_context(default_ssl_context_factory())
