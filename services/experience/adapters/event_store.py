"""PostgresEventStore: the append-only event table, set-based appends, the relay's reads and checkpoints."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.connection_loss import connection_lost
from services.experience.adapters import sql
from services.experience.adapters.handover import committed_events
from services.experience.adapters.ports import (
    Checkpoint,
    EventLogPage,
    EventStore,
    EventStoreUnavailableError,
    IdentityDirectory,
    StoredEvent,
)
from services.experience.domain.admission import Known, LinkChange, plan_append
from services.experience.domain.append import (
    AppendResult,
    Erasure,
    NewEvent,
    Numbered,
    batch_position,
    customer_positions,
)
from services.experience.domain.identities import IdentityKey


@contextmanager
def _unavailable_on_connection_errors() -> Iterator[None]:
    try:
        yield
    except (DBAPIError, OSError, TimeoutError) as error:
        if not connection_lost(error):
            raise
        raise EventStoreUnavailableError(str(error)) from error


def _row(index: int, numbered: Numbered) -> dict[str, Any]:
    event = numbered.event
    return {
        "ord": index,
        "event_id": event.event_id,
        "customer_id": numbered.customer_id,
        "sequence": numbered.sequence,
        "type": event.type,
        "source": event.source,
        "occurred_at": event.occurred_at,
        "envelope": event.envelope,
    }


def _json(rows: list[dict[str, Any]]) -> str:
    return orjson.dumps(rows).decode()


class PostgresEventStore(EventStore):
    def __init__(self, engine: AsyncEngine, leadership_retry_s: float = 1.0) -> None:
        self._engine = engine
        self._leadership_retry_s = leadership_retry_s
        self._receiver: Callable[[list[StoredEvent]], None] | None = None

    def hand_committed_to(self, receiver: Callable[[list[StoredEvent]], None]) -> None:
        """Give every batch this store commits, as the relay publishes it, to `receiver` (the relay)."""
        self._receiver = receiver

    async def append(self, events: Sequence[NewEvent], *, all_or_nothing: bool = True) -> AppendResult:
        if not events:
            return AppendResult(accepted=[], duplicates=[], position=0)
        with _unavailable_on_connection_errors():
            async with self._engine.begin() as conn:
                result, committed = await self._append(conn, events, all_or_nothing)
        if committed and self._receiver is not None:
            self._receiver(committed)  # after the commit: only what is durable is handed over
        return result

    async def _append(
        self, conn: AsyncConnection, events: Sequence[NewEvent], all_or_nothing: bool
    ) -> tuple[AppendResult, list[StoredEvent]]:
        # Appends take turns: positions come from an identity sequence, and without this lock a transaction
        # holding position 7 could commit after one holding 8 became visible; a reader past 8 would skip 7
        # forever. Serialized, positions become visible in commit order, so `position > checkpoint` is safe.
        # The same turn makes links and erasures read below stay true until this batch commits.
        await conn.execute(sql.APPEND_LOCK)
        known = await self._known(conn, events)
        plan = plan_append(events, known)
        if plan.refusals and all_or_nothing:
            return AppendResult(accepted=[], duplicates=[], position=0, refusals=plan.refusals), []
        new_positions: dict[str, int] = {}
        committed: list[StoredEvent] = []
        if plan.new:
            rows = _json([_row(i, n) for i, n in enumerate(plan.new)])
            returned = [tuple(row) for row in await conn.execute(sql.INSERT_EVENTS, {"rows": rows})]
            new_positions = {event_id: position for event_id, position, _ in returned}
            # Not with an erasure: it redacts stored events in this transaction, and only the store has those.
            if self._receiver is not None and not plan.erasures:
                committed = committed_events(plan.new, returned)
        await _save_links(conn, plan.links)
        erasures = await _erase(conn, plan.erasures) if plan.erasures else []
        result = AppendResult(
            accepted=[n.event.event_id for n in plan.new],
            duplicates=plan.duplicates,
            position=batch_position([*new_positions, *plan.duplicates], known.stored_ids, new_positions),
            refusals=plan.refusals,
            erasures=erasures,
            customers=customer_positions(plan.new, new_positions, events, plan.duplicates, known.stored_ids),
        )
        return result, committed

    async def _known(self, conn: AsyncConnection, events: Sequence[NewEvent]) -> Known:
        """Everything the batch's decision needs, in at most three set-based reads (two without identities)."""
        ids = [e.event_id for e in events]
        stored: dict[str, int] = dict((await conn.execute(sql.STORED_POSITIONS, {"ids": ids})).all())
        links: dict[IdentityKey, str] = {}
        hashes = list({e.identity.value_hash for e in events if e.identity is not None})
        if hashes:
            found = await conn.execute(sql.LINKS, {"hashes": hashes})
            links = {IdentityKey(kind, value_hash): customer for kind, value_hash, customer in found}
        named = {e.customer_id: None for e in events if e.customer_id is not None}
        customers = list({**named, **dict.fromkeys(links.values())})
        last: dict[str, int] = {}
        erased: set[str] = set()
        for customer, sequence, is_erased in await conn.execute(sql.CUSTOMERS, {"customers": customers}):
            if sequence is not None:
                last[customer] = sequence
            if is_erased:
                erased.add(customer)
        return Known(stored_ids=stored, links=links, last_sequences=last, erased=erased)

    async def read_from(self, position: int, limit: int) -> list[StoredEvent]:
        with _unavailable_on_connection_errors():
            async with self._engine.connect() as conn:
                result = await conn.execute(sql.READ_FROM, {"after": position, "limit": limit})
                return [
                    StoredEvent(pos, customer, event_id, type_, trace, document.encode())
                    for pos, customer, event_id, type_, trace, document in result
                ]

    async def read_log(self, position: int, limit: int, shard: int = 0, shards: int = 1) -> EventLogPage:
        params = {"after": position, "limit": limit, "shard": shard, "shards": shards}
        with _unavailable_on_connection_errors():
            async with self._engine.connect() as conn:
                count, last, body, head = (await conn.execute(sql.READ_LOG, params)).one()
                return EventLogPage(body.encode(), int(count), int(last), int(head))

    async def head(self) -> int:
        with _unavailable_on_connection_errors():
            async with self._engine.connect() as conn:
                return int(await conn.scalar(sql.HEAD) or 0)

    async def ping(self) -> None:
        with _unavailable_on_connection_errors():
            async with self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

    async def schema_version(self) -> str | None:
        with _unavailable_on_connection_errors():
            async with self._engine.connect() as conn:
                if not await conn.scalar(sql.SCHEMA_VERSION_TABLE_EXISTS):
                    return None
                version: str | None = await conn.scalar(sql.SCHEMA_VERSION)
                return version

    async def relay_backlog(self, name: str) -> int:
        with _unavailable_on_connection_errors():
            async with self._engine.connect() as conn:
                return max(0, int(await conn.scalar(sql.RELAY_BACKLOG, {"name": name}) or 0))

    @asynccontextmanager
    async def leadership(self, name: str) -> AsyncIterator[Checkpoint]:
        # A session-level advisory lock on a connection we keep: if this process dies or its connection
        # drops, PostgreSQL releases the lock and another replica takes over.
        with _unavailable_on_connection_errors():
            conn = await self._engine.connect()
        try:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            # Polling, not waiting on the lock: a blocked pg_advisory_lock could not notice our cancellation.
            while not await conn.scalar(sql.TRY_LEAD, {"name": name}):  # noqa: ASYNC110
                await asyncio.sleep(self._leadership_retry_s)
            yield _PostgresCheckpoint(conn, name)
        finally:
            await _release(conn, name)


async def _save_links(conn: AsyncConnection, links: dict[IdentityKey, LinkChange]) -> None:
    """Apply the batch's last word on each link it touched; each link remembers the event that made it."""
    kept = [
        {**k.as_stored(), "customer_id": c.customer_id, "event_id": c.event_id}
        for k, c in links.items()
        if c.customer_id
    ]
    gone = [k.as_stored() for k, c in links.items() if c.customer_id is None]
    if kept:
        await conn.execute(sql.SET_LINKS, {"rows": _json(kept)})
    if gone:
        await conn.execute(sql.REMOVE_LINKS, {"rows": _json(gone)})


async def _erase(conn: AsyncConnection, erasures: dict[str, str]) -> list[Erasure]:
    """Redact the erased customers' stored events, forget their links, and remember they were erased."""
    customers = list(erasures)
    await conn.execute(sql.REDACTION_ON)
    redacted = Counter((await conn.execute(sql.REDACT_EVENTS, {"customers": customers})).scalars())
    removed = Counter((await conn.execute(sql.FORGET_LINKS, {"customers": customers})).scalars())
    await conn.execute(sql.RECORD_ERASED, {"customers": customers, "event_ids": list(erasures.values())})
    return [Erasure(c, redacted[c], removed[c]) for c in customers]


async def _release(conn: AsyncConnection, name: str) -> None:
    try:
        await conn.execute(sql.UNLEAD, {"name": name})
    except Exception:
        pass  # a broken connection has released the lock already
    finally:
        await conn.close()


class _PostgresCheckpoint(Checkpoint):
    """Saved on the leader's own connection: a save that succeeds proves we still hold the lock."""

    def __init__(self, conn: AsyncConnection, name: str) -> None:
        self._conn = conn
        self._name = name

    async def load(self) -> int:
        with _unavailable_on_connection_errors():
            position = await self._conn.scalar(sql.LOAD_CHECKPOINT, {"name": self._name})
        return int(position or 0)

    async def save(self, position: int) -> None:
        with _unavailable_on_connection_errors():
            await self._conn.execute(sql.SAVE_CHECKPOINT, {"name": self._name, "position": position})


class PostgresIdentityDirectory(IdentityDirectory):
    """Identity lookups on the event store's link table; erasure deletes an erased customer's links."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def customer_of(self, identity: IdentityKey) -> str | None:
        with _unavailable_on_connection_errors():
            async with self._engine.connect() as conn:
                found = await conn.execute(sql.LINKS, {"hashes": [identity.value_hash]})
                return next((customer for kind, _, customer in found if kind == identity.kind), None)
