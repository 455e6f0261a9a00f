"""The factory: configuration layers in their documented order, and the instance folder."""

from __future__ import annotations

import stat
import typing as t

import pytest

from secureserver import create_app
from secureserver.config import DEFAULTS
from secureserver.config import PROJECT_ROOT
from secureserver.config import resolve_instance_path

if t.TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SECURESERVER_INSTANCE_PATH",
        "STATE_DIRECTORY",
        "SECURESERVER_MAX_FILES_PER_REQUEST",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_apply(tmp_path: Path) -> None:
    app = create_app(instance_path=tmp_path)
    assert app.config["MAX_CONTENT_LENGTH"] == DEFAULTS["MAX_CONTENT_LENGTH"]
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_layers_override_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.py").write_text("MAX_FILES_PER_REQUEST = 7\nMAX_FORM_PARTS = 70\n")
    assert create_app(instance_path=tmp_path).config["MAX_FILES_PER_REQUEST"] == 7

    monkeypatch.setenv("SECURESERVER_MAX_FILES_PER_REQUEST", "8")
    app = create_app(instance_path=tmp_path)
    assert app.config["MAX_FILES_PER_REQUEST"] == 8
    assert app.config["MAX_FORM_PARTS"] == 70

    app = create_app({"MAX_FILES_PER_REQUEST": 9}, instance_path=tmp_path)
    assert app.config["MAX_FILES_PER_REQUEST"] == 9


def test_instance_path_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_instance_path() == PROJECT_ROOT / "instance"
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path}/state:{tmp_path}/other")
    assert resolve_instance_path() == tmp_path / "state"
    monkeypatch.setenv("SECURESERVER_INSTANCE_PATH", str(tmp_path / "env"))
    assert resolve_instance_path() == tmp_path / "env"
    assert resolve_instance_path(tmp_path / "explicit") == tmp_path / "explicit"


def test_factory_needs_no_identity(tmp_path: Path) -> None:
    app = create_app(instance_path=tmp_path / "fresh")
    assert app.test_client().get("/healthz").status_code == 503
    assert not (tmp_path / "fresh" / "identity.txt").exists()


def test_secret_key_is_persisted_owner_only(tmp_path: Path) -> None:
    first = create_app(instance_path=tmp_path).config["SECRET_KEY"]
    second = create_app(instance_path=tmp_path).config["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_templates_come_from_the_top_level_folder(tmp_path: Path) -> None:
    app = create_app(instance_path=tmp_path)
    assert app.jinja_loader is not None
    assert app.template_folder == PROJECT_ROOT / "templates"
