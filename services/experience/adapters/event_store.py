"""PostgresEventStore: the append-only event table, set-based appends, the relay's reads and checkpoints."""

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.experience.adapters import sql
from services.experience.adapters.ports import Checkpoint, EventStore, EventStoreUnavailableError, StoredEvent
from services.experience.domain.append import AppendResult, NewEvent, Numbered, batch_position, plan_append


@contextmanager
def _unavailable_on_connection_errors() -> Iterator[None]:
    try:
        yield
    except (OperationalError, InterfaceError, OSError, TimeoutError) as error:
        raise EventStoreUnavailableError(str(error)) from error


def _row(index: int, numbered: Numbered) -> dict[str, Any]:
    event = numbered.event
    return {
        "ord": index,
        "event_id": event.event_id,
        "customer_id": event.customer_id,
        "sequence": numbered.sequence,
        "type": event.type,
        "source": event.source,
        "occurred_at": event.occurred_at,
        "envelope": event.envelope,
    }


class PostgresEventStore(EventStore):
    def __init__(self, engine: AsyncEngine, leadership_retry_s: float = 1.0) -> None:
        self._engine = engine
        self._leadership_retry_s = leadership_retry_s

    async def append(self, events: Sequence[NewEvent]) -> AppendResult:
        if not events:
            return AppendResult(accepted=[], duplicates=[], position=0)
        with _unavailable_on_connection_errors():
            async with self._engine.begin() as conn:
                return await self._append(conn, events)

    async def _append(self, conn: AsyncConnection, events: Sequence[NewEvent]) -> AppendResult:
        # Appends take turns: positions come from an identity sequence, and without this lock a transaction
        # holding position 7 could commit after one holding 8 became visible; a reader past 8 would skip 7
        # forever. Serialized, positions become visible in commit order, so `position > checkpoint` is safe.
        await conn.execute(sql.APPEND_LOCK)
        ids = [e.event_id for e in events]
        customers = list({e.customer_id: None for e in events})
        stored: dict[str, int] = dict((await conn.execute(sql.STORED_POSITIONS, {"ids": ids})).all())
        last: dict[str, int | None] = dict((await conn.execute(sql.LAST_SEQUENCES, {"customers": customers})).all())
        plan = plan_append(events, stored, {c: s for c, s in last.items() if s is not None})
        new_positions: dict[str, int] = {}
        if plan.new:
            rows = orjson.dumps([_row(i, n) for i, n in enumerate(plan.new)]).decode()
            new_positions = dict((await conn.execute(sql.INSERT_EVENTS, {"rows": rows})).all())
        return AppendResult(
            accepted=[n.event.event_id for n in plan.new],
            duplicates=plan.duplicates,
            position=batch_position(events, stored, new_positions),
        )

    async def read_from(self, position: int, limit: int) -> list[StoredEvent]:
        with _unavailable_on_connection_errors():
            async with self._engine.connect() as conn:
                result = await conn.execute(sql.READ_FROM, {"after": position, "limit": limit})
                return [
                    StoredEvent(pos, customer, event_id, type_, trace, document.encode())
                    for pos, customer, event_id, type_, trace, document in result
                ]

    async def ping(self) -> None:
        with _unavailable_on_connection_errors():
            async with self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

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
