"""Admin commands: files, export, stats, verify, backup and restore, recovery recipients."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import typing as t
from pathlib import Path

import pytest

from secureserver import create_app
from secureserver.config_rules import ConfigError
from secureserver.crypto import X25519Identity

from .conftest import TEST_CONFIG

if t.TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient
    from flask.testing import FlaskCliRunner


def _upload(client: FlaskClient, name: str, data: bytes) -> str:
    response = client.put(f"/upload/{name}", data=data)
    assert response.status_code == 201
    return str(response.json["files"][0]["id"])


def _blob(app: Flask, file_id: str) -> Path:
    return Path(app.instance_path) / "storage" / f"{file_id}.age"


@pytest.fixture
def stored(client: FlaskClient) -> dict[str, bytes]:
    contents = {"alpha.txt": b"alpha" * 1000, "beta.bin": os.urandom(200_000), "gamma": b""}
    return {_upload(client, name, data): data for name, data in contents.items()}


def test_files_list_info_delete(runner: FlaskCliRunner, stored: dict[str, bytes]) -> None:
    listed = runner.invoke(args=["files", "list", "--json"])
    assert listed.exit_code == 0
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert {row["id"] for row in rows} == set(stored)
    by_name = runner.invoke(args=["files", "list", "--sort", "name", "--ascending"])
    assert [line.split("\t")[3] for line in by_name.output.splitlines()] == [
        "alpha.txt",
        "beta.bin",
        "gamma",
    ]
    file_id = next(iter(stored))
    info = json.loads(runner.invoke(args=["files", "info", file_id]).output)
    assert info["name"] == "alpha.txt"
    assert info["size"] == 5000
    assert runner.invoke(args=["files", "info", "A" * 22]).exit_code != 0
    assert runner.invoke(args=["files", "delete", file_id, "--yes"]).exit_code == 0
    assert runner.invoke(args=["files", "info", file_id]).exit_code != 0


def test_export_to_stdout_and_file(
    runner: FlaskCliRunner, stored: dict[str, bytes], tmp_path: Path
) -> None:
    for file_id, data in stored.items():
        result = runner.invoke(args=["export", file_id])
        assert result.exit_code == 0
        assert result.stdout_bytes == data
        target = tmp_path / f"{file_id}.out"
        assert runner.invoke(args=["export", file_id, "-o", str(target)]).exit_code == 0
        assert target.read_bytes() == data
        # Never overwrites.
        assert runner.invoke(args=["export", file_id, "-o", str(target)]).exit_code != 0


def test_stats(runner: FlaskCliRunner, stored: dict[str, bytes]) -> None:
    numbers = json.loads(runner.invoke(args=["stats", "--json"]).output)
    assert numbers["files"] == 3
    assert numbers["bytes"] == sum(len(d) for d in stored.values())
    assert numbers["free_bytes"] > 0
    assert "files: 3" in runner.invoke(args=["stats"]).output


def test_verify_clean_then_finds_each_kind_of_problem(
    app: Flask, runner: FlaskCliRunner, stored: dict[str, bytes]
) -> None:
    clean = runner.invoke(args=["verify"])
    assert clean.exit_code == 0, clean.output
    assert "3 files checked, 0 problems, 0 orphans" in clean.output

    corrupt_id, missing_id, _ = stored
    blob = bytearray(_blob(app, corrupt_id).read_bytes())
    blob[-20] ^= 0x01
    _blob(app, corrupt_id).write_bytes(bytes(blob))
    _blob(app, missing_id).unlink()
    orphan = _blob(app, "O" * 22)
    orphan.write_bytes(b"age-encryption.org/v1\n")
    os.utime(orphan, (0, 0))  # old enough not to be an upload committing right now

    result = runner.invoke(args=["verify", "--all"])
    assert result.exit_code == 1
    assert f"corrupt: {corrupt_id}" in result.output
    assert f"missing: {missing_id}" in result.output
    assert f"orphan: {'O' * 22}" in result.output

    repaired = runner.invoke(args=["verify", "--repair-orphans", "--yes"])
    assert "deleted 1 orphan blobs" in repaired.output
    assert not orphan.exists()
    assert repaired.exit_code == 1  # the corrupt and missing files remain


def test_verify_sample(runner: FlaskCliRunner, stored: dict[str, bytes]) -> None:
    result = runner.invoke(args=["verify", "--sample", "2"])
    assert result.exit_code == 0
    assert "2 files checked" in result.output
    assert runner.invoke(args=["verify", "--all", "--sample", "2"]).exit_code != 0


def test_backup_restores_into_a_fresh_instance(
    app: Flask, runner: FlaskCliRunner, stored: dict[str, bytes], tmp_path: Path
) -> None:
    destination = tmp_path / "backup"
    result = runner.invoke(args=["backup", str(destination)])
    assert result.exit_code == 0, result.output
    assert "backed up 3 files" in result.output
    assert not (destination / "identity.txt").exists()
    assert runner.invoke(args=["backup", str(destination)]).exit_code != 0

    # The documented restore: copy the database and storage, put the identity back.
    restored = tmp_path / "restored"
    restored.mkdir()
    subprocess.run(
        ["cp", "-a", "secureserver.sqlite3", "storage", str(restored)],
        cwd=destination,
        check=True,
        timeout=30,
    )
    shutil.copy2(Path(app.instance_path) / "identity.txt", restored / "identity.txt")
    client = create_app(TEST_CONFIG, instance_path=restored).test_client()
    for file_id, data in stored.items():
        with client.get(f"/download/{file_id}") as response:
            assert response.status_code == 200
            assert response.data == data


def test_recovery_recipient_can_decrypt_with_the_age_tool(tmp_path: Path) -> None:
    recovery = X25519Identity.generate()
    app = create_app(
        {**TEST_CONFIG, "RECOVERY_RECIPIENTS": [str(recovery.recipient)]},
        instance_path=tmp_path / "instance",
    )
    assert app.test_cli_runner().invoke(args=["keygen"]).exit_code == 0
    file_id = _upload(app.test_client(), "precious.txt", b"only copy")
    # The server's identity is lost; the owner of the offline recovery key still reads it.
    (tmp_path / "instance" / "identity.txt").unlink()
    key_file = tmp_path / "recovery.txt"
    key_file.write_text(f"{recovery}\n")
    result = subprocess.run(
        ["age", "-d", "-i", str(key_file), str(_blob(app, file_id))],
        capture_output=True,
        check=True,
        timeout=30,
    )
    assert result.stdout == b"only copy"


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("MAX_CONTENT_LENGTH", "big", "must be an integer"),
        ("MAX_FILES_PER_REQUEST", 0, "at least 1"),
        ("UPLOAD_READ_SIZE", 10, "at least 65536"),
        ("PROXY_COUNT", True, "must be an integer"),
        ("AUTH_FAILURE_LIMIT", "lots", "such as '10 per minute'"),
        ("RECOVERY_RECIPIENTS", "age1abc", "must be a list"),
        ("RECOVERY_RECIPIENTS", ["AGE-SECRET-KEY-1XYZ"], "not an X25519 age recipient"),
    ],
)
def test_wrong_settings_stop_the_factory(
    tmp_path: Path, setting: str, value: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=setting) as error:
        create_app({**TEST_CONFIG, setting: value}, instance_path=tmp_path)
    assert message in str(error.value)
    assert "AGE-SECRET-KEY-1XYZ" not in str(error.value)
