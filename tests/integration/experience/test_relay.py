"""The relay against real PostgreSQL and the real broker: order, keys, restarts and a broker that forgot."""

from collections.abc import AsyncIterator, Callable

import orjson
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.records_to_delete import RecordsToDelete
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import canonical, parse_event
from services.experience.adapters.event_store import PostgresEventStore
from services.experience.adapters.kafka import KafkaRecordProducer
from services.experience.adapters.ports import OutgoingRecord
from services.experience.handlers.append_events import append_events
from services.experience.handlers.record_events import EventRecorder, to_new_event
from services.experience.handlers.relay import EventRelay

from ...unit.experience.events import new_id, preference, touchpoint
from ...unit.experience.fakes import IDENTITIES
from ...unit.experience.relays import running
from .kafka_helpers import eventually, make_topic, read_topic

pytestmark = pytest.mark.integration


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[KafkaRecordProducer]:
    producer = KafkaRecordProducer(kafka_bootstrap, idempotence=False, linger_ms=2)
    await producer.start()
    yield producer
    await producer.stop()


async def append_for(store: PostgresEventStore, customers: list[str], rounds: int) -> None:
    for _ in range(rounds):
        batch = [touchpoint(c) if i % 2 else preference(c) for i, c in enumerate(customers)]
        await append_events(store, [to_new_event(parse_event(d), IDENTITIES) for d in batch])


def positions(records: list) -> list[int]:
    return [orjson.loads(r.value)[canonical.POSITION] for r in records]


async def checkpoint_reaches(engine: AsyncEngine, name: str, position: int) -> None:
    async def reached() -> bool:  # read beside the leader, whose lock a second leadership would wait for
        async with engine.connect() as conn:
            saved = await conn.scalar(text("SELECT position FROM relay_checkpoints WHERE name = :n"), {"n": name})
        return (saved or 0) >= position

    await eventually(reached)


async def test_events_go_out_in_position_order_keyed_by_customer(
    store: PostgresEventStore, producer: KafkaRecordProducer, kafka_bootstrap: str, topic_names: Callable[[str], str]
) -> None:
    topic = await make_topic(kafka_bootstrap, topic_names("events"))
    customers = [new_id("c") for _ in range(6)]
    await append_for(store, customers, rounds=5)

    async with running(EventRelay(store, producer, topic, name=topic, batch_size=7, poll_interval_s=0.02)):
        records = await read_topic(kafka_bootstrap, topic, count=30)

    assert sorted(positions(records)) == list(range(1, 31))
    for partition in {r.partition for r in records}:
        in_partition = positions([r for r in records if r.partition == partition])
        assert in_partition == sorted(in_partition)
    for record in records:
        document = orjson.loads(record.value)
        assert record.key.decode() == document["subject"] == document["data"]["customer_id"]
        headers = dict(record.headers)
        assert headers[canonical.HEADER_TYPE].decode() == document["type"]
        assert headers[canonical.HEADER_ID].decode() == document["id"]
        assert headers[canonical.HEADER_CONTENT_TYPE] == b"application/cloudevents+json"
        assert {canonical.SEQUENCE, canonical.RECORDED_AT} <= document.keys()
    by_customer = [orjson.loads(r.value)[canonical.SEQUENCE] for r in records if r.key.decode() == customers[0]]
    assert sorted(by_customer) == [1, 2, 3, 4, 5]


async def test_a_restarted_relay_resumes_after_its_checkpoint_and_wakes_on_appends(
    store: PostgresEventStore,
    engine: AsyncEngine,
    producer: KafkaRecordProducer,
    kafka_bootstrap: str,
    topic_names: Callable[[str], str],
) -> None:
    topic = await make_topic(kafka_bootstrap, topic_names("events"))
    customers = [new_id("c") for _ in range(3)]
    await append_for(store, customers, rounds=2)
    async with running(EventRelay(store, producer, topic, name=topic, poll_interval_s=0.02)):
        await checkpoint_reaches(engine, topic, 6)

    await append_for(store, customers, rounds=1)
    # A long poll interval: only the hand-over can make this relay publish the next append promptly.
    relay = EventRelay(store, producer, topic, name=topic, poll_interval_s=3600)
    async with running(relay):
        await checkpoint_reaches(engine, topic, 9)
        store.hand_committed_to(relay.offer)  # wired as bootstrap wires it: the hand-over wakes the relay
        recorder = EventRecorder(store, IDENTITIES)
        await recorder.record([parse_event(touchpoint(c)) for c in customers])
        records = await read_topic(kafka_bootstrap, topic, count=12)

    assert sorted(positions(records)) == list(range(1, 13))  # each exactly once: nothing re-sent, nothing skipped


async def test_a_topic_that_lost_its_records_is_refilled_from_the_start(
    store: PostgresEventStore,
    engine: AsyncEngine,
    producer: KafkaRecordProducer,
    kafka_bootstrap: str,
    topic_names: Callable[[str], str],
) -> None:
    first = await make_topic(kafka_bootstrap, topic_names("events"))
    await append_for(store, [new_id("c") for _ in range(4)], rounds=2)
    async with running(EventRelay(store, producer, first, name="relay", poll_interval_s=0.02)):
        await checkpoint_reaches(engine, "relay", 8)

    # Same checkpoint, but the broker no longer holds those records (as after an embedded broker restart).
    forgotten = topic_names("events")
    await make_topic(kafka_bootstrap, forgotten)
    async with running(EventRelay(store, producer, forgotten, name="relay", poll_interval_s=0.02)):
        records = await read_topic(kafka_bootstrap, forgotten, count=8)

    assert sorted(positions(records)) == list(range(1, 9))


async def test_two_replicas_publish_each_event_once(
    store: PostgresEventStore, producer: KafkaRecordProducer, kafka_bootstrap: str, topic_names: Callable[[str], str]
) -> None:
    topic = await make_topic(kafka_bootstrap, topic_names("events"))
    one = EventRelay(store, producer, topic, name=topic, poll_interval_s=0.02)
    two = EventRelay(store, producer, topic, name=topic, poll_interval_s=0.02)
    async with running(one), running(two):
        await append_for(store, [new_id("c") for _ in range(5)], rounds=4)
        records = await read_topic(kafka_bootstrap, topic, count=20)

    assert sorted(positions(records)) == list(range(1, 21))


async def test_only_a_topic_emptied_by_retention_counts_as_expired(
    producer: KafkaRecordProducer, kafka_bootstrap: str, topic_names: Callable[[str], str]
) -> None:
    missing, topic = topic_names("missing"), await make_topic(kafka_bootstrap, topic_names("events"), partitions=2)
    assert not await producer.expired(missing)
    assert not await producer.expired(topic)  # new: nothing ever written, as after a broker lost its data
    await producer.send_all(topic, [OutgoingRecord(f"c-{n}".encode(), b"{}", []) for n in range(4)])
    assert not await producer.expired(topic)

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        # What retention does: the records go, the offsets stay.
        await admin.delete_records({TopicPartition(topic, p): RecordsToDelete(-1) for p in range(2)})
    except Exception as error:
        pytest.skip(f"this broker cannot delete records ({error!r}); real Kafka can")
    finally:
        await admin.close()
    assert await producer.expired(topic)
