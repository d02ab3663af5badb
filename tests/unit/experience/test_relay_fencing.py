"""Relays attached to different Kafka clusters share one store: only the checkpoint's own cluster's relay leads."""

import asyncio

from services.experience.handlers.append_events import append_events
from services.experience.handlers.record_events import to_new_event, validate_all
from services.experience.handlers.relay import EventRelay

from .events import touchpoint
from .fakes import IDENTITIES, FakeEventStore, FakeProducer
from .relays import published, running, until


def relay(store: FakeEventStore, producer: FakeProducer) -> EventRelay:
    return EventRelay(store, producer, "events", name="relay", poll_interval_s=0.02, retry_s=0.02)


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


async def test_a_leader_whose_broker_turns_into_another_cluster_stops_within_a_topic_check() -> None:
    store, producer = FakeEventStore(), FakeProducer("live-cluster")
    leader = EventRelay(store, producer, "events", name="relay", poll_interval_s=0.02, retry_s=0.02, topic_check_s=0.05)
    async with running(leader):
        await append_events(
            store, [to_new_event(e, IDENTITIES) for e in validate_all([touchpoint() for _ in range(3)])]
        )
        await until(lambda: store.checkpoints.get("relay") == 3)

        producer.cluster = "stray-cluster"  # another cluster's broker now answers at the same address
        await asyncio.sleep(0.3)  # several topic checks: the term ends and the next one is fenced
        await append_events(
            store, [to_new_event(e, IDENTITIES) for e in validate_all([touchpoint() for _ in range(2)])]
        )
        await asyncio.sleep(0.2)
        assert (published(producer), store.checkpoints["relay"]) == ([1, 2, 3], 3)

        producer.cluster = "live-cluster"  # the stream's own cluster is back: the next term goes on from 3
        await until(lambda: store.checkpoints.get("relay") == 5)
    assert published(producer) == [1, 2, 3, 4, 5]


async def test_a_leader_publishes_another_replicas_appends_without_polling_for_them() -> None:
    store, producer = FakeEventStore(), FakeProducer("live-cluster")
    leader = EventRelay(store, producer, "events", name="relay", poll_interval_s=3600, retry_s=0.02)
    async with running(leader):
        await until(lambda: store.checkpoint_clusters.get("relay") == "live-cluster")
        # Appended through the store alone, as another replica would: nothing hands the events to this relay.
        await append_events(
            store, [to_new_event(e, IDENTITIES) for e in validate_all([touchpoint() for _ in range(2)])]
        )
        await until(lambda: store.checkpoints.get("relay") == 2)
    assert published(producer) == [1, 2]
