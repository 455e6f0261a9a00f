"""``GET /metrics`` in Prometheus text format: traffic, transfers, errors, latency, storage.

Off by default (``METRICS = False``): the counters say how the server is used. When on,
the endpoint is behind the access password like everything else, so a scraper sends it as
HTTP Basic. Under gunicorn the workers are separate processes; ``gunicorn.conf.py`` points
``PROMETHEUS_MULTIPROC_DIR`` at a private folder before any worker starts, and the scrape
adds up every worker's numbers.
"""

from __future__ import annotations

import os
import time
import typing as t

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import g
from flask import request
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import REGISTRY
from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Histogram
from prometheus_client import generate_latest
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily

from .errors import NotFound
from .services import get_repository

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from flask import Flask

bp = Blueprint("metrics", __name__)

# prometheus_client chose per-process files or plain memory when it was imported, just now.
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ

BYTES_IN = Counter("secureserver_bytes_in_total", "Plaintext bytes received in uploads")
BYTES_OUT = Counter("secureserver_bytes_out_total", "Plaintext bytes sent in downloads")
UPLOADS = Counter("secureserver_uploads_total", "Files stored")
DOWNLOADS = Counter("secureserver_downloads_total", "Downloads started")
DELETES = Counter("secureserver_deletes_total", "Files deleted")
ERRORS = Counter("secureserver_errors_total", "Responses with an error status", ["status"])
LATENCY = Histogram(
    "secureserver_request_seconds",
    "Time to the response headers, by endpoint",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


class _StorageCollector:
    """Storage numbers, read from the current app's repository at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = get_repository().stats()
        yield GaugeMetricFamily("secureserver_stored_files", "Files stored", value=stats.files)
        yield GaugeMetricFamily(
            "secureserver_stored_bytes", "Plaintext bytes stored", value=stats.bytes
        )
        yield GaugeMetricFamily(
            "secureserver_free_bytes", "Free bytes on the storage disk", value=stats.free_bytes
        )


def init_app(app: Flask) -> None:
    """Time and count every request; serve ``/metrics`` when ``METRICS`` is on."""
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    if "metrics_started" in g:
        LATENCY.labels(request.endpoint or "none").observe(time.perf_counter() - g.metrics_started)
    if response.status_code >= 400:
        ERRORS.labels(str(response.status_code)).inc()
    return response


@bp.get("/metrics")
def scrape() -> Response:
    """Every worker's counters, plus storage gauges, in Prometheus text format."""
    if not current_app.config["METRICS"]:
        raise NotFound("metrics are off (set METRICS = True)")
    registry = REGISTRY
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    storage = CollectorRegistry()
    storage.register(_StorageCollector())
    return Response(
        generate_latest(registry) + generate_latest(storage), mimetype=CONTENT_TYPE_LATEST
    )
