"""Fixtures shared by the whole suite: an app on a throwaway instance folder, its clients.

As in Flask's tutorial: ``app`` builds a fresh application with its own identity in
``tmp_path``, ``client`` and ``runner`` wrap it. Tests that need a real server over TLS use
``live_server`` from ``tests/live_server.py``.
"""

from __future__ import annotations

import os
import typing as t

import pytest

from secureserver import create_app

from .live_server import LiveServer
from .live_server import prepare_instance
from .live_server import start_server
from .stalls import Stalls

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator
    from pathlib import Path

    from flask import Flask
    from flask.testing import FlaskClient
    from flask.testing import FlaskCliRunner

TEST_CONFIG = {"TESTING": True, "STORAGE_RESERVE_BYTES": 0}


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def app(instance_path: Path) -> Flask:
    app = create_app(TEST_CONFIG, instance_path=instance_path)
    result = app.test_cli_runner().invoke(args=["keygen"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[LiveServer]:
    """One real gunicorn over TLS for the whole session, on its own instance folder."""
    workdir = tmp_path_factory.mktemp("live")
    instance, certs = prepare_instance(workdir)
    server = start_server(instance, certs, workdir / "gunicorn.log")
    yield server
    server.stop()


@pytest.fixture
def live_server_factory(tmp_path: Path) -> t.Iterator[t.Callable[..., LiveServer]]:
    """Start extra servers with their own settings (``env``); all stopped after the test."""
    started: list[LiveServer] = []

    def start(env: dict[str, str] | None = None) -> LiveServer:
        workdir = tmp_path / f"server-{len(started)}"
        instance, certs = prepare_instance(workdir)
        server = start_server(instance, certs, workdir / "gunicorn.log", env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def stalls() -> Iterator[Callable[..., Stalls]]:
    """Make :class:`Stalls` (port, CA file[, source address]); all closed after the test."""
    made: list[Stalls] = []

    def make(port: int, ca_file: str | os.PathLike[str], source: str = "127.0.0.1") -> Stalls:
        made.append(Stalls(port, str(ca_file), source))
        return made[-1]

    yield make
    for group in made:
        group.close()
