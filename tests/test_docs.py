"""docs/HOW-IT-WORKS.md stays true to the code: its examples run and the names it cites exist.

Every ``python`` block of the document runs, in order, in one shared namespace, with a fresh
scratch directory as the current directory; the blocks check themselves with ``assert``. The
``age -d`` command the document shows is run for real on the file those blocks wrote. Every
``module.name`` in backticks that starts with a module of the package must resolve, and every
``.py`` or ``.sql`` file in backticks must exist.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import shlex
import shutil
import subprocess
import typing as t
from dataclasses import dataclass

import pytest

import secureserver
from secureserver.config import PROJECT_ROOT

if t.TYPE_CHECKING:
    from pathlib import Path

DOC = PROJECT_ROOT / "docs" / "HOW-IT-WORKS.md"
FENCE = re.compile(r"^```(?P<language>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
LANGUAGES = {"python", "sh", "text"}
INLINE_CODE = re.compile(r"`([^`\n]+)`")
DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
SOURCE_FILE = re.compile(r"[\w./-]+\.(?:py|sql)")
RUNTIME_DIRS = ("instance/", "certs/")
PACKAGE_MODULES = {name for _, name, _ in pkgutil.iter_modules(secureserver.__path__)}


@dataclass(frozen=True)
class Block:
    """A fenced block of the document and the line its body starts on."""

    language: str
    body: str
    line: int


@dataclass(frozen=True)
class DocRun:
    """What running the python blocks left behind: their namespace and their directory."""

    namespace: dict[str, t.Any]
    workdir: Path


def read_doc() -> str:
    return DOC.read_text("utf-8")


def inline_code() -> list[str]:
    """Return the backticked spans of the prose, fenced blocks left out."""
    return INLINE_CODE.findall(FENCE.sub("", read_doc()))


def blocks(language: str | None = None) -> list[Block]:
    text = read_doc()
    found = [
        Block(m["language"].strip(), m["body"], text.count("\n", 0, m.start("body")) + 1)
        for m in FENCE.finditer(text)
    ]
    return [b for b in found if language is None or b.language == language]


@pytest.fixture(scope="module")
def doc_run(tmp_path_factory: pytest.TempPathFactory) -> DocRun:
    """Run the python blocks once, in order, as one program, in a scratch directory."""
    workdir = tmp_path_factory.mktemp("how-it-works")
    namespace: dict[str, t.Any] = {"__name__": "how_it_works"}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workdir)
        for block in blocks("python"):
            # Padding keeps line numbers: a traceback points at the line of the document.
            code = compile("\n" * (block.line - 1) + block.body, str(DOC), "exec")
            exec(code, namespace)
    return DocRun(namespace, workdir)


def test_fences_are_python_sh_or_text() -> None:
    # An unlabelled or misspelt fence would silently escape being run.
    assert {b.language for b in blocks()} <= LANGUAGES
    assert len(blocks("python")) >= 10


def test_python_blocks_run(doc_run: DocRun) -> None:
    assert doc_run.namespace["PLAINTEXT"] == b"Pay Bob 100 euros.\n"
    assert (doc_run.workdir / "blob.age").read_bytes() == doc_run.namespace["BLOB"]


def test_age_cli_decrypts_the_worked_example(doc_run: DocRun) -> None:
    age = shutil.which("age") or "/usr/bin/age"
    if not os.access(age, os.X_OK):
        pytest.fail(
            "the age CLI is missing: the document's example must decrypt with it "
            "(`make test` installs it; apt-get install age)",
            pytrace=False,
        )
    (block,) = [b for b in blocks("sh") if b.body.startswith("age -d ")]
    command, comment = block.body.splitlines()
    plaintext = doc_run.namespace["PLAINTEXT"]
    assert comment == f"# prints: {plaintext.decode().strip()}"
    result = subprocess.run(
        [age, *shlex.split(command)[1:]],
        cwd=doc_run.workdir,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == plaintext


def _resolve(dotted: str) -> object:
    """Import the longest module prefix of ``secureserver.<dotted>``, then get attributes."""
    parts = dotted.removeprefix("secureserver.").split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(f"secureserver.{'.'.join(parts[:cut])}")
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name)
        return target
    raise ModuleNotFoundError(dotted)


def cited_names() -> list[str]:
    names = []
    for span in inline_code():
        span = span.removesuffix("()")
        if not DOTTED_NAME.fullmatch(span) or SOURCE_FILE.fullmatch(span):
            continue
        first = span.removeprefix("secureserver.").split(".")[0]
        if first in PACKAGE_MODULES:
            names.append(span)
    return names


def test_cited_names_exist() -> None:
    names = cited_names()
    assert len(names) >= 40, names
    missing = []
    for name in names:
        try:
            _resolve(name)
        except (ImportError, AttributeError):
            missing.append(name)
    assert missing == []


def test_cited_files_exist() -> None:
    spans = inline_code()
    # Files under instance/ and certs/ exist only at run time.
    paths = {s for s in spans if SOURCE_FILE.fullmatch(s) and not s.startswith(RUNTIME_DIRS)}
    assert paths
    missing = [
        path
        for path in sorted(paths)
        if not any(
            (root / path).is_file() for root in (PROJECT_ROOT, PROJECT_ROOT / "secureserver")
        )
    ]
    assert missing == []
