"""Gunicorn settings for secureserver: TLS on, gthread workers, secrets from certs/.

The deployment values can be overridden from the environment (``BIND``, ``WEB_CONCURRENCY``,
``GUNICORN_THREADS``, ``SECURESERVER_CERTFILE``, ``SECURESERVER_KEYFILE``) so that
``make run``, the tests and the systemd unit share this one file.
"""

import atexit
import contextlib
import ctypes
import os
import shutil
import tempfile
from pathlib import Path

# Prometheus counters live in each worker process; their files in this private folder let a
# scrape add them all up. prometheus_client picks its mode when first imported, so this must
# come before anything imports secureserver. The master removes the folder when it exits,
# also when the app refuses to start.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="secureserver-metrics-")
    _METRICS_MASTER = os.getpid()

    def _remove_metrics_dir(path: str) -> None:
        # Workers inherit this handler and run it too when they exit (gunicorn ends them with
        # sys.exit(), on every reload or restart): only the master may remove the folder.
        if os.getpid() == _METRICS_MASTER:
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(_remove_metrics_dir, os.environ["PROMETHEUS_MULTIPROC_DIR"])

from secureserver import deadlines
from secureserver.tls import INTERMEDIATE_CIPHERS
from secureserver.tls import harden_server_context


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Let glibc's allocator keep at most ``arenas`` heaps (it defaults to 8 per core).

    Every thread that moves a transfer gets its own heap otherwise, and each keeps the
    megabytes of buffers it once held: a worker that served a 1 GiB transfer stayed at
    62 MiB instead of 53, with the same throughput. Same effect as MALLOC_ARENA_MAX=2,
    set here because it must apply to the threads the workers start later.
    """
    m_arena_max = -8  # from glibc's malloc.h
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(m_arena_max, arenas)


_limit_malloc_arenas()

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
# A gthread worker spends one thread on every connection from its first byte to the end of
# its response, however slowly the client sends. 32 threads per worker (64 on two cores) let
# dozens of stalled clients be cut off by the deadlines below while others are served; an
# idle thread costs a few KiB, a busy one about 2 MiB of transfer buffers.
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
# Each connection is a file descriptor, and the usual per-process limit is 1024: past it
# accept() fails and the worker dies. Connections over this wait in the listen backlog.
worker_connections = 512
# Load the app once in the master: a missing or unsafe identity stops the server with one
# clear message instead of a crash loop of workers.
preload_app = True
timeout = 60
graceful_timeout = 30
# Seconds an idle kept-alive connection is kept, in the poller (it holds no thread there).
# Gunicorn also waits this long, once, for the first bytes of a new connection.
keepalive = 5

# Gunicorn has no handshake, header or body timeout of its own: deadlines.py adds them at the
# TLS socket (see its docstring), with mod_reqtimeout-like values for a home server.
SLOW_CLIENT_LIMITS = deadlines.Limits(
    handshake=10.0,  # a whole TLS handshake
    header=15.0,  # a whole request head, from its first byte
    idle=30.0,  # silence in the middle of a body or while the client should read the response
    body_window=10.0,  # a body must bring min_body_rate per second over each such stretch
    min_body_rate=1024,
)
SLOW_CLIENT_SOCKET = deadlines.socket_class(SLOW_CLIENT_LIMITS)

# A header spelled with underscores (Transfer_Encoding) would be dropped silently: refuse the
# request instead (400), so that no proxy in front can read it differently.
header_map = "refuse"

# Never believe X-Forwarded-* headers unless an admin says which proxy sends them.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")

# Gunicorn's runtime control socket is a management surface this server does not use.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")


def ssl_context(config, default_ssl_context_factory):
    """Gunicorn hook: the default context (cert, key, ciphers) with our TLS policy on top,
    whose sockets enforce the slow-client deadlines."""
    context = harden_server_context(default_ssl_context_factory())
    context.sslsocket_class = SLOW_CLIENT_SOCKET
    return context


def pre_request(worker, req):
    """Gunicorn hook: the request head is in; the body and response deadlines start."""
    worker.log.debug("%s %s", req.method, req.path)
    deadlines.request_started(req)


def post_request(worker, req, environ, resp):
    """Gunicorn hook: the response is out; the next request head gets its own deadline."""
    deadlines.request_finished(req)


def child_exit(server, worker):
    """Gunicorn hook: a worker's gauges die with it (its counters stay in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
