"""Nothing accepted is lost or doubled when a service restarts, or when the broker forgets everything."""

import asyncio
import signal
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from contracts.auth import Scope, describe, new_key
from services.cli.embedded import EmbeddedBroker, create_topics, free_port
from services.cli.processes import Child, run_once
from services.cli.topology import TOPICS
from tests.e2e.conftest import RunningSystem, start_dev, touchpoint, wait_for_version

pytestmark = pytest.mark.e2e


BATCH = {"content-type": "application/cloudevents-batch+json"}
KEY = new_key()
AUTH = {"authorization": f"Bearer {KEY}"}


def post(system: RunningSystem, events: list[dict]) -> None:
    answer = system.post("/v1/events", json=events, headers=BATCH)
    assert answer.status_code == 202, answer.text


def post_to(base: str, events: list[dict]) -> None:
    answer = httpx.post(f"{base}/v1/events", json=events, timeout=30, headers={**BATCH, **AUTH})
    assert answer.status_code == 202, answer.text


def stream(customers: list[str], count: int) -> list[dict]:
    return [touchpoint(customers[n % len(customers)], sentiment=0.5 if n % 3 else -0.5) for n in range(count)]


def test_restarting_rapport_dev_keeps_every_view_although_the_broker_starts_empty(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    customers = [f"c-{uuid.uuid4().hex[:8]}" for _ in range(5)]
    first = start_dev(data_dir)
    try:
        post(first, stream(customers, 50))
        before = {c: wait_for_version(first, c, 10) for c in customers}
    finally:
        first.stop()
    second = start_dev(data_dir)
    try:
        for c in customers:  # views survive the restart as they were
            view = second.get(f"/v1/customers/{c}").json()
            assert view["version"] == before[c]["version"] == 10
        post(second, stream(customers, 25))
        for c in customers:  # the relay re-sends what the broker forgot; nothing is applied twice
            view = wait_for_version(second, c, 15)
            assert view["version"] == 15
            assert view["experience"]["touchpoints"] == 15
    finally:
        second.stop()


@pytest.mark.integration
async def test_a_projection_killed_mid_stream_resumes_with_exact_counts(database_factory, tmp_path: Path) -> None:
    database_url = await database_factory()
    broker = EmbeddedBroker(free_port(), log_path=tmp_path / "broker.log").start()
    children: list[Child] = []
    try:
        await create_topics(broker.bootstrap, TOPICS)
        ports = free_port(), free_port()
        env = {
            "RAPPORT_EXPERIENCE_DATABASE_URL": database_url,
            "RAPPORT_EXPERIENCE_KAFKA_BOOTSTRAP": broker.bootstrap,
            "RAPPORT_EXPERIENCE_HTTP_PORT": str(ports[0]),
            "RAPPORT_PROJECTION_DATABASE_URL": database_url,
            "RAPPORT_PROJECTION_KAFKA_BOOTSTRAP": broker.bootstrap,
            "RAPPORT_PROJECTION_HTTP_PORT": str(ports[1]),
            "RAPPORT_EXPERIENCE_API_KEYS": describe("test", KEY, list(Scope)),
            "RAPPORT_PROJECTION_API_KEYS": describe("test", KEY, list(Scope)),
        }
        run_once(["-m", "services.experience", "migrate"], env, "experience migrations")
        run_once(["-m", "services.projection", "migrate"], env, "projection migrations")
        experience = Child(
            "experience",
            ["-m", "services.experience", "serve"],
            env,
            tmp_path / "exp.log",
            f"http://127.0.0.1:{ports[0]}/healthz",
        )

        def projection(n: int) -> Child:
            return Child(
                "projection",
                ["-m", "services.projection", "serve"],
                env,
                tmp_path / f"proj{n}.log",
                f"http://127.0.0.1:{ports[1]}/healthz",
            )

        first = projection(1)
        for child in (experience, first):
            child.start()
            children.append(child)
            await asyncio.to_thread(child.wait_healthy, 60)
        base = f"http://127.0.0.1:{ports[0]}"
        read = RunningSystem(base, f"http://127.0.0.1:{ports[1]}", broker.bootstrap, tmp_path, None, tmp_path, KEY)
        customers = [f"c-{uuid.uuid4().hex[:8]}" for _ in range(40)]
        events = stream(customers, 4000)
        expected = Counter(e["data"]["customer_id"] for e in events)
        for chunk in range(0, 2000, 250):
            await asyncio.to_thread(post_to, base, events[chunk : chunk + 250])
        await asyncio.to_thread(wait_for_version, read, customers[0], 1)
        first.process.send_signal(signal.SIGKILL)  # a crash, not a polite stop
        first.process.wait()
        for chunk in range(2000, 4000, 250):
            await asyncio.to_thread(post_to, base, events[chunk : chunk + 250])
        second = projection(2)
        second.start()
        children.append(second)
        await asyncio.to_thread(second.wait_healthy, 60)
        for c in customers:
            view = await asyncio.to_thread(wait_for_version, read, c, expected[c], 60)
            assert view["version"] == expected[c]
            assert view["experience"]["touchpoints"] == expected[c]
    finally:
        for child in reversed(children):
            child.stop()
        broker.stop()
