"""`rapport rebuild` on the running system: the same views from the event store, nothing lost while it runs."""

import os
import subprocess
import sys
import threading
import uuid
from collections import Counter

import httpx
import pytest

from tests.e2e.conftest import BATCH, RunningSystem, customer, event, touchpoint, view_of, wait_for, wait_for_version

pytestmark = pytest.mark.e2e


def rebuild(system: RunningSystem, **settings: str) -> str:
    """`rapport rebuild` as an operator runs it; `settings` are RAPPORT_PROJECTION_* variables (name in lower case)."""
    env = {
        **os.environ,
        "RAPPORT_API_KEY": system.api_key,
        **{f"RAPPORT_PROJECTION_{name.upper()}": value for name, value in settings.items()},
    }
    done = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "rebuild", "--data-dir", str(system.data_dir)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_rebuild_gives_the_same_views_and_keeps_the_erased_forgotten(system: RunningSystem) -> None:
    ana, gone, account = customer(), customer(), f"acct-{uuid.uuid4().hex[:8]}"
    events = [
        event(
            "cx.preference.stated.v1",
            {"customer_id": ana, "preferences": {"channel": "email", "tone": "casual"}, "source": "stated"},
        ),
        touchpoint(ana, channel="store", kind="visit", sentiment=0.8, time="2026-10-02T10:00:00Z"),
        touchpoint(
            ana, channel="phone", kind="complaint", sentiment=-0.7, outcome="unresolved", time="2026-10-03T10:00:00Z"
        ),
        event(
            "cx.account.membership.changed.v1",
            {"customer_id": ana, "account_id": account, "role": "decision_maker", "member": True},
        ),
        touchpoint(gone, note="Allergic to nuts; birthday on the 3rd."),
        event(
            "cx.account.membership.changed.v1",
            {"customer_id": gone, "account_id": account, "role": "purchasing", "member": True},
        ),
    ]
    assert system.post("/v1/events", json=events, headers=BATCH).status_code == 202
    wait_for_version(system, ana, 4)
    wait_for_version(system, gone, 2)
    assert httpx.delete(f"{system.experience}/v1/customers/{gone}", headers=system.auth, timeout=30).is_success
    wait_for(lambda: system.get(f"/v1/customers/{gone}").status_code == 404, 30, "the erasure")
    wait_for(lambda: system.get(f"/v1/accounts/{account}").status_code == 200, 30, "the account view")
    before = {
        path: system.get(path).json()
        for path in (f"/v1/customers/{ana}", f"/v1/customers/{ana}/timeline", f"/v1/accounts/{account}")
    }

    for settings in ({}, {"rebuild_processes": "1"}, {"rebuild_processes": "2", "rebuild_shards": "3"}):
        output = rebuild(system, **settings)  # two shards side by side, one in-process, three in two rounds

        assert "rebuilt" in output, settings
        assert {path: system.get(path).json() for path in before} == before, settings
    assert system.get(f"/v1/customers/{gone}").status_code == 404
    assert system.get(f"/v1/customers/{gone}/timeline").status_code == 404
    # the workers write into the rebuilt tables afterwards
    assert system.post("/v1/events", json=touchpoint(ana, sentiment=0.9)).status_code == 202
    assert wait_for_version(system, ana, 5)["experience"]["touchpoints"] == 3


def test_touchpoints_stored_during_a_rebuild_are_all_applied_once(system: RunningSystem) -> None:
    team = [customer() for _ in range(20)]
    sent: Counter[str] = Counter()
    # A history large enough that the rebuild takes a while, and writes that keep coming while it runs.
    for round_ in range(10):
        batch = [touchpoint(team[(round_ * 100 + i) % len(team)], sentiment=0.1) for i in range(100)]
        assert system.post("/v1/events", json=batch, headers=BATCH).status_code == 202
        sent.update(e["data"]["customer_id"] for e in batch)
    stop = threading.Event()

    def keep_writing() -> None:
        i = 0
        while not stop.is_set():
            batch = [touchpoint(team[(i + k) % len(team)]) for k in range(7)]
            if system.post("/v1/events", json=batch, headers=BATCH).status_code == 202:
                sent.update(e["data"]["customer_id"] for e in batch)
            i += 7

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        rebuild(system)
        rebuild(system, rebuild_processes="1")  # and a second one on top of the first, in one process
    finally:
        stop.set()
        writer.join(30)

    for member in team:
        view = wait_for_version(system, member, sent[member], timeout=60)
        assert view["version"] == view["experience"]["touchpoints"] == sent[member], member
    assert view_of(system, team[0]) is not None
