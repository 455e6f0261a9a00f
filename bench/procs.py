"""Facts about running processes, read from Linux's /proc: children, CPU time, memory.

Only reading here; the one write, :func:`reset_peak_rss`, touches a process's own memory
statistics, never the process.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PROC = Path("/proc")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    # The command name (field 2) may hold spaces and parentheses; fields after it are plain.
    text = (PROC / str(pid) / "stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (tells a pid apart from its reuse).

    :return: ``None`` if the process is gone.
    """
    try:
        return int(_stat_fields(pid)[19])
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far; 0 if it is gone."""
    try:
        fields = _stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def children(ppid: int) -> list[int]:
    """The pids of the live processes whose parent is ``ppid``, in ascending order."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(_stat_fields(int(entry.name))[1]) == ppid:
                found.append(int(entry.name))
    return sorted(found)


def status_kib(pid: int, field: str) -> int | None:
    """One ``kB`` field of /proc/<pid>/status, e.g. ``VmRSS`` or ``VmHWM``.

    :return: ``None`` if the process is gone or has no such field.
    """
    try:
        with (PROC / str(pid) / "status").open() as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def reset_peak_rss(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (``clear_refs`` value 5, Linux >= 4.0).

    :return: whether the reset worked; without it VmHWM is the peak since the process began.
    """
    try:
        (PROC / str(pid) / "clear_refs").write_text("5")
    except OSError:
        return False
    return True
