"""PostgresEventStore: the append-only event table, its append turns, the relay's reads and checkpoints."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.connection_loss import connection_lost
from services.experience.adapters import sql
from services.experience.adapters.append_batch import PostgresAppendBatch
from services.experience.adapters.ports import (
    AppendBatch,
    Checkpoint,
    EventLogPage,
    EventStore,
    EventStoreUnavailableError,
    IdentityDirectory,
    RelayFencedError,
    StoredEvent,
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


class PostgresEventStore(EventStore):
    def __init__(self, engine: AsyncEngine, leadership_retry_s: float = 1.0) -> None:
        self._engine = engine
        self._leadership_retry_s = leadership_retry_s
        self._receiver: Callable[[list[StoredEvent]], None] | None = None
        self._appender = uuid.uuid4().hex  # names this store's appends in their commit notices

    def hand_committed_to(self, receiver: Callable[[list[StoredEvent]], None]) -> None:
        """Give every batch this store commits, as the relay publishes it, to `receiver` (the relay)."""
        self._receiver = receiver

    @asynccontextmanager
    async def appending(self) -> AsyncIterator[AppendBatch]:
        with _unavailable_on_connection_errors():
            async with self._engine.connect() as conn:
                async with conn.begin():
                    # Appends take turns: positions come from an identity sequence, and without this lock a
                    # transaction holding position 7 could commit after one holding 8 became visible; a reader
                    # past 8 would skip 7 forever. Serialized, positions become visible in commit order, so
                    # `position > checkpoint` is safe. The same turn keeps what `known` read true until the commit.
                    await conn.execute(sql.APPEND_LOCK)
                    # The batch's insert notifies at commit, signed only when it is handed over (not an erasure's,
                    # say): those the relay here gets in memory; any other must wake it.
                    batch = PostgresAppendBatch(conn, hand_over=self._receiver is not None, appender=self._appender)
                    yield batch
                # After the commit (only what is durable is handed over), not after the connection's return to
                # the pool, a round trip later: the relay has the batch that much sooner, and the next append,
                # granted its turn at this commit, is several round trips from handing its own over.
                if batch.committed and self._receiver is not None:
                    self._receiver(batch.committed)

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
    async def leadership(
        self, name: str, cluster_id: str, wake: asyncio.Event | None = None
    ) -> AsyncIterator[Checkpoint]:
        # A session-level advisory lock on a connection we keep: if this process dies or its connection
        # drops, PostgreSQL releases the lock and another replica takes over.
        with _unavailable_on_connection_errors():
            conn = await self._engine.connect()
        lock = {"name": name, "cluster": cluster_id}
        try:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            # Polling, not waiting on the lock: a blocked pg_advisory_lock could not notice our cancellation.
            while not await conn.scalar(sql.TRY_LEAD, lock):  # noqa: ASYNC110
                await asyncio.sleep(self._leadership_retry_s)
            with _unavailable_on_connection_errors():
                await conn.execute(sql.CLAIM_CHECKPOINT, lock)
                owner = await conn.scalar(sql.CHECKPOINT_CLUSTER, lock)
            if owner != cluster_id:
                raise RelayFencedError(name, cluster_id, owner)
            # Our own appends are handed over: their notice, which can overtake the hand-over (it comes on the
            # leader's connection while the appending task still waits for its commit's answer), would only send
            # the relay to read back from the store what is about to reach it in memory.
            handed_over = self._appender if self._receiver is not None else None
            async with _woken_by_appends(conn, wake, ignoring=handed_over):
                yield _PostgresCheckpoint(conn, name, cluster_id)
        finally:
            await _release(conn, lock)


@asynccontextmanager
async def _woken_by_appends(
    conn: AsyncConnection, wake: asyncio.Event | None, ignoring: str | None = None
) -> AsyncIterator[None]:
    """LISTEN on the leader's own connection (it is held for the term anyway) and set `wake` at every append but
    those of the appender `ignoring` (the relay's poll still reads what a hand-over missed)."""
    if wake is None:
        yield
        return
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None, "a checked-out connection has its driver's"

    def heard(_connection: object, _pid: int, _channel: str, appender: str) -> None:
        if appender != ignoring:
            wake.set()

    await raw.add_listener(sql.APPENDED_CHANNEL, heard)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # a lost connection has stopped listening already
            await raw.remove_listener(sql.APPENDED_CHANNEL, heard)


async def _release(conn: AsyncConnection, lock: dict[str, str]) -> None:
    try:
        await conn.execute(sql.UNLEAD, lock)
    except Exception:
        pass  # a broken connection has released the lock already
    finally:
        await conn.close()


class _PostgresCheckpoint(Checkpoint):
    """Saved on the leader's own connection: a save that succeeds proves we still hold the lock, and that the
    checkpoint still belongs to our cluster."""

    def __init__(self, conn: AsyncConnection, name: str, cluster_id: str) -> None:
        self._conn = conn
        self._name = name
        self._cluster_id = cluster_id

    async def load(self) -> int:
        with _unavailable_on_connection_errors():
            position = await self._conn.scalar(sql.LOAD_CHECKPOINT, {"name": self._name})
        return int(position or 0)

    async def save(self, position: int) -> None:
        params = {"name": self._name, "position": position, "cluster": self._cluster_id}
        with _unavailable_on_connection_errors():
            saved = await self._conn.execute(sql.SAVE_CHECKPOINT, params)
        if saved.rowcount != 1:
            owner = await self._conn.scalar(sql.CHECKPOINT_CLUSTER, {"name": self._name})
            raise RelayFencedError(self._name, self._cluster_id, owner)


class PostgresIdentityDirectory(IdentityDirectory):
    """Identity lookups on the event store's link table; erasure deletes an erased customer's links."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def customer_of(self, identity: IdentityKey) -> str | None:
        with _unavailable_on_connection_errors():
            async with self._engine.connect() as conn:
                found = await conn.execute(sql.LINKS, {"hashes": [identity.value_hash]})
                return next((customer for kind, _, customer in found if kind == identity.kind), None)
