"""What the append hands the relay in memory is what the relay would have read back from PostgreSQL."""

import asyncio
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import parse_event
from services.experience.adapters.event_store import PostgresEventStore
from services.experience.adapters.ports import StoredEvent
from services.experience.handlers.append_events import append_events
from services.experience.handlers.record_events import to_new_event

from ...unit.experience.events import erasure, new_id, touchpoint
from ...unit.experience.fakes import IDENTITIES

pytestmark = pytest.mark.integration


async def test_handed_over_events_match_the_stored_canonical_documents(store: PostgresEventStore) -> None:
    handed: list[StoredEvent] = []
    store.hand_committed_to(handed.extend)
    customer = new_id("c")
    documents = [touchpoint(customer), touchpoint(customer), {**touchpoint(), "position": 999_999}]
    documents[0]["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    start = await store.head()

    await append_events(store, [to_new_event(parse_event(d), IDENTITIES) for d in documents])

    stored = await store.read_from(start, 10)
    assert [e.position for e in handed] == [e.position for e in stored] == [start + 1, start + 2, start + 3]
    for mine, theirs in zip(handed, stored, strict=True):
        assert (mine.customer_id, mine.event_id, mine.type, mine.traceparent) == (
            theirs.customer_id,
            theirs.event_id,
            theirs.type,
            theirs.traceparent,
        )
        assert orjson.loads(mine.document) == orjson.loads(theirs.document)


async def test_nothing_is_handed_over_from_an_append_that_erases(store: PostgresEventStore) -> None:
    handed: list[StoredEvent] = []
    store.hand_committed_to(handed.extend)
    customer = new_id("c")
    events = [to_new_event(parse_event(d), IDENTITIES) for d in [touchpoint(customer), erasure(customer)]]
    await append_events(store, events)
    assert handed == []  # the touchpoint was redacted in the same transaction: the relay reads the store's copy


async def test_a_leader_is_woken_by_every_append_but_those_handed_to_it(
    store: PostgresEventStore, engine: AsyncEngine
) -> None:
    handed: list[StoredEvent] = []
    store.hand_committed_to(handed.extend)
    other_replica = PostgresEventStore(engine)
    wake = asyncio.Event()

    async def woken_by(append: Any) -> bool:
        wake.clear()
        await append()
        try:
            await asyncio.wait_for(wake.wait(), 2.0)  # a notice arrives within milliseconds of its commit
        except TimeoutError:
            return False
        return True

    def appending(into: PostgresEventStore, *documents: dict[str, Any]) -> Any:
        return lambda: append_events(into, [to_new_event(parse_event(d), IDENTITIES) for d in documents])

    customer = new_id("c")
    async with store.leadership(new_id("relay"), "cluster-a", wake):
        assert not await woken_by(appending(store, touchpoint(customer)))  # handed over: no need to wake
        assert handed
        assert await woken_by(appending(other_replica, touchpoint(customer)))  # only the store has it
        assert await woken_by(appending(store, erasure(customer)))  # not handed over: the store has the copy
