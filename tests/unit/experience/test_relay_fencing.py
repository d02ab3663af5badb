"""Relays attached to different Kafka clusters share one store: only the checkpoint's own cluster's relay leads."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import orjson

from services.experience.handlers.append_events import append_events
from services.experience.handlers.record_events import to_new_event, validate_all
from services.experience.handlers.relay import EventRelay

from .events import touchpoint
from .fakes import IDENTITIES, FakeEventStore, FakeProducer


@contextlib.asynccontextmanager
async def running(relay: EventRelay) -> AsyncIterator[None]:
    task = asyncio.create_task(relay.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - the relays run in other tasks; polling what they did is the test
            await asyncio.sleep(0.01)


def relay(store: FakeEventStore, producer: FakeProducer) -> EventRelay:
    return EventRelay(store, producer, "events", name="relay", poll_interval_s=0.02, retry_s=0.02)


def published(producer: FakeProducer) -> list[int]:
    return [orjson.loads(r.value or b"")["position"] for r in producer.sent.get("events", [])]


async def test_only_the_relay_of_the_checkpoints_cluster_publishes_and_advances_it() -> None:
    store, live, stray = FakeEventStore(), FakeProducer("live-cluster"), FakeProducer("stray-cluster")
    async with running(relay(store, live)):
        await until(lambda: store.checkpoint_clusters.get("relay") == "live-cluster")
        async with running(relay(store, stray)):
            await asyncio.sleep(0.1)  # the stray relay tries to lead a few times meanwhile
            events = validate_all([touchpoint() for _ in range(5)])
            await append_events(store, [to_new_event(e, IDENTITIES) for e in events])
            await until(lambda: store.checkpoints.get("relay") == 5)
            await asyncio.sleep(0.1)

    assert published(live) == [1, 2, 3, 4, 5]
    assert published(stray) == []
    assert store.checkpoint_clusters["relay"] == "live-cluster"


async def test_a_stray_relay_alone_publishes_nothing_and_leaves_the_checkpoint_alone() -> None:
    store, stray = FakeEventStore(), FakeProducer("stray-cluster")
    store.checkpoint_clusters["relay"], store.checkpoints["relay"] = "live-cluster", 2
    events = validate_all([touchpoint() for _ in range(3)])
    await append_events(store, [to_new_event(e, IDENTITIES) for e in events])

    async with running(relay(store, stray)):
        await asyncio.sleep(0.2)

    assert (published(stray), store.checkpoints["relay"]) == ([], 2)
