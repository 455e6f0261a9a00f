"""What each setting may be, checked once at start-up with a message that says how to fix it.

A wrong value (a typo in ``instance/config.py``, a string where a number belongs in an
environment variable) must stop the server before it serves, not surface as a 500 later.
"""

from __future__ import annotations

import typing as t

from limits import parse as parse_rate_limit

from .crypto import InvalidKeyError
from .crypto import X25519Recipient

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Mapping

KiB = 1024
MiB = 1024 * KiB


class ConfigError(Exception):
    """One or more settings have values the server cannot use."""


def _integer(minimum: int, maximum: int | None = None) -> Callable[[t.Any], str | None]:
    def check(value: t.Any) -> str | None:
        # bool is an int in Python, and True is never a sensible byte count.
        if not isinstance(value, int) or isinstance(value, bool):
            return f"must be an integer, not {type(value).__name__} {value!r}"
        if value < minimum or (maximum is not None and value > maximum):
            upper = "" if maximum is None else f" and at most {maximum}"
            return f"must be at least {minimum}{upper}, not {value}"
        return None

    return check


def _rate_limit(value: t.Any) -> str | None:
    try:
        parse_rate_limit(value)
    except (ValueError, TypeError):
        return f"must be a rate such as '10 per minute', not {value!r}"
    return None


def _optional_path(value: t.Any) -> str | None:
    if value is None or (isinstance(value, str) and value):
        return None
    return f"must be a file path or unset, not {value!r}"


def _recipients(value: t.Any) -> str | None:
    if not isinstance(value, list | tuple):
        return f'must be a list of age recipients such as ["age1..."], not {value!r}'
    for entry in value:
        try:
            X25519Recipient.parse(entry)
        except (InvalidKeyError, TypeError, AttributeError):
            return f"holds {str(entry)[:12]!r}…, which is not an X25519 age recipient (age1…)"
    return None


def _boolean(value: t.Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, not {value!r}"


RULES: dict[str, Callable[[t.Any], str | None]] = {
    "MAX_CONTENT_LENGTH": _integer(1),
    "MAX_FORM_MEMORY_SIZE": _integer(1),
    "MAX_FORM_PARTS": _integer(1),
    "MAX_FILES_PER_REQUEST": _integer(1),
    "STORAGE_RESERVE_BYTES": _integer(0),
    "UPLOAD_READ_SIZE": _integer(64 * KiB, 64 * MiB),
    "PROXY_COUNT": _integer(0, 10),
    "AUTH_FAILURE_LIMIT": _rate_limit,
    "IDENTITY_FILE": _optional_path,
    "RECOVERY_RECIPIENTS": _recipients,
    "METRICS": _boolean,
}


def check_config(config: Mapping[str, t.Any]) -> None:
    """Check every setting that has a rule.

    :raises ConfigError: listing every wrong value, each with its name.
    """
    problems = [
        f"{name} {problem}"
        for name, rule in RULES.items()
        if (problem := rule(config.get(name))) is not None
    ]
    if problems:
        raise ConfigError("invalid settings:\n  " + "\n  ".join(problems))
