"""The exceptions raised by the age implementation.

Decryption has one failure type, :class:`DecryptionError`, whatever went wrong: a malformed
header (C2SP age, "Header"), no matching identity, a bad header MAC or a payload chunk that
fails to authenticate (C2SP age, "Payload"). Callers that serve files map it to one generic
message; the text of the exception is meant for logs and never contains key material.
"""

from __future__ import annotations


class DecryptionError(Exception):
    """The input is not an age file this process can authenticate and decrypt."""


class HeaderError(DecryptionError):
    """The textual header does not follow the age v1 grammar or its limits."""


class EncryptionError(Exception):
    """An encrypting writer failed earlier, so its output is incomplete and it is unusable."""
