"""The WSGI entry point that gunicorn serves as ``wsgi:app``.

Unlike the CLI, the server needs the identity: it refuses to start, with one clear message,
when the identity file is missing, malformed or readable by other users, and it refuses to
start in debug mode.
"""

from secureserver import create_app
from secureserver.config_rules import ConfigError
from secureserver.services import get_services
from secureserver.vault import IdentityError

try:
    app = create_app()
except ConfigError as error:
    raise SystemExit(f"secureserver cannot start: {error}") from None

if app.debug:
    # Debug mode shows internals in error pages; it has no place on a served instance.
    raise SystemExit("secureserver cannot start: debug mode is on (unset FLASK_DEBUG)")
try:
    get_services(app).vault.identities()
except IdentityError as error:
    raise SystemExit(f"secureserver cannot start: {error}") from None
