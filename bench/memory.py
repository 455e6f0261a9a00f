"""Memory of a server's processes during one measurement: peaks, and a curve over time.

Two peaks per process: the kernel's high-water mark (VmHWM, reset before each measurement
through ``/proc/<pid>/clear_refs``) catches every spike; sampling VmRSS every 50 ms works
everywhere but can miss a short one. The larger is reported. RSS counts the pages a worker
shares with its master too, so the total for a server is the sum of PSS (shared pages split
among their sharers), sampled with the curve.
"""

from __future__ import annotations

import threading
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field

from . import procs

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

SAMPLE_INTERVAL = 0.05
KiB = 1024


@dataclass(frozen=True)
class MemoryPeak:
    """What one measurement found, in MiB.

    :ivar peak_process_mib: the largest single process (a worker) at its peak.
    :ivar baseline_process_mib: the largest process just before the measurement.
    :ivar peak_total_mib: the largest sampled sum of PSS over all the server's processes.
    :ivar curve: ``(seconds since start, largest process RSS MiB, total PSS MiB)`` samples.
    """

    peak_process_mib: float
    baseline_process_mib: float
    peak_total_mib: float
    hwm_reset: bool
    processes: int
    curve: list[tuple[float, float, float]] = field(repr=False)


class PeakRss:
    """Context manager: watch a server's processes while its block runs; see :attr:`result`.

    The process list is asked for at every sample, so a worker that starts late (or replaces
    one that died) is still seen.
    """

    def __init__(self, list_pids: Callable[[], list[int]], keep_curve: bool = False) -> None:
        """:param list_pids: returns the pids to watch, e.g. a server's process tree.
        :param keep_curve: keep every sample (for the plots), not only the peaks."""
        self._list_pids = list_pids
        self._keep_curve = keep_curve
        self._seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._sampled_kib = 0
        self._total_kib = 0
        self._baseline_kib = 0
        self._reset = False
        self._start = 0.0
        self._curve: list[tuple[float, float, float]] = []
        self.result: MemoryPeak | None = None

    def __enter__(self) -> PeakRss:
        pids = self._list_pids()
        self._seen.update(pids)
        self._baseline_kib = _max_kib(pids, "VmRSS")
        self._reset = bool(pids) and all([procs.reset_peak_rss(pid) for pid in pids])
        self._start = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        hwm = _max_kib(sorted(self._seen), "VmHWM") if self._reset else 0
        self.result = MemoryPeak(
            peak_process_mib=max(hwm, self._sampled_kib) / KiB,
            baseline_process_mib=self._baseline_kib / KiB,
            peak_total_mib=self._total_kib / KiB,
            hwm_reset=self._reset,
            processes=len(self._seen),
            curve=self._curve,
        )

    def _sample(self) -> None:
        while True:
            pids = self._list_pids()
            self._seen.update(pids)
            largest = _max_kib(pids, "VmRSS")
            total = sum(procs.pss_kib(pid) or procs.status_kib(pid, "VmRSS") or 0 for pid in pids)
            self._sampled_kib = max(self._sampled_kib, largest)
            self._total_kib = max(self._total_kib, total)
            if self._keep_curve:
                elapsed = round(time.perf_counter() - self._start, 3)
                self._curve.append((elapsed, round(largest / KiB, 1), round(total / KiB, 1)))
            if self._stop.wait(SAMPLE_INTERVAL):
                return


def _max_kib(pids: t.Iterable[int], name: str) -> int:
    return max((procs.status_kib(pid, name) or 0 for pid in pids), default=0)
