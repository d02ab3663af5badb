"""The `cx.intake.v1` subscriber against the real broker: valid records stored, poison dead-lettered."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from contracts import topics
from services.experience.adapters.event_store import PostgresEventStore
from services.experience.adapters.kafka import KafkaRecordProducer
from services.experience.adapters.ports import AppendBatch, EventStoreUnavailableError
from services.experience.entrypoints.kafka_intake import subscribe_intake
from services.experience.handlers.intake import IntakeHandler
from services.experience.handlers.record_events import EventRecorder

from ...unit.experience.events import new_id, touchpoint
from ...unit.experience.fakes import IDENTITIES
from .kafka_helpers import eventually, make_topic, read_topic

pytestmark = pytest.mark.integration

POISON = {
    "not_utf8": b'{"id": "\xff"}',
    "invalid_json": b'{"specversion": "1.0",',
    "not_an_object": b'["an", "array"]',
    "unknown_type": orjson.dumps(touchpoint() | {"type": "cx.mystery.v9"}),
    "validation_failed": orjson.dumps(touchpoint(sentiment=4, channel="pigeon")),
}


class FlakyStore(PostgresEventStore):
    """Down for its first `failures` appends, as PostgreSQL during a restart."""

    def __init__(self, store: PostgresEventStore, failures: int) -> None:
        self.__dict__.update(store.__dict__)
        self.failures = failures

    @contextlib.asynccontextmanager
    async def appending(self) -> AsyncIterator[AppendBatch]:
        if self.failures > 0:
            self.failures -= 1
            raise EventStoreUnavailableError("database restarting")
        async with super().appending() as batch:
            yield batch


@contextlib.asynccontextmanager
async def intake(bootstrap: str, store: PostgresEventStore, topic: str, dlq: str) -> AsyncIterator[None]:
    producer = KafkaRecordProducer(bootstrap, idempotence=False)
    await producer.start()
    broker = KafkaBroker(bootstrap, enable_idempotence=False)
    handler = IntakeHandler(EventRecorder(store, IDENTITIES), producer, dlq, retry_s=0.1)
    subscribe_intake(broker, handler, topic=topic, group_id=new_id("group"), max_records=500)
    await broker.start()
    try:
        yield
    finally:
        await broker.stop()
        await producer.stop()


async def send(bootstrap: str, topic: str, records: list[tuple[bytes, bytes | None, list]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, value=value, key=key, headers=headers, partition=0)
    finally:
        await producer.stop()


async def stored_ids(store: PostgresEventStore) -> set[str]:
    return {e.event_id for e in await store.read_from(0, 10_000)}


async def test_valid_records_are_stored_and_every_bad_one_dead_lettered_as_it_came(
    store: PostgresEventStore, kafka_bootstrap: str, topic_names: Callable[[str], str]
) -> None:
    topic = await make_topic(kafka_bootstrap, topic_names("intake"))
    dlq = await make_topic(kafka_bootstrap, topic_names("dlq"), partitions=1)
    before, after = touchpoint(), touchpoint()
    poison = [(f"k{i}".encode(), value, [("origin", b"pos-7")]) for i, value in enumerate(POISON.values())]
    bad_header = (b"kh", orjson.dumps(touchpoint(sentiment=9)), [("binary", b"\xff\xfe")])
    await send(kafka_bootstrap, topic, [(b"a", orjson.dumps(before), []), *poison, bad_header])

    async with intake(kafka_bootstrap, store, topic, dlq):
        letters = await read_topic(kafka_bootstrap, dlq, count=len(POISON) + 1, timeout_s=30)
        await send(kafka_bootstrap, topic, [(b"b", orjson.dumps(after), [])])  # the consumer keeps going
        await eventually(lambda: _holds(store, {before["id"], after["id"]}))

    assert [r.value for r in letters] == [*POISON.values(), bad_header[1]]
    assert [r.key for r in letters] == [*(k for k, _, _ in poison), b"kh"]
    headers = [dict(r.headers) for r in letters]
    assert [h[topics.DLQ_REASON].decode() for h in headers] == [*POISON, "validation_failed"]
    assert all(h[topics.DLQ_TOPIC].decode() == topic and h[topics.DLQ_PARTITION] == b"0" for h in headers)
    assert [int(h[topics.DLQ_OFFSET]) for h in headers] == list(range(1, len(POISON) + 2))
    assert headers[0]["origin"] == b"pos-7" and headers[-1]["binary"] == b"\xff\xfe"
    assert b"data.channel" in headers[len(POISON) - 1][topics.DLQ_DETAIL]
    assert await stored_ids(store) == {before["id"], after["id"]}


async def test_a_batch_the_store_could_not_take_is_redelivered_not_lost(
    store: PostgresEventStore, kafka_bootstrap: str, topic_names: Callable[[str], str]
) -> None:
    topic = await make_topic(kafka_bootstrap, topic_names("intake"))
    dlq = await make_topic(kafka_bootstrap, topic_names("dlq"), partitions=1)
    events = [touchpoint() for _ in range(5)]
    await send(kafka_bootstrap, topic, [(b"k", orjson.dumps(e), []) for e in events])

    flaky = FlakyStore(store, failures=2)
    async with intake(kafka_bootstrap, flaky, topic, dlq):
        await eventually(lambda: _holds(store, {e["id"] for e in events}))

    assert flaky.failures == 0


async def _holds(store: PostgresEventStore, ids: set[str]) -> bool:
    await asyncio.sleep(0)
    return ids <= await stored_ids(store)
