"""``python -m bench`` (``make bench``): secureserver next to its peers, in one run.

Everything the run creates (test files, certificates, every server's folder) lives in one
scratch directory under /tmp that is removed at the end, and every server is stopped, even
when the run fails or is interrupted. The peers are installed first (see :mod:`bench.peers`).
Then the raw limits are measured, all servers are started, and the workloads run round after
round: in each round every shape goes through every server before the next shape, and the
servers take turns going first, so a slow moment of the machine hits them all alike.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import signal
import subprocess
import sys
import time
import typing as t
from pathlib import Path

from . import curl
from . import machine
from . import peers
from . import report
from .crypto import measure_crypto
from .limits import measure_limits
from .payload import scratch_dir
from .payload import write_random_file
from .server import launch
from .targets import copyparty
from .targets import nginx
from .targets import plaintls
from .targets import secureserver
from .targets import uploadserver
from .workloads import Payloads
from .workloads import Runner
from .workloads import plan

if t.TYPE_CHECKING:
    from .crypto import CryptoResult
    from .server import RunningServer
    from .targets import Target
    from .workloads import Shape

MiB = 1024 * 1024
BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
PEERS = ("copyparty", "uploadserver", "nginx", "python-tls")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line; ``--quick`` only sets what was not given explicitly."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, help="rounds of every workload (default 5)")
    parser.add_argument("--quick", action="store_true", help="small files and 1 round, to iterate")
    parser.add_argument("--skip-crypto", action="store_true", help="no raw-limit measurements")
    parser.add_argument(
        "--peers", default=",".join(PEERS), help=f"comma-separated subset of {','.join(PEERS)}"
    )
    parser.add_argument(
        "--variant", action="append", default=[], metavar="NAME:VAR=VALUE[,VAR=VALUE]",
        help="also run secureserver with these environment settings, e.g. w1:WEB_CONCURRENCY=1",
    )  # fmt: skip
    parser.add_argument(
        "--source", type=Path, help="run the secureserver of this checkout (default: this one)"
    )
    parser.add_argument(
        "--baseline", type=Path, help="also run the secureserver of this checkout (before/after)"
    )
    parser.add_argument(
        "--checkout", action="append", default=[], metavar="NAME=DIR",
        help="also run the secureserver of another checkout, as secureserver-NAME",
    )  # fmt: skip
    parser.add_argument(
        "--shapes", help="comma-separated subset of big,small,seq10,par10,par16 (default: all)"
    )
    parser.add_argument(
        "--quiet-budget", type=float, help="seconds the run may spend waiting for other work on "
        "the machine to calm down before a measurement (default 300, 30 with --quick)",
    )  # fmt: skip
    parser.add_argument("--no-plots", action="store_true", help="skip matplotlib")
    parser.add_argument("--fresh-venvs", action="store_true", help="reinstall the peers")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    if args.quiet_budget is None:
        args.quiet_budget = 30.0 if args.quick else 300.0
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.peers = [name for name in args.peers.split(",") if name]
    unknown = set(args.peers) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    return args


def _variants(specs: list[str]) -> list[tuple[str, dict[str, str]]]:
    found = []
    for spec in specs:
        name, _, settings = spec.partition(":")
        env = dict(item.split("=", 1) for item in settings.split(",") if "=" in item)
        found.append((f"secureserver-{name}", env))
    return found


def _targets(args: argparse.Namespace, workdir: Path, certs: Path) -> list[Target]:
    """Ours (and its variants) first, then every peer that could be installed."""
    source = args.source.resolve() if args.source else None
    found: list[Target] = [secureserver.prepare(workdir / "secureserver", certs, source=source)]
    for name, env in _variants(args.variant):
        found.append(secureserver.prepare(workdir / name, certs, name, env, source))
    if args.baseline:
        before = args.baseline.resolve()
        found.append(
            secureserver.prepare(workdir / "baseline", certs, "secureserver-before", None, before)
        )
    for spec in args.checkout:
        name, _, directory = spec.partition("=")
        label = f"secureserver-{name}"
        found.append(
            secureserver.prepare(workdir / label, certs, label, None, Path(directory).resolve())
        )
    bundle = certs / "bundle.pem"
    bundle.write_bytes((certs / "key.pem").read_bytes() + (certs / "cert.pem").read_bytes())
    venvs = args.results_dir / "venvs"
    for name in args.peers:
        try:
            if name == "copyparty":
                python = peers.virtualenv(venvs / name, ["copyparty"], args.fresh_venvs)
                found.append(copyparty.prepare(workdir / name, python, bundle))
            elif name == "uploadserver":
                python = peers.virtualenv(venvs / name, ["uploadserver"], args.fresh_venvs)
                found.append(uploadserver.prepare(workdir / name, python, bundle))
            elif name == "nginx":
                found.append(nginx.prepare(workdir / name, peers.nginx_binary(), certs))
            elif name == "python-tls":
                found.append(plaintls.prepare(workdir / name, certs, PROJECT_ROOT))
        except peers.PeerSetupError as e:
            print(f"skipping {name}: {e}", file=sys.stderr)
    return found


def _describe(target: Target, server: RunningServer) -> dict[str, t.Any]:
    versions = ", ".join(f"{k} {v}" for k, v in target.versions().items())
    workers = len(server.worker_pids())
    command = " ".join(Path(a).name if a.startswith("/") else a for a in target.spec.argv[:6])
    return {
        "name": target.name,
        "reference": target.reference,
        "workers": workers,
        "tls": curl.tls_session(f"{target.base_url}{target.spec.health_path}"),
        "methods": list(target.methods),
        "description": f"`{command} …`{', ' + versions if versions else ''}; "
        f"{workers or 1} process(es) serving; uploads: {', '.join(target.methods)}",
    }


def _payloads(workdir: Path, sizes: set[int]) -> Payloads:
    paths, hashes = {}, {}
    for size in sorted(sizes):
        path = workdir / f"payload-{size}.bin"
        hashes[size] = write_random_file(path, size)
        paths[size] = path
    return Payloads(paths, hashes)


def _plots(json_path: Path, out: Path, args: argparse.Namespace) -> None:
    try:
        python = peers.virtualenv(
            args.results_dir / "venvs" / "plots", ["matplotlib"], args.fresh_venvs
        )
    except peers.PeerSetupError as e:
        print(f"no plots: {e}", file=sys.stderr)
        return
    subprocess.run(  # noqa: S603 - fixed argv, no shell
        [str(python), "-m", "bench.plots", str(json_path), str(out)],
        cwd=PROJECT_ROOT, check=False, timeout=300,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    args = parse_args(argv)
    # Turn SIGTERM into an exception, so the servers are stopped and /tmp cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    begun = time.monotonic()
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = args.results_dir / started.replace(":", "").replace("-", "")
    shapes = plan(args.quick)
    big = shapes[0]
    if args.shapes:
        shapes = [shape for shape in shapes if shape.key in args.shapes.split(",")]
    crypto: CryptoResult | None = None
    limits = {}
    with scratch_dir("secureserver-bench-") as workdir:
        certs = workdir / "certs"
        secureserver.make_certificate(certs)
        targets = _targets(args, workdir, certs)
        print(f"writing the test files to {workdir}", file=sys.stderr)
        payloads = _payloads(workdir, {shape.size for shape in shapes})
        if not args.skip_crypto:
            print("raw limits and crypto", file=sys.stderr)
            limits = measure_limits(big.size, args.runs if not args.quick else 1, workdir)
            crypto = measure_crypto(big.size, min(args.runs, 3), workdir)
        runner = Runner(payloads, workdir, args.quiet_budget)
        with contextlib.ExitStack() as stack:
            running = [(target, stack.enter_context(launch(target.spec))) for target in targets]
            servers = [_describe(target, server) for target, server in running]
            if big in shapes:
                for target, _server in running:
                    runner.stage_big(target, big)
            for run in range(args.runs):
                print(f"round {run + 1}/{args.runs}", file=sys.stderr)
                # Servers take turns going first: drift within a round hits each alike.
                order = running[run % len(running) :] + running[: run % len(running)]
                for shape in shapes:
                    for target, server in order:
                        if target.reference and shape is not big:
                            continue
                        runner.shape(target, server, shape, run)
                # What is done so far is kept, should the run be cut short.
                settings = _settings(args, shapes, big, run + 1, begun)
                results = report.Results(
                    started, settings, machine.describe(), servers, targets[0].name, crypto,
                    limits, runner.measurements,
                )  # fmt: skip
                json_path, _ = report.write(results, out)
    print(report.markdown(results, headline_only=True))
    if not args.no_plots:
        _plots(json_path, out, args)
    print(f"wrote {out}/ in {settings['duration_s']} s", file=sys.stderr)
    return 0


def _settings(
    args: argparse.Namespace, shapes: list[Shape], big: Shape, runs: int, begun: float
) -> dict[str, t.Any]:
    return {
        "runs": runs,
        "quick": args.quick,
        "big_label": big.label,
        "big_bytes": big.size,
        "shapes": [shape.__dict__ for shape in shapes],
        "duration_s": round(time.monotonic() - begun),
    }


if __name__ == "__main__":
    sys.exit(main())
