"""Summaries of repeated measurements: the median, with min and max to show the spread.

The median rather than the mean, because one slow run (a page-cache miss, a neighbour on the
CPU) should not move the headline number.
"""

from __future__ import annotations

import statistics
import typing as t
from dataclasses import asdict
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from collections.abc import Sequence

MB = 1_000_000


@dataclass(frozen=True)
class Summary:
    """Median, min and max of some runs of one measurement, and the runs themselves."""

    median: float
    min: float
    max: float
    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        """Summarise ``values``.

        :raises ValueError: if there are none.
        """
        if not values:
            raise ValueError("no values to summarise")
        return cls(statistics.median(values), min(values), max(values), tuple(values))

    def as_dict(self) -> dict[str, t.Any]:
        """Return the summary as a JSON-ready mapping."""
        return asdict(self)


def mb_per_s(size: int, seconds: float) -> float:
    """Throughput in MB/s, where 1 MB is 10**6 bytes, as curl and disk vendors count."""
    return size / seconds / MB
