"""PostgresEventStore against a real PostgreSQL: idempotent appends, sequences, commit-ordered positions."""

import asyncio
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import parse_event
from services.experience.adapters.event_store import PostgresEventStore
from services.experience.adapters.migrate import migrate
from services.experience.domain.append import NewEvent
from services.experience.handlers.append_events import append_events
from services.experience.handlers.record_events import to_new_event

from ...unit.experience.events import email, identity_linked, identity_unlinked, new_id, touchpoint, touchpoint_by
from ...unit.experience.fakes import IDENTITIES

pytestmark = pytest.mark.integration


def event(customer_id: str, event_id: str | None = None) -> NewEvent:
    return to_new_event(parse_event(touchpoint(customer_id) | ({"id": event_id} if event_id else {})), IDENTITIES)


async def test_append_numbers_each_customers_events_and_reports_the_highest_position(
    store: PostgresEventStore,
) -> None:
    alice, bob = new_id("c"), new_id("c")
    first = await append_events(store, [event(alice), event(bob), event(alice)])
    second = await append_events(store, [event(bob), event(alice)])

    stored = await store.read_from(0, 100)
    documents = [orjson.loads(e.document) for e in stored]
    assert [(d["subject"], d["sequence"], d["position"]) for d in documents] == [
        (alice, 1, 1),
        (bob, 1, 2),
        (alice, 2, 3),
        (bob, 2, 4),
        (alice, 3, 5),
    ]
    assert (first.position, second.position) == (3, 5)
    assert first.accepted == [d["id"] for d in documents[:3]]
    assert documents[0]["recordedat"].endswith("Z") and documents[0]["data"]["channel"] == "store"


async def test_duplicates_across_and_within_batches_are_stored_once(store: PostgresEventStore) -> None:
    customer = new_id("c")
    known, fresh = event(customer), event(customer)
    await append_events(store, [known, event(customer)])

    result = await append_events(store, [fresh, known, fresh])

    assert result.accepted == [fresh.event_id]
    assert result.duplicates == [known.event_id, fresh.event_id]
    assert result.position == 3
    assert len(await store.read_from(0, 100)) == 3
    again = await append_events(store, [known])
    assert (again.accepted, again.duplicates, again.position) == ([], [known.event_id], 1)


async def test_concurrent_appends_never_leave_a_gap_a_reader_would_skip(store: PostgresEventStore) -> None:
    customers = [new_id("c") for _ in range(5)]
    seen: list[int] = []
    done = asyncio.Event()

    async def writer(offset: int) -> None:
        for i in range(30):
            await append_events(store, [event(customers[(offset + i + j) % 5]) for j in range(7)])

    async def reader() -> None:
        # Reads the way the relay does; a position that appears below one already read would be skipped.
        position = 0
        while not done.is_set() or (await store.read_from(position, 1)):
            for stored in await store.read_from(position, 50):
                seen.append(stored.position)
                position = stored.position
            await asyncio.sleep(0)

    read = asyncio.create_task(reader())
    await asyncio.gather(writer(0), writer(2), writer(4))
    done.set()
    await read

    everything = [e.position for e in await store.read_from(0, 10_000)]
    assert len(everything) == 3 * 30 * 7
    assert seen == everything
    for customer in customers:
        sequences = [
            orjson.loads(e.document)["sequence"] for e in await store.read_from(0, 10_000) if e.customer_id == customer
        ]
        assert sequences == list(range(1, len(sequences) + 1))


async def test_a_producers_own_position_extension_never_overrides_ours(store: PostgresEventStore) -> None:
    document = touchpoint() | {
        "position": 999_999,
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    }
    await append_events(store, [to_new_event(parse_event(document), IDENTITIES)])

    (stored,) = await store.read_from(0, 10)

    assert orjson.loads(stored.document)["position"] == stored.position == 1
    assert stored.traceparent == document["traceparent"]


REWRITES = {
    "update": "UPDATE events SET type = 'x'",
    "delete": "DELETE FROM events",
    "redaction-switch-but-not-a-redaction": "SELECT set_config('rapport.redaction', 'on', true); "
    'UPDATE events SET envelope = envelope || \'{"time": "2020-01-01T00:00:00Z"}\'',
    "redaction-switch-and-another-column": "SELECT set_config('rapport.redaction', 'on', true); "
    "UPDATE events SET envelope = rapport_redacted(envelope, type), occurred_at = now()",
}


@pytest.mark.parametrize("statements", REWRITES.values(), ids=REWRITES.keys())
async def test_events_cannot_be_rewritten_not_even_beside_a_redaction(
    store: PostgresEventStore, engine: AsyncEngine, statements: str
) -> None:
    await append_events(store, [event(new_id("c"))])

    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            for statement in statements.split("; "):
                await conn.execute(text(statement))


async def test_the_redaction_switch_ends_with_its_transaction(store: PostgresEventStore, engine: AsyncEngine) -> None:
    await append_events(store, [event(new_id("c"))])
    async with engine.begin() as conn:
        await conn.execute(text("SELECT set_config('rapport.redaction', 'on', true)"))

    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE events SET envelope = envelope || '{\"redacted\": true}'"))


async def test_the_raw_identifier_is_stored_nowhere(store: PostgresEventStore, engine: AsyncEngine) -> None:
    customer, address = new_id("c"), email()
    linked = identity_linked(customer, "email", address)
    touched = touchpoint_by("email", address)
    unlinked = identity_unlinked(customer, "email", address)
    await append_events(store, [to_new_event(parse_event(d), IDENTITIES) for d in (linked, touched, unlinked)])

    async with engine.connect() as conn:
        rows = [
            str(row) for table in ("events", "identity_links") for row in await conn.execute(text(f"TABLE {table}"))
        ]
    tables = " ".join(rows)

    assert customer in tables and IDENTITIES.key_of("email", address).value_hash in tables
    assert address not in tables and address.split("@")[0] not in tables


async def test_only_one_leader_at_a_time_and_checkpoints_persist(store: PostgresEventStore, database_url: str) -> None:
    await migrate(database_url)  # running it again is harmless
    async with store.leadership("relay-a", "cluster-a") as checkpoint:
        assert await checkpoint.load() == 0
        await checkpoint.save(42)
        contender = asyncio.create_task(_lead_and_load(store, "relay-a"))
        await asyncio.sleep(0.3)
        assert not contender.done()
    assert await asyncio.wait_for(contender, 10) == 42


async def _lead_and_load(store: PostgresEventStore, name: str) -> int:
    async with store.leadership(name, "cluster-a") as checkpoint:
        return await checkpoint.load()


def test_occurred_at_keeps_its_time_zone() -> None:
    stored = event(new_id("c"))
    assert stored.occurred_at == datetime(2025, 3, 1, 10, tzinfo=UTC)


async def test_the_event_log_is_the_relayed_documents_page_by_page(store: PostgresEventStore) -> None:
    start = await store.head()
    customer = new_id("c")
    await append_events(store, [event(customer) for _ in range(5)])

    first = await store.read_log(start, 3)
    rest = await store.read_log(first.last_position, 3)
    empty = await store.read_log(rest.last_position, 3)

    relayed = [e.document for e in await store.read_from(start, 100)]
    assert (first.count, rest.count, empty.count) == (3, 2, 0)
    assert first.body.splitlines() + rest.body.splitlines() == relayed
    assert first.head == rest.head == empty.head == start + 5 == rest.last_position == empty.last_position
    assert empty.body == b""


async def test_event_log_shards_are_disjoint_and_complete(store: PostgresEventStore) -> None:
    start = await store.head()
    customers = [new_id("c") for _ in range(9)]
    await append_events(store, [event(customers[n % 9]) for n in range(36)])

    shards = [await store.read_log(start, 100, shard, 4) for shard in range(4)]

    documents = [orjson.loads(line) for page in shards for line in page.body.splitlines()]
    by_shard = [{orjson.loads(line)["subject"] for line in page.body.splitlines()} for page in shards]
    assert sorted(d["position"] for d in documents) == list(range(start + 1, start + 37))
    assert sum(len(s) for s in by_shard) == len(set().union(*by_shard)) == 9
