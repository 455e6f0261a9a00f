"""``python -m bench``: run the crypto and end-to-end benchmarks, print and save the results.

Everything the run creates (the test file, the age file, the server's instance folder and
certificate) lives in one scratch directory under /tmp that is removed at the end, and the
server is stopped, even when the run fails or is interrupted.
"""

from __future__ import annotations

import argparse
import datetime
import signal
import sys
import typing as t
from pathlib import Path

from . import curl
from . import machine
from . import report
from .crypto import measure_crypto
from .payload import scratch_dir
from .payload import write_random_file
from .server import launch
from .targets import secureserver
from .transfers import Payload
from .transfers import measure_transfers

if t.TYPE_CHECKING:
    from .crypto import CryptoResult
    from .transfers import Workload

MiB = 1024 * 1024
RESULTS_DIR = Path(__file__).resolve().parent / "results"
QUICK_SIZE_MIB = 64


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line; ``--quick`` only sets what was not given explicitly."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, help="runs per measurement (default 3)")
    parser.add_argument("--size-mib", type=int, help="size of every stream (default 1024)")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_SIZE_MIB} MiB and 1 run, to iterate fast"
    )
    parser.add_argument("--skip-crypto", action="store_true", help="only the end-to-end runs")
    parser.add_argument("--skip-e2e", action="store_true", help="only the crypto runs")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.size_mib is None:
        args.size_mib = QUICK_SIZE_MIB if args.quick else 1024
    if args.runs < 1 or args.size_mib < 1:
        parser.error("--runs and --size-mib must be at least 1")
    return args


def _end_to_end(workdir: Path, size: int, runs: int) -> tuple[dict[str, t.Any], list[Workload]]:
    path = workdir / "payload.bin"
    print(f"writing {size // MiB} MiB of random bytes to {path}", file=sys.stderr)
    payload = Payload(path, size, write_random_file(path, size), workdir / "response.json")
    spec = secureserver.prepare(workdir / "secureserver")
    with launch(spec) as server:
        info = {
            "name": spec.name,
            "base_url": server.base_url,
            "workers": len(server.worker_pids()),
            "tls": curl.tls_session(f"{server.base_url}{spec.health_path}"),
        }
        print(f"{spec.name} ready at {server.base_url} (pid {server.pid})", file=sys.stderr)
        workloads = measure_transfers(server, payload, runs)
    return info, workloads


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    args = parse_args(argv)
    # Turn SIGTERM into an exception, so the server is stopped and /tmp cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    size = args.size_mib * MiB
    crypto: CryptoResult | None = None
    server: dict[str, t.Any] | None = None
    workloads: list[Workload] = []
    with scratch_dir("secureserver-bench-") as workdir:
        if not args.skip_crypto:
            print(f"crypto: {args.size_mib} MiB x {args.runs} run(s)", file=sys.stderr)
            crypto = measure_crypto(size, args.runs, workdir)
        if not args.skip_e2e:
            server, workloads = _end_to_end(workdir, size, args.runs)
    settings = {"size_mib": args.size_mib, "size_bytes": size, "runs": args.runs}
    results = report.Results(started, settings, machine.describe(), crypto, server, workloads)
    print(report.text_table(results))
    json_path, md_path = report.write(results, args.results_dir)
    print(f"wrote {json_path} and {md_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
