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


def busy_seconds() -> float:
    """CPU seconds all processes of the machine have used since boot, over every core."""
    fields = (PROC / "stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS


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


def descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it (workers, their helpers), in ascending order."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry.name)] = int(_stat_fields(int(entry.name))[1])
    found, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found.add(child)
                frontier.append(child)
    return sorted(found & (set(parents) | {pid}))


def pss_kib(pid: int) -> int | None:
    """The process's proportional set size: its RSS with every shared page divided among the
    processes that share it, so that the PSS of a master and its forked workers adds up.

    :return: ``None`` if the process is gone or the kernel has no ``smaps_rollup``.
    """
    try:
        with (PROC / str(pid) / "smaps_rollup").open() as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


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
