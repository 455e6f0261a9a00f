"""The WSGI entry point that gunicorn serves as ``wsgi:app``.

Unlike the CLI, the server needs the identity: it refuses to start, with one clear message,
when the identity file is missing, malformed or readable by other users.
"""

from secureserver import create_app
from secureserver.services import get_services
from secureserver.vault import IdentityError

app = create_app()

try:
    get_services(app).vault.identities()
except IdentityError as error:
    raise SystemExit(f"secureserver cannot start: {error}") from None
