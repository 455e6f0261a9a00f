"""Peak memory of the server's workers during one transfer, measured two ways.

The kernel's high-water mark (VmHWM, reset before each transfer) catches every peak but needs
``/proc/<pid>/clear_refs``; sampling VmRSS every 50 ms works everywhere but can miss a short
spike. Both are kept, and the report shows the larger. RSS counts the pages a worker shares
with the preloading master too, so it is an upper bound on what each worker costs.
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass

from . import procs

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Sequence
    from types import TracebackType

SAMPLE_INTERVAL = 0.05
KiB = 1024


@dataclass(frozen=True)
class MemoryPeak:
    """The largest worker's memory in MiB: before the transfer, and its peaks during it.

    :ivar hwm_mib: max VmHWM over workers; since the transfer began if ``hwm_reset``.
    """

    baseline_mib: float
    hwm_mib: float
    sampled_mib: float
    hwm_reset: bool
    samples: int

    @property
    def peak_mib(self) -> float:
        """The larger of the two peaks."""
        return max(self.hwm_mib, self.sampled_mib)


def _max_kib(pids: Sequence[int], field: str) -> int:
    return max((procs.status_kib(pid, field) or 0 for pid in pids), default=0)


class PeakRss:
    """Context manager: measure the peak RSS of a set of processes while its block runs.

    The set is asked for again at every sample, so a worker that starts late (or replaces
    one that died) is still seen. The result is in :attr:`result` after the block ends.
    """

    def __init__(self, list_pids: Callable[[], list[int]]) -> None:
        """:param list_pids: returns the pids to watch, e.g. a server's workers."""
        self._list_pids = list_pids
        self._seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._sampled_kib = 0
        self._samples = 0
        self._baseline_kib = 0
        self._reset = False
        self.result: MemoryPeak | None = None

    def __enter__(self) -> PeakRss:
        pids = self._list_pids()
        self._seen.update(pids)
        self._baseline_kib = _max_kib(pids, "VmRSS")
        self._reset = bool(pids) and all([procs.reset_peak_rss(pid) for pid in pids])
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
        self.result = MemoryPeak(
            baseline_mib=self._baseline_kib / KiB,
            hwm_mib=_max_kib(sorted(self._seen), "VmHWM") / KiB,
            sampled_mib=self._sampled_kib / KiB,
            hwm_reset=self._reset,
            samples=self._samples,
        )

    def _sample(self) -> None:
        while True:
            pids = self._list_pids()
            self._seen.update(pids)
            self._sampled_kib = max(self._sampled_kib, _max_kib(pids, "VmRSS"))
            self._samples += 1
            if self._stop.wait(SAMPLE_INTERVAL):
                return
