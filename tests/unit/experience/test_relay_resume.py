"""Where the relay resumes: never past what the broker really holds."""

import orjson

from services.experience.adapters.ports import OutgoingRecord
from services.experience.handlers.relay import EventRelay

from .fakes import FakeEventStore, FakeProducer


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
