"""A killed `rapport dev` leaves a dead postmaster's pid file and dead holders behind; the next start clears them
and keeps whatever still lives."""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from services.cli.stale_postgres import clear_stale_postmaster, process_is_alive, prune_dead_holders


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def postmaster_pid_file(pgdata: Path, pid: int) -> Path:
    path = pgdata / "postmaster.pid"
    path.write_text(f"{pid}\n{pgdata}\n1764650000\n5432\n{pgdata}\n\n  1234  5678\nready   \n")
    return path


def test_a_pid_file_naming_a_dead_process_is_removed(tmp_path: Path) -> None:
    path = postmaster_pid_file(tmp_path, dead_pid())
    assert clear_stale_postmaster(tmp_path) is True
    assert not path.exists()


def test_the_socket_lock_of_a_dead_postmaster_goes_with_its_pid_file(tmp_path: Path) -> None:
    pid = dead_pid()
    postmaster_pid_file(tmp_path, pid)
    socket_lock = tmp_path / ".s.PGSQL.5432.lock"
    socket_lock.write_text(f"{pid}\n{tmp_path}\n")  # PostgreSQL would refuse to start while this names a zombie
    clear_stale_postmaster(tmp_path)
    assert not socket_lock.exists()


def test_a_pid_file_naming_a_process_that_is_not_postgres_is_removed(tmp_path: Path) -> None:
    path = postmaster_pid_file(tmp_path, 1)  # a reused pid: alive, but no postmaster
    assert clear_stale_postmaster(tmp_path) is True
    assert not path.exists()


def test_no_pid_file_is_nothing_to_clear(tmp_path: Path) -> None:
    assert clear_stale_postmaster(tmp_path) is False


def test_a_zombie_counts_as_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        for _ in range(100):  # once it has exited, unreaped, it is a zombie
            if not process_is_alive(child.pid):
                break
            time.sleep(0.05)
        assert not process_is_alive(child.pid)
    finally:
        child.wait()


def test_dead_holders_are_dropped_and_living_ones_kept(tmp_path: Path) -> None:
    holders = tmp_path / ".handle_pids.json"
    gone, alive = dead_pid(), 1
    holders.write_text(json.dumps([gone, alive]))
    assert prune_dead_holders(tmp_path) == [gone]
    assert json.loads(holders.read_text()) == [alive]


def test_holders_all_alive_leave_the_file_untouched(tmp_path: Path) -> None:
    holders = tmp_path / ".handle_pids.json"
    holders.write_text("[1]")
    assert prune_dead_holders(tmp_path) == []
    assert holders.read_text() == "[1]"


def test_a_pid_file_naming_a_living_postgres_is_kept(tmp_path: Path) -> None:
    postgres = tmp_path / "postgres"  # a program named postgres is all the check can see
    shutil.copy(shutil.which("sleep") or "/bin/sleep", postgres)
    running = subprocess.Popen([str(postgres), "30"])
    try:
        for _ in range(100):  # Popen may return a moment before the kernel renames the process
            if Path(f"/proc/{running.pid}/comm").read_text().strip() == "postgres":
                break
            time.sleep(0.01)
        path = postmaster_pid_file(tmp_path, running.pid)
        assert clear_stale_postmaster(tmp_path) is False
        assert path.exists()
    finally:
        running.kill()
        running.wait()
