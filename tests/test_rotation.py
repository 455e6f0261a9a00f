"""Key rotation: every file moves to a new identity, the server serving all along."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
import typing as t

import pytest

from secureserver import create_app
from secureserver.cli.identity_file import identity_file_text
from secureserver.crypto import X25519Identity
from secureserver.crypto import parse_identity_file
from secureserver.keyfiles import replace_private_file
from secureserver.rotation import rewrap_all
from secureserver.services import get_services

from .conftest import TEST_CONFIG
from .live_server import PROJECT_ROOT

if t.TYPE_CHECKING:
    from pathlib import Path

    from flask import Flask
    from flask.testing import FlaskClient

    from .live_server import LiveServer


def _age_decrypts(key: X25519Identity, blob: Path, tmp_path: Path) -> bytes | None:
    key_file = tmp_path / f"key-{os.urandom(4).hex()}.txt"
    key_file.write_text(f"{key}\n")
    result = subprocess.run(
        ["age", "-d", "-i", str(key_file), str(blob)], capture_output=True, timeout=30
    )
    return result.stdout if result.returncode == 0 else None


def _upload_some(client: FlaskClient, count: int = 4) -> dict[str, bytes]:
    files = {}
    for i in range(count):
        data = os.urandom(70_000 * i + 5)
        response = client.put(f"/upload/file-{i}.bin", data=data)
        files[response.json["files"][0]["id"]] = data
    return files


def _identities(app: Flask) -> list[X25519Identity]:
    return parse_identity_file((get_services(app).vault.identity_path).read_text())


def test_rotation_moves_every_file_and_retires_the_old_key(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    files = _upload_some(client)
    (old,) = _identities(app)
    result = app.test_cli_runner().invoke(args=["rotate-key"])
    assert result.exit_code == 0, result.output
    assert "4 re-wrapped" in result.output
    (new,) = _identities(app)
    assert new.recipient != old.recipient
    retired = list(get_services(app).vault.identity_path.parent.glob("identity-retired-*.txt"))
    assert [parse_identity_file(p.read_text())[0].recipient for p in retired] == [old.recipient]

    storage = get_services(app).vault.identity_path.parent / "storage"
    for file_id, data in files.items():
        with client.get(f"/download/{file_id}") as response:
            assert response.data == data
        blob = storage / f"{file_id}.age"
        assert _age_decrypts(new, blob, tmp_path) == data
        assert _age_decrypts(old, blob, tmp_path) is None
    # Metadata was resealed: with only the new key loaded, every name still opens.
    names = {f["name"] for f in client.get("/api/files").json["files"]}
    assert names == {f"file-{i}.bin" for i in range(4)}


def test_interrupted_rotation_resumes(app: Flask, client: FlaskClient) -> None:
    files = _upload_some(client)
    vault = get_services(app).vault
    (old,) = vault.identities()
    new = X25519Identity.generate()
    # What an interrupted run leaves: both keys, some files not yet moved.
    replace_private_file(vault.identity_path, identity_file_text([new, old]))
    result = app.test_cli_runner().invoke(args=["rotate-key"])
    assert result.exit_code == 0, result.output
    assert "resuming the rotation" in result.output
    assert [i.recipient for i in _identities(app)] == [new.recipient]
    # Running it again rotates once more, from a clean state.
    again = app.test_cli_runner().invoke(args=["rotate-key"])
    assert again.exit_code == 0
    for file_id, data in files.items():
        with client.get(f"/download/{file_id}") as response:
            assert response.data == data


def test_rewrap_only_adds_a_new_recovery_recipient(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    before = create_app(TEST_CONFIG, instance_path=instance)
    assert before.test_cli_runner().invoke(args=["keygen"]).exit_code == 0
    files = _upload_some(before.test_client(), 2)
    recovery = X25519Identity.generate()
    after = create_app(
        {**TEST_CONFIG, "RECOVERY_RECIPIENTS": [str(recovery.recipient)]}, instance_path=instance
    )
    result = after.test_cli_runner().invoke(args=["rotate-key", "--rewrap-only"])
    assert result.exit_code == 0, result.output
    assert "2 re-wrapped" in result.output
    for file_id, data in files.items():
        assert _age_decrypts(recovery, instance / "storage" / f"{file_id}.age", tmp_path) == data


def test_rotation_report_counts_vanished_files(app: Flask, client: FlaskClient) -> None:
    files = _upload_some(client, 2)
    vault, repository = get_services(app).vault, get_services(app).repository
    (old,) = vault.identities()
    replace_private_file(vault.identity_path, identity_file_text([X25519Identity.generate(), old]))
    first = next(iter(files))

    def delete_first(record: object) -> None:
        # Deleted while the rotation runs: the next file's turn finds it gone.
        if repository.count() == 2:
            repository.delete(first)

    report = rewrap_all(vault, repository, on_file=delete_first)
    assert report.rewrapped + report.vanished == 2


@pytest.mark.e2e
def test_rotation_under_concurrent_downloads(
    live_server_factory: t.Callable[..., LiveServer],
) -> None:
    server = live_server_factory()
    session = server.session()
    files = {}
    for i in range(6):
        data = os.urandom(300_000 + i)
        created = session.put(server.url(f"/upload/r{i}.bin"), data=data, timeout=30)
        files[created.json()["files"][0]["download_url"]] = hashlib.sha256(data).hexdigest()

    failures: list[str] = []
    downloads = 0
    stop = threading.Event()

    def download_loop() -> None:
        nonlocal downloads
        client = server.session()
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            for url, digest in files.items():
                response = client.get(server.url(url), timeout=30)
                if (
                    response.status_code != 200
                    or hashlib.sha256(response.content).hexdigest() != digest
                ):
                    failures.append(f"{url}: {response.status_code}")
                downloads += 1

    threads = [threading.Thread(target=download_loop) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        rotation = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "secureserver", "rotate-key"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "SECURESERVER_INSTANCE_PATH": str(server.instance_path)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        time.sleep(0.5)  # a few more downloads with only the new key
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert rotation.returncode == 0, rotation.stderr
    assert "6 re-wrapped" in rotation.stdout
    assert failures == []
    assert downloads > len(files)
    identities = parse_identity_file((server.instance_path / "identity.txt").read_text())
    assert len(identities) == 1
    for url, digest in files.items():
        body = session.get(server.url(url), timeout=30).content
        assert hashlib.sha256(body).hexdigest() == digest
