"""secureserver: self-hosted file sharing where every stored file is an age-encrypted blob.

:func:`create_app` is the application factory: it reads like a table of contents of the
application, and builds nothing that needs the server's key, so ``flask --app secureserver
keygen`` can run it before any key exists.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

from flask import Flask

from . import access
from . import cli
from . import csrf
from . import errors
from . import events
from . import metrics
from . import security
from . import services
from .blueprints import AnyNameConverter
from .blueprints import FileIdConverter
from .blueprints import download
from .blueprints import health
from .blueprints import listing
from .blueprints import upload
from .config import PROJECT_ROOT
from .config import load_config
from .config import resolve_instance_path
from .config_rules import check_config
from .keyfiles import load_or_create_token
from .presenters import human_size

if t.TYPE_CHECKING:
    from collections.abc import Mapping

SECRET_KEY_FILE = "secret_key"


def create_app(
    test_config: Mapping[str, t.Any] | None = None,
    *,
    instance_path: str | os.PathLike[str] | None = None,
) -> Flask:
    """Build the application.

    :param test_config: settings applied last, over every other layer (see ``config``).
    :param instance_path: the folder for identity, database and blobs; by default chosen
        by :func:`~secureserver.config.resolve_instance_path`.
    """
    app = Flask(
        __name__,
        template_folder=PROJECT_ROOT / "templates",
        instance_path=str(resolve_instance_path(instance_path)),
        instance_relative_config=True,
    )
    load_config(app, test_config)
    check_config(app.config)
    _prepare_instance_folder(app)
    events.init_app(app)
    services.init_app(app)
    security.init_app(app)
    access.init_app(app)
    csrf.init_app(app)
    errors.register_error_handlers(app)
    metrics.init_app(app)
    app.url_map.converters["file_id"] = FileIdConverter
    app.url_map.converters["any_name"] = AnyNameConverter
    app.register_blueprint(upload.bp)
    app.register_blueprint(download.bp)
    app.register_blueprint(listing.bp)
    app.register_blueprint(health.bp)
    app.add_template_filter(human_size)
    cli.register(app)
    return app


def _prepare_instance_folder(app: Flask) -> None:
    """Create the instance folder (owner-only) and the persisted session secret."""
    instance = Path(app.instance_path)
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_token(instance / SECRET_KEY_FILE)
