"""``python -m bench.profile``: where secureserver's time goes per GiB, from py-spy samples.

One gunicorn worker (``WEB_CONCURRENCY=1``, so there is one process to watch) receives a
1 GiB PUT, a 1 GiB multipart upload and serves a 1 GiB download, each under ``py-spy record
--nonblocking`` (py-spy comes from a throwaway virtualenv, like the peers). Every sample is a
stack of one thread that was running on a CPU (idle threads are not sampled); it is put in the
category of the deepest frame that names one (the source line tells a hash from a cipher
call), and the samples are counted in CPU seconds per GiB moved, per category and per thread.
The raw stacks are kept (``*.txt``, for flame graphs) next to a Markdown table.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import linecache
import re
import signal
import subprocess
import sys
import typing as t
from pathlib import Path

from . import peers
from . import procs
from .curl import Transfer
from .curl import run_clients
from .payload import scratch_dir
from .payload import write_random_file
from .server import launch
from .targets import MULTIPART
from .targets import PUT
from .targets import secureserver

MiB = 1024 * 1024
RATE = 250
RESULTS_DIR = Path(__file__).resolve().parent / "results"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*):(?P<line>\d+)\)$")

# (category, test on a frame's function, file and source line, leaf only). A C call is
# sampled as the Python line that made it, so the leaf frame's source line tells a hash from
# a cipher call. Rules that are not leaf-only also claim every frame below theirs (all that
# the multipart parser or SQLite does on our behalf); the deepest match wins.
RULES: list[tuple[str, t.Callable[[str, str, str], bool], bool]] = [
    ("hashing (sha256)", lambda f, p, s: "digest.update" in s or "hashlib" in s, True),
    (
        "encryption (ChaCha20-Poly1305)",
        lambda f, p, s: "encrypt_into" in s or ".encrypt(" in s,
        True,
    ),
    ("decryption (ChaCha20-Poly1305)", lambda f, p, s: "decrypt" in s and "aead" in s, True),
    ("TLS receive (decrypt + copy)", lambda f, p, s: f.startswith("SSLSocket.re"), False),
    ("TLS send (encrypt + copy)", lambda f, p, s: f.startswith("SSLSocket.send"), False),
    (
        "disk: blob write, fsync",
        lambda f, p, s: f.startswith(("TempBlob.", "BlobStore.sync")),
        False,
    ),
    ("disk: blob read", lambda f, p, s: "readinto" in s or f == "read_into", False),
    (
        "metadata (SQLite)",
        lambda f, p, s: p.endswith(("metadata.py", "sqlite3/__init__.py")),
        False,
    ),
    ("multipart parsing", lambda f, p, s: p.endswith("secureserver/multipart.py"), False),
    (
        "thread hand-over (queues, locks)",
        lambda f, p, s: p.endswith(("queue.py", "threading.py")),
        True,
    ),
]
OTHER = "Python: gunicorn, Flask, our glue"


def categorise(frames: list[str]) -> str:
    """The category of one sampled stack (root first)."""
    for depth, frame in enumerate(reversed(frames)):
        match = _FRAME.match(frame)
        if not match:
            continue
        function, path, line = match["function"], match["file"], int(match["line"])
        source = linecache.getline(path, line)
        for category, test, leaf_only in RULES:
            if (depth == 0 or not leaf_only) and test(function, path, source):
                return category
    return OTHER


def _thread(frames: list[str]) -> str:
    name = frames[0]
    return re.sub(r"^thread \(\d+\): |\(\d+\)|-\d+_\d+$", "", name).strip() or "?"


def summarise(raw: Path, gib: float) -> tuple[dict[str, float], dict[str, float]]:
    """CPU seconds per GiB by category and by thread, from py-spy's raw output."""
    by_category: collections.Counter[str] = collections.Counter()
    by_thread: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        by_category[categorise(frames[1:])] += int(count)
        by_thread[_thread(frames)] += int(count)
    per = 1 / RATE / gib
    return (
        {k: v * per for k, v in by_category.most_common()},
        {k: v * per for k, v in by_thread.most_common()},
    )


@contextlib.contextmanager
def _recording(py_spy: Path, pid: int, out: Path) -> t.Iterator[None]:
    argv = [
        str(py_spy), "record", "--nonblocking", "--threads", "--rate", str(RATE),
        "--format", "raw", "--output", str(out), "--pid", str(pid),
    ]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)


def main(argv: list[str] | None = None) -> int:
    """Profile the big transfers and the 10 MiB files; print and save the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--files", type=int, default=40, help="10 MiB files sent one by one")
    parser.add_argument("--source", type=Path, help="profile the server of this checkout")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    size = args.size_mib * MiB
    py_spy = peers.virtualenv(args.results_dir / "venvs" / "profile", ["py-spy"]).parent / "py-spy"
    out = args.results_dir / "profile"
    out.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    with scratch_dir("secureserver-profile-") as workdir:
        big, small = workdir / "big.bin", workdir / "small.bin"
        sha = {big: write_random_file(big, size), small: write_random_file(small, 10 * MiB)}
        certs = workdir / "certs"
        secureserver.make_certificate(certs)
        source = args.source.resolve() if args.source else None
        target = secureserver.prepare(
            workdir / "server", certs, "secureserver", {"WEB_CONCURRENCY": "1"}, source
        )
        with launch(target.spec) as server:
            (worker,) = server.worker_pids()
            profile = _Profiler(py_spy, worker, out, workdir, rows)
            stored = target.stage(big, "staged.bin", workdir)
            # One upload that is thrown away first: the VM backs memory it has not touched for
            # a while slowly, and the first gigabyte of page cache would be timed at that pace.
            target.remove([target.stage(big, "warm.bin", workdir)], workdir)
            for name, method in (("PUT", PUT), ("multipart", MULTIPART)):
                upload = target.upload(method, big, f"{name}.bin", workdir / f"{name}.json")
                profile.run(name, [upload], size)
                target.remove([target.stored("", size, sha[big], upload.output)], workdir)
            profile.run("download", [target.download(stored)], size)
            uploads = [
                target.upload(PUT, small, f"s{i}.bin", workdir / f"s{i}.json")
                for i in range(args.files)
            ]
            profile.run(f"10 MiB x {args.files} PUT", uploads, 10 * MiB * args.files)
            handles = [target.stored("", 10 * MiB, sha[small], u.output) for u in uploads]
            downloads = [target.download(handle) for handle in handles]
            profile.run(f"10 MiB x {args.files} GET", downloads, 10 * MiB * args.files)
            target.remove(handles, workdir)
    text = _markdown(rows)
    (out / "profile.md").write_text(text)
    print(text)
    return 0


Row: t.TypeAlias = tuple[str, dict[str, float], dict[str, float]]


class _Profiler:
    """Times one batch of requests under py-spy and adds its row to the table."""

    def __init__(self, py_spy: Path, worker: int, out: Path, workdir: Path, rows: list[Row]):
        self.py_spy, self.worker, self.out, self.workdir, self.rows = (
            py_spy, worker, out, workdir, rows
        )  # fmt: skip

    def run(self, name: str, transfers: list[Transfer], size: int) -> None:
        raw = self.out / f"{name.replace(' ', '-')}.txt"
        cpu = procs.cpu_seconds(self.worker)
        with _recording(self.py_spy, self.worker, raw):
            done = run_clients([transfers], size, self.workdir)
        gib = size / 2**30
        cpu = (procs.cpu_seconds(self.worker) - cpu) / gib
        by_category, by_thread = summarise(raw, gib)
        per_file = (
            f", {done.wall_s / len(transfers) * 1000:.1f} ms per file" if len(transfers) > 1 else ""
        )
        label = f"{name}: {done.wall_s / gib:.2f} s wall, {cpu:.2f} s CPU per GiB{per_file}"
        self.rows.append((label, by_category, by_thread))


def _markdown(rows: list[Row]) -> str:
    categories = list(dict.fromkeys(c for _, by_category, _ in rows for c in by_category))
    lines = [
        "Seconds per GiB that a thread of the worker was running in each category (py-spy "
        "samples; a thread waiting for the disk or for a core on a busy machine may count as "
        "running). The column titles give the wall time and the worker's CPU time (from /proc).",
        "",
        "| | " + " | ".join(name for name, _, _ in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for category in categories:
        cells = [f"{by_category.get(category, 0.0):.2f}" for _, by_category, _ in rows]
        lines.append(f"| {category} | " + " | ".join(cells) + " |")
    totals = [f"**{sum(by_category.values()):.2f}**" for _, by_category, _ in rows]
    lines.append("| **total sampled** | " + " | ".join(totals) + " |")
    lines += ["", "By thread:", ""]
    for name, _, by_thread in rows:
        threads = ", ".join(f"{thread} {seconds:.2f}" for thread, seconds in by_thread.items())
        lines.append(f"- {name}: {threads}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
