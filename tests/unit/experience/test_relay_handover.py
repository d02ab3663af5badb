"""The relay publishes what its own process committed from memory, and reads the store only to fill a gap."""

import asyncio

from services.experience.adapters.ports import StoredEvent
from services.experience.handlers.append_events import append_events
from services.experience.handlers.record_events import to_new_event, validate_all
from services.experience.handlers.relay import EventRelay

from .events import touchpoint
from .fakes import IDENTITIES, FakeEventStore, FakeProducer
from .relays import published, running, until


class CountingStore(FakeEventStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads_after: list[int] = []

    async def read_from(self, position: int, limit: int) -> list[StoredEvent]:
        self.reads_after.append(position)
        return await super().read_from(position, limit)


async def append(store: FakeEventStore, count: int) -> list[StoredEvent]:
    """Append `count` events; return them as the store's append hands them over."""
    before = len(store.rows)
    events = [to_new_event(e, IDENTITIES) for e in validate_all([touchpoint() for _ in range(count)])]
    await append_events(store, events)
    return await FakeEventStore.read_from(store, before, count)


async def test_handed_over_events_are_published_without_reading_them_back() -> None:
    store, producer = CountingStore(), FakeProducer()
    relay = EventRelay(store, producer, "events", name="relay", poll_interval_s=0.02)
    async with running(relay):
        await until(lambda: 0 in store.reads_after)  # leading, caught up with an empty store
        relay.offer(await append(store, 3))
        await until(lambda: len(published(producer)) == 3)
        assert published(producer) == [1, 2, 3]
        assert all(after in (0, 3) for after in store.reads_after)  # never read 1..3 back
        assert store.checkpoints["relay"] == 3


async def test_a_gap_in_what_was_handed_over_is_filled_from_the_store_each_event_once() -> None:
    store, producer = CountingStore(), FakeProducer()
    relay = EventRelay(store, producer, "events", name="relay", poll_interval_s=0.02)
    async with running(relay):
        await until(lambda: 0 in store.reads_after)
        relay.offer(await append(store, 2))
        await until(lambda: len(published(producer)) == 2)
        other_replica = await append(store, 1)  # committed elsewhere: never handed to this relay
        relay.offer(await append(store, 3))
        await until(lambda: len(published(producer)) == 6)
        await asyncio.sleep(0.1)  # nothing more arrives: the handed copies of 4..6 are not sent again
        assert other_replica[0].position == 3
        assert published(producer) == [1, 2, 3, 4, 5, 6]
        assert 2 in store.reads_after  # the gap at 3 was read from the store


async def test_a_relay_that_does_not_lead_keeps_nothing_handed_over() -> None:
    store, producer = FakeEventStore(), FakeProducer()
    relay = EventRelay(store, producer, "events", name="relay")
    relay.offer(await append(store, 2))  # not leading: another replica publishes these
    assert relay._take_handed(0) == []


async def test_a_topic_that_lost_what_was_published_is_filled_again_without_a_restart() -> None:
    store, producer = CountingStore(), FakeProducer()
    relay = EventRelay(store, producer, "events", name="relay", poll_interval_s=0.02, topic_check_s=0.1)
    async with running(relay):
        await until(lambda: 0 in store.reads_after)
        relay.offer(await append(store, 3))
        await until(lambda: published(producer) == [1, 2, 3])
        producer.sent["events"] = []  # the broker restarted empty; the producer saw no error
        await until(lambda: published(producer) == [1, 2, 3])  # sent again from the store, in order
        relay.offer(await append(store, 1))
        await until(lambda: published(producer) == [1, 2, 3, 4])


async def test_after_a_hand_over_the_store_is_read_only_when_woken_with_nothing_handed() -> None:
    # Reading the store after every round raced the next append's hand-over: a batch committed but not yet handed
    # over was read back from the store, just before it arrived in memory.
    store, producer = CountingStore(), FakeProducer()
    relay = EventRelay(store, producer, "events", name="relay", poll_interval_s=30.0)
    async with running(relay):
        await until(lambda: 0 in store.reads_after)
        relay.offer(await append(store, 3))
        relay.offer(await append(store, 2))
        await until(lambda: len(published(producer)) == 5)
        await asyncio.sleep(0.05)
        assert store.reads_after == [0]  # the term's first read only
        await append(store, 1)  # another replica's append: its NOTIFY wakes the relay with nothing handed
        relay.wake.set()
        await until(lambda: len(published(producer)) == 6)
        assert store.reads_after[1:2] == [5]
        assert published(producer) == [1, 2, 3, 4, 5, 6]
