"""/readyz: 200 only with the database reachable at the migration head and the broker answering; else 503
naming what is not ready. /healthz stays a cheap liveness answer."""

from collections.abc import AsyncIterator

import httpx
import pytest

from services.experience.entrypoints.readiness import Readiness

from .fakes import FakeEventStore, FakeProducer
from .http_client import client_of, recording_api


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def producer() -> FakeProducer:
    return FakeProducer()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(store: FakeEventStore, producer: FakeProducer, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    readiness = Readiness(store, producer, "0002", frozenset({"0001"}), broker_cache_s=2.0, clock=clock)
    app = recording_api(store, readiness=readiness)
    async with client_of(app) as http:
        yield http


async def test_ready_when_everything_answers(client: httpx.AsyncClient) -> None:
    answer = await client.get("/readyz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "database": "ok", "migrations": "ok", "broker": "ok"}


async def test_a_database_outage_is_named_and_liveness_does_not_care(
    client: httpx.AsyncClient, store: FakeEventStore
) -> None:
    store.available = False

    answer = await client.get("/readyz")

    assert answer.status_code == 503
    assert answer.json()["database"] == "unreachable"
    assert (await client.get("/healthz")).status_code == 200


@pytest.mark.parametrize(("version", "ready"), [(None, False), ("0001", False), ("0002", True), ("0003", True)])
async def test_migrations_behind_the_head_are_not_ready_a_newer_schema_is(
    client: httpx.AsyncClient, store: FakeEventStore, version: str | None, ready: bool
) -> None:
    store.version = version  # "0003": a newer release migrated first during a rolling deploy

    answer = await client.get("/readyz")

    assert (answer.status_code == 200) == ready
    assert (answer.json()["migrations"] == "ok") == ready
    if not ready:
        assert "migrate" in answer.json()["migrations"]


async def test_the_broker_answer_is_cached_briefly(
    client: httpx.AsyncClient, producer: FakeProducer, clock: Clock
) -> None:
    producer.available = False
    first = await client.get("/readyz")
    producer.available = True
    cached = await client.get("/readyz")
    clock.now += 2.5
    fresh = await client.get("/readyz")

    assert first.status_code == cached.status_code == 503 and first.json()["broker"] == "unreachable"
    assert fresh.status_code == 200
    assert producer.pings == 2
