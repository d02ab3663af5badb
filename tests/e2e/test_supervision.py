"""`rapport dev` as a supervisor: one per data directory, restarts what dies (the broker with its topics), and
takes every child with it when it is killed outright."""

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from services.cli.embedded import free_port
from services.cli.stale_postgres import process_is_alive
from tests.e2e.conftest import BATCH, RunningSystem, start_dev, touchpoint, wait_for, wait_for_version

pytestmark = pytest.mark.e2e


def pids_of(system: RunningSystem) -> dict[str, int]:
    return json.loads((system.data_dir / "dev-pids.json").read_text())


def restarted(system: RunningSystem, part: str, old_pid: int) -> int:
    """Waits for dev to say it restarted `part`, and returns the new pid."""
    line = re.compile(rf"^{part} restarted \(pid (\d+)\)", re.MULTILINE)
    found = wait_for(lambda: line.search(system.log.read_text()), 60, f"{part} to be restarted")
    assert int(found.group(1)) != old_pid
    return int(found.group(1))


def post_when_accepted(system: RunningSystem, events: list[dict], timeout: float = 60) -> None:
    def accepted() -> bool:
        try:
            return system.post("/v1/events", json=events, headers=BATCH).status_code == 202
        except httpx.HTTPError:
            return False

    wait_for(accepted, timeout, "the experience service to accept events")


def healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_second_rapport_dev_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    first = start_dev(tmp_path / "data")
    try:
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "services.cli.main",
                "dev",
                "--data-dir",
                str(first.data_dir),
                "--experience-port",
                str(free_port()),
                "--projection-port",
                str(free_port()),
                "--kafka-port",
                str(free_port()),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0
        assert f"another `rapport dev` (pid {first.process.pid}) is running" in second.stderr + second.stdout
        assert httpx.get(f"{first.experience}/healthz", timeout=5).status_code == 200  # the first one is untouched
    finally:
        first.stop()
    assert first.process.returncode == 0, first.log.read_text()


def test_a_killed_projection_is_restarted_and_views_catch_up(tmp_path: Path) -> None:
    system = start_dev(tmp_path / "data")
    try:
        old = pids_of(system)["projection"]
        os.kill(old, signal.SIGKILL)
        new = restarted(system, "projection", old)
        assert "projection was killed by SIGKILL; restarting it in 1 s" in system.log.read_text()
        assert pids_of(system)["projection"] == new
        customer = f"c-{os.urandom(6).hex()}"
        post_when_accepted(system, [touchpoint(customer)])
        wait_for(lambda: healthy(system.projection), 60, "the new projection to answer")
        assert wait_for_version(system, customer, 1, timeout=60)["version"] == 1
    finally:
        system.stop()
    assert system.process.returncode == 0, system.log.read_text()


def test_a_killed_broker_comes_back_with_its_topics_and_events_flow_again(tmp_path: Path) -> None:
    system = start_dev(tmp_path / "data")
    try:
        before = f"c-{os.urandom(6).hex()}"
        post_when_accepted(system, [touchpoint(before)])
        wait_for_version(system, before, 1)
        old = pids_of(system)["broker"]
        os.kill(old, signal.SIGKILL)
        restarted(system, "broker", old)
        wait_for(lambda: healthy(system.projection), 60, "the projection to answer")
        after = f"c-{os.urandom(6).hex()}"
        post_when_accepted(system, [touchpoint(after)])
        assert wait_for_version(system, after, 1, timeout=120)["version"] == 1
    finally:
        system.stop()
    assert system.process.returncode == 0, system.log.read_text()


def test_killing_rapport_dev_outright_takes_every_child_with_it_and_the_next_start_is_clean(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    system = start_dev(data_dir)
    children = {name: pid for name, pid in pids_of(system).items() if name != "dev"}
    assert set(children) >= {"broker", "experience", "projection"}
    system.process.send_signal(signal.SIGKILL)
    system.process.wait(timeout=10)
    wait_for(
        lambda: not any(process_is_alive(pid) for pid in children.values()),
        10,
        f"every child of the killed dev to exit: {children}",
    )
    again = start_dev(data_dir)  # same ports are not needed; the data directory and its PostgreSQL are
    try:
        customer = f"c-{os.urandom(6).hex()}"
        post_when_accepted(again, [touchpoint(customer)])
        wait_for_version(again, customer, 1)
        postmaster = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    finally:
        again.stop()
    assert again.process.returncode == 0, again.log.read_text()
    wait_for(lambda: not process_is_alive(postmaster), 30, "PostgreSQL to stop with the clean stop")


def test_a_postmaster_killed_with_rapport_dev_does_not_stop_the_next_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for _ in range(2):  # twice: the dead postmaster is a zombie here, which PostgreSQL's own lock check trusts
        system = start_dev(data_dir)
        postmaster = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        system.process.send_signal(signal.SIGKILL)
        system.process.wait(timeout=10)
        os.kill(postmaster, signal.SIGKILL)
        wait_for(lambda pid=postmaster: not process_is_alive(pid), 10, "the postmaster to die")
    again = start_dev(data_dir)
    try:
        customer = f"c-{os.urandom(6).hex()}"
        post_when_accepted(again, [touchpoint(customer)])
        wait_for_version(again, customer, 1)
    finally:
        again.stop()
    assert again.process.returncode == 0, again.log.read_text()
