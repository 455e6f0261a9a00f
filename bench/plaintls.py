"""A bare HTTPS file sink and source on Python's ``ssl``: the raw limit of one TLS stream.

``python -m bench.plaintls --port P --cert C --key K --folder D`` answers, on 127.0.0.1:

- ``PUT /<name>``: reads the body into one reused buffer and throws it away (no disk);
- ``GET /<name>``: sends ``D/<name>`` from one reused buffer;
- anything else: 200 with an empty body (the readiness probe).

No framework, no copies beyond the TLS layer's, no hashing, encryption or disk writes: what
a Python server could reach at best on this machine, next to which secureserver's numbers
show what the rest of its work costs. One thread per connection; keep-alive is honoured.
"""

from __future__ import annotations

import argparse
import socket
import ssl
import threading
import typing as t
from pathlib import Path

BUFFER_SIZE = 1024 * 1024
MAX_HEADER = 64 * 1024


def _read_head(conn: ssl.SSLSocket, rest: bytes) -> tuple[bytes, bytes] | None:
    while b"\r\n\r\n" not in rest:
        if len(rest) > MAX_HEADER:
            return None
        more = conn.recv(65536)
        if not more:
            return None
        rest += more
    head, _, rest = rest.partition(b"\r\n\r\n")
    return head, rest


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _serve(conn: ssl.SSLSocket, folder: Path) -> None:
    buffer = bytearray(BUFFER_SIZE)
    view = memoryview(buffer)
    rest = b""
    while (parsed := _read_head(conn, rest)) is not None:
        head, rest = parsed
        method, path = head.split(b" ", 2)[:2]
        if method == b"PUT":
            remaining = _content_length(head) - len(rest)
            rest = b""
            while remaining > 0:
                received = conn.recv_into(view, min(remaining, BUFFER_SIZE))
                if not received:
                    return
                remaining -= received
            conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
            continue
        file = folder / path.decode().lstrip("/")
        if method != b"GET" or not path.strip(b"/") or not file.is_file():
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            continue
        size = file.stat().st_size
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        with file.open("rb", buffering=0) as source:
            while count := source.readinto(view):
                conn.sendall(view[:count])


def _handle(raw: socket.socket, context: ssl.SSLContext, folder: Path) -> None:
    try:
        with context.wrap_socket(raw, server_side=True) as conn:
            _serve(conn, folder)
    except (OSError, ValueError):
        pass  # a client that went away


def main(argv: t.Sequence[str] | None = None) -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser(prog="python -m bench.plaintls", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args(argv)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)
    with socket.create_server(("127.0.0.1", args.port)) as listener:
        while True:
            raw, _ = listener.accept()
            threading.Thread(target=_handle, args=(raw, context, args.folder), daemon=True).start()


if __name__ == "__main__":
    main()
