"""Where the relay resumes: never past what the broker really holds."""

import orjson

from services.experience.adapters.ports import OutgoingRecord
from services.experience.handlers.append_events import append_events
from services.experience.handlers.record_events import to_new_event, validate_all
from services.experience.handlers.relay import EventRelay

from .events import touchpoint
from .fakes import IDENTITIES, FakeEventStore, FakeProducer
from .relays import published, running, until


async def resume_after(checkpoint: int, topic_positions: list[int], expired: bool = False) -> int:
    store, producer = FakeEventStore(), FakeProducer()
    store.checkpoints["relay"] = checkpoint
    for position in topic_positions:
        await producer.send_all("events", [OutgoingRecord(b"c", orjson.dumps({"position": position}), [])])
    if expired:
        producer.expire("events")
    relay = EventRelay(store, producer, "events", name="relay")
    async with store.leadership("relay", await producer.cluster_id()) as saved:
        return await relay.resume_position(saved)


async def test_an_intact_topic_resumes_at_the_checkpoint() -> None:
    assert await resume_after(checkpoint=7, topic_positions=[5, 7, 9]) == 7


async def test_a_topic_behind_the_checkpoint_is_refilled_from_what_it_holds() -> None:
    assert await resume_after(checkpoint=50, topic_positions=[3, 4]) == 4


async def test_an_empty_or_missing_topic_starts_over() -> None:
    assert await resume_after(checkpoint=50, topic_positions=[]) == 0


async def test_a_topic_emptied_by_retention_resumes_at_the_checkpoint() -> None:
    # Not lost: published, then expired. Sending the whole store again would gain nothing.
    assert await resume_after(checkpoint=50, topic_positions=[48, 50], expired=True) == 50


async def test_a_topic_recreated_under_a_leader_gets_the_whole_store_again() -> None:
    # A broker that came back empty while the producer reconnected without an error: the next send lands at
    # offset 0 of a new log, and what the old one held (and the projection may not have read) is gone.
    store, producer = FakeEventStore(), FakeProducer()
    relay = EventRelay(store, producer, "events", name="relay", poll_interval_s=0.02)
    async with running(relay):
        await append_events(
            store, [to_new_event(e, IDENTITIES) for e in validate_all([touchpoint() for _ in range(5)])]
        )
        await until(lambda: store.checkpoints.get("relay") == 5)
        producer.restart_empty("events")
        await append_events(
            store, [to_new_event(e, IDENTITIES) for e in validate_all([touchpoint() for _ in range(2)])]
        )
        await until(lambda: store.checkpoints.get("relay") == 7 and set(published(producer)) == set(range(1, 8)))
    assert published(producer)[-7:] == [1, 2, 3, 4, 5, 6, 7]  # the new log ends with the whole store in order
