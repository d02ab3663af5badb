"""CPU seconds spent by each part of the running system, read from /proc, to cost a benchmark phase per event.

Wall-clock events/s hides where the CPU goes; on a 2-core machine every part (the services, PostgreSQL, the broker,
the load generator) competes for the same cores, so the per-event CPU of each is what a change should move.
Linux only: elsewhere the meter reads nothing and the bench leaves the table out.
"""

import os
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# The first pattern a process's command line contains names its part.
PARTS = [
    ("services.experience serve", "experience (HTTP, append, relay)"),
    ("services.projection serve", "projection API + worker 1"),
    ("services.projection worker", "projection worker 2+"),
    ("postgres", "PostgreSQL"),
    ("tansu", "broker (Tansu)"),
    ("rapport bench", "load generator and view watcher"),
]


def _part(pid: Path) -> str | None:
    try:
        command = (pid / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    return next((name for pattern, name in PARTS if pattern in command), None)


def _cpu_seconds(pid: Path) -> float:
    try:
        fields = (pid / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def snapshot() -> dict[int, tuple[str, float]]:
    """pid -> (part, CPU seconds so far) of every process belonging to a known part."""
    taken: dict[int, tuple[str, float]] = {}
    if not PROC.is_dir():
        return taken
    for pid in PROC.iterdir():
        if pid.name.isdigit() and (part := _part(pid)) is not None:
            taken[int(pid.name)] = (part, _cpu_seconds(pid))
    return taken


def spent(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per part between two snapshots (a process started in between counts from zero)."""
    totals: dict[str, float] = {}
    for pid, (part, seconds) in after.items():
        totals[part] = totals.get(part, 0.0) + seconds - before.get(pid, (part, 0.0))[1]
    return totals
