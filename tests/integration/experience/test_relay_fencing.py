"""Relay leadership is fenced by Kafka cluster: two stacks on one database never split the stream between brokers."""

import asyncio

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import parse_event
from services.experience.adapters.event_store import PostgresEventStore
from services.experience.adapters.kafka import KafkaRecordProducer
from services.experience.handlers.append_events import append_events
from services.experience.handlers.record_events import to_new_event
from services.experience.handlers.relay import EventRelay

from ...unit.experience.events import new_id, touchpoint
from ...unit.experience.fakes import IDENTITIES, FakeProducer
from ...unit.experience.relays import running
from .kafka_helpers import eventually

pytestmark = pytest.mark.integration


async def checkpoint_row(engine: AsyncEngine, name: str) -> tuple[int, str | None] | None:
    async with engine.connect() as conn:
        query = text("SELECT position, cluster_id FROM relay_checkpoints WHERE name = :n")
        row = (await conn.execute(query, {"n": name})).one_or_none()
    return None if row is None else (row[0], row[1])


def published(producer: FakeProducer, topic: str) -> list[int]:
    return [orjson.loads(r.value or b"")["position"] for r in producer.sent.get(topic, [])]


async def test_only_the_relay_of_the_checkpoints_cluster_advances_it(
    store: PostgresEventStore, engine: AsyncEngine
) -> None:
    name, live, stray = new_id("relay"), FakeProducer("live-cluster"), FakeProducer("stray-cluster")
    other_stack = PostgresEventStore(engine, leadership_retry_s=0.05)  # the same database, another process's store
    start = await store.head()

    async with running(EventRelay(store, live, name, name=name, poll_interval_s=0.02, retry_s=0.05)):
        await eventually(lambda: _owned_by(engine, name, "live-cluster"), timeout_s=10.0)
        async with running(EventRelay(other_stack, stray, name, name=name, poll_interval_s=0.02, retry_s=0.05)):
            events = [to_new_event(parse_event(touchpoint()), IDENTITIES) for _ in range(4)]
            await append_events(other_stack, events)
            head = await store.head()
            await eventually(lambda: _checkpoint_at(engine, name, head), timeout_s=10.0)
            await asyncio.sleep(0.3)  # time for the stray relay to try, and fail, to lead

    assert [p for p in published(live, name) if p > start][-4:] == list(range(head - 3, head + 1))
    assert published(stray, name) == []
    assert await checkpoint_row(engine, name) == (head, "live-cluster")


async def test_a_checkpoint_from_before_fencing_goes_to_the_first_relay_that_leads(
    store: PostgresEventStore, engine: AsyncEngine
) -> None:
    name = new_id("relay")
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO relay_checkpoints (name, position) VALUES (:n, 3)"), {"n": name})

    async with store.leadership(name, "cluster-a") as checkpoint:
        assert await checkpoint.load() == 3
        await checkpoint.save(4)

    assert await checkpoint_row(engine, name) == (4, "cluster-a")


async def test_the_broker_names_its_cluster(kafka_bootstrap: str) -> None:
    producers = [KafkaRecordProducer(kafka_bootstrap, idempotence=False) for _ in range(2)]
    for producer in producers:
        await producer.start()
    try:
        first, second = [await p.cluster_id() for p in producers]
    finally:
        for producer in producers:
            await producer.stop()
    assert first and first == second


async def _owned_by(engine: AsyncEngine, name: str, cluster_id: str) -> bool:
    row = await checkpoint_row(engine, name)
    return row is not None and row[1] == cluster_id


async def _checkpoint_at(engine: AsyncEngine, name: str, position: int) -> bool:
    row = await checkpoint_row(engine, name)
    return row is not None and row[0] >= position
