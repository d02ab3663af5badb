"""PostgreSQL storage of views, timeline entries and consumer offsets, written set-based, one transaction a batch."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.projection.adapters import accounts_and_erasure as sql
from services.projection.adapters import published_marks as marks
from services.projection.adapters.database import json_param
from services.projection.adapters.documents import decode_state
from services.projection.adapters.ports import BatchTransaction, ViewRows, ViewStore
from services.projection.adapters.rows import TimelineRow
from services.projection.adapters.state_cache import StateCache
from services.projection.domain import CustomerState, MemberRecord

_LOAD_STATES = text(
    # ORDER BY: rows are locked in one global order, so two workers overlapping in a rebalance cannot deadlock.
    "SELECT customer_id, fold_state FROM customer_views WHERE customer_id = ANY(:ids) ORDER BY customer_id FOR UPDATE"
)
# With a state cache: lock the same rows in the same order but read only what tells a cached state is current.
# The last row names the table even when no customer has a row yet, for the states stored by this batch.
_LOCK_POSITIONS = text(
    "WITH locked AS (SELECT customer_id, version, tableoid::bigint AS table_id FROM customer_views "
    "WHERE customer_id = ANY(:ids) ORDER BY customer_id FOR UPDATE) "
    "SELECT * FROM locked UNION ALL SELECT NULL, NULL, 'customer_views'::regclass::oid::bigint"
)
_READ_STATES = text("SELECT customer_id, fold_state FROM customer_views WHERE customer_id = ANY(:ids)")
_UPSERT_VIEWS = text(
    # Typed arrays, not one jsonb blob: asyncpg sends the compressed documents as bytes, PostgreSQL parses nothing.
    """
    INSERT INTO customer_views AS v (customer_id, version, position, updated_at, view, fold_state, partition)
    SELECT r.customer_id, r.version, r.position, CAST(r.updated_at AS timestamptz), r.view, r.fold_state, r.partition
    FROM unnest(CAST(:ids AS text[]), CAST(:versions AS bigint[]), CAST(:positions AS bigint[]),
                CAST(:updated AS text[]), CAST(:views AS bytea[]), CAST(:states AS bytea[]),
                CAST(:partitions AS integer[]))
        AS r(customer_id, version, position, updated_at, view, fold_state, partition)
    ON CONFLICT (customer_id) DO UPDATE SET
        version = excluded.version, position = excluded.position, updated_at = excluded.updated_at,
        view = excluded.view, fold_state = excluded.fold_state, partition = excluded.partition
    WHERE v.version < excluded.version
    """
)
_INSERT_TIMELINE = text(
    # Each entry travels once, as sent, and the columns are its fields (rows.timeline_columns names the same):
    # a row built beside the entry sent those fields twice, and PostgreSQL parsed both (a fifth of the insert).
    """
    INSERT INTO timeline_entries (event_id, customer_id, position, occurred_at, channel, kind, feeling, entry)
    SELECT r.entry->>'event_id', r.customer_id, CAST(r.entry->>'position' AS bigint),
           CAST(r.entry->>'time' AS timestamptz), r.entry->>'channel', r.entry->>'kind', r.entry->>'feeling', r.entry
    FROM unnest(CAST(:customers AS text[]), ARRAY(SELECT jsonb_array_elements(CAST(:entries AS jsonb))))
        AS r(customer_id, entry)
    ON CONFLICT (event_id) DO NOTHING
    """
)
_SAVE_OFFSETS = text(
    # The next offset is a plain overwrite, not GREATEST: after the broker lost its data it legitimately goes down.
    # The applied position is GREATEST: it is an event-store position, not a place in the broker's log. What it
    # says (every event of the partition's customers up to it is in the views) stays true when the broker loses
    # its data, since PostgreSQL keeps the views; the re-delivery that follows brings old positions again, and
    # moving the mark back to them would only make readers wait for events long applied.
    """
    INSERT INTO consumer_offsets AS o (consumer_group, topic, partition, next_offset, applied_position, last_position)
    SELECT :group, :topic, r.partition, r.next_offset, r.applied_position, r.last_position
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS r(partition integer, next_offset bigint, applied_position bigint, last_position bigint)
    ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = excluded.next_offset,
        applied_position = GREATEST(o.applied_position, excluded.applied_position),
        last_position = excluded.last_position
    """
)
_LOAD_OFFSETS = text(
    "SELECT partition, next_offset FROM consumer_offsets WHERE consumer_group = :group AND topic = :topic"
)
_LOAD_LAST_POSITIONS = text(
    "SELECT partition, last_position FROM consumer_offsets "
    "WHERE consumer_group = :group AND topic = :topic AND last_position IS NOT NULL"
)


class PostgresBatchTransaction(BatchTransaction):
    """The writes of one consumed batch, on the one connection of its PostgreSQL transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def load_states(self, customer_ids: list[str]) -> dict[str, CustomerState]:
        rows = await self._connection.execute(_LOAD_STATES, {"ids": customer_ids})
        return {row.customer_id: decode_state(row.fold_state) for row in rows}

    async def load_states_through(
        self, customer_ids: list[str], cache: StateCache
    ) -> tuple[dict[str, CustomerState], int]:
        """The stored states, from `cache` where it holds the current one; and the table's id, for `cache.put`."""
        states: dict[str, CustomerState] = {}
        missing: list[str] = []
        table = 0
        # Rows unpacked as tuples: a Row's attribute lookups cost more than the rest of this loop, row by row.
        for customer_id, version, table_id in await self._connection.execute(_LOCK_POSITIONS, {"ids": customer_ids}):
            if customer_id is None:
                table = table_id
                continue
            cached = cache.get(customer_id, version, table_id)
            if cached is None:
                missing.append(customer_id)
            else:
                states[customer_id] = cached
        if missing:
            for customer_id, fold_state in await self._connection.execute(_READ_STATES, {"ids": missing}):
                states[customer_id] = decode_state(fold_state)
        return states, table

    async def save_views(self, rows: ViewRows) -> None:
        if rows.ids:
            await self._connection.execute(_UPSERT_VIEWS, rows.params())

    async def add_timeline(self, rows: list[TimelineRow]) -> None:
        if rows:
            params = {"customers": [customer for customer, _ in rows], "entries": json_param([e for _, e in rows])}
            await self._connection.execute(_INSERT_TIMELINE, params)

    async def save_offsets(
        self, group: str, topic: str, next_offsets: dict[int, int], applied: dict[int, int],
        last: dict[int, int] | None = None,
    ) -> None:  # fmt: skip
        """Each partition's next offset, the highest position the batch read from it (`applied`; a partition
        of only undecodable records has none), and the position of the record just below the next offset
        (`last`, when it could be decoded)."""
        last = last or {}
        rows = [
            {"partition": p, "next_offset": o, "applied_position": applied.get(p, 0), "last_position": last.get(p)}
            for p, o in next_offsets.items()
        ]
        if rows:
            await self._connection.execute(_SAVE_OFFSETS, {"group": group, "topic": topic, "rows": json_param(rows)})

    async def erased_among(self, customer_ids: list[str]) -> set[str]:
        return await sql.erased_among(self._connection, customer_ids)

    async def erase(self, erasures: dict[str, int]) -> set[str]:
        """Delete the customers' views and timelines, record them as erased; return the accounts they leave."""
        return await sql.erase(self._connection, erasures) if erasures else set()

    async def save_memberships(self, rows: list[dict[str, Any]]) -> None:
        await sql.save_memberships(self._connection, rows)

    async def load_members(self, account_ids: list[str]) -> dict[str, list[MemberRecord]]:
        """Every membership row of the accounts with its customer's view, the accounts locked until commit."""
        return await sql.load_members(self._connection, account_ids)

    async def save_account_views(self, views: list[dict[str, Any]]) -> dict[str, int]:
        return await sql.save_account_views(self._connection, views)

    async def notify(self, payloads: list[str]) -> None:
        await sql.notify(self._connection, payloads)

    async def lock_unpublished_accounts(self, limit: int) -> list[tuple[dict[str, Any], int]]:
        return await marks.lock_unpublished_accounts(self._connection, limit)

    async def lock_accounts_to_publish(self, account_ids: list[str]) -> list[tuple[dict[str, Any], int]]:
        """The accounts' latest views and revisions not yet on the topic, the accounts locked until commit."""
        return await sql.lock_accounts_to_publish(self._connection, account_ids)

    async def lock_unpublished_tombstones(self, limit: int) -> list[str]:
        return await marks.lock_unpublished_tombstones(self._connection, limit)

    async def mark_accounts_published(self, published: dict[str, int]) -> None:
        await marks.mark_accounts_published(self._connection, published)

    async def mark_tombstones_published(self, customer_ids: list[str]) -> None:
        await marks.mark_tombstones_published(self._connection, customer_ids)

    async def lock_unpublished(self, limit: int, after: str = "") -> list[dict[str, Any]]:
        """Views not yet on the view topic, locked so no newer version can be committed and published first;
        only customers after `after` in id order."""
        return await marks.lock_unpublished(self._connection, limit, after)

    async def mark_published(self, published: dict[str, int]) -> None:
        await marks.mark_published(self._connection, published)


class PostgresViewStore(ViewStore):
    """The projection's state in PostgreSQL: views with their fold state, timeline rows, consumer offsets."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[BatchTransaction]:
        async with self._engine.begin() as connection:
            yield PostgresBatchTransaction(connection)

    async def stored_offsets(self, group: str, topic: str) -> dict[int, int]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(_LOAD_OFFSETS, {"group": group, "topic": topic})
            return {row.partition: row.next_offset for row in rows}

    async def last_positions(self, group: str, topic: str) -> dict[int, int]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(_LOAD_LAST_POSITIONS, {"group": group, "topic": topic})
            return {row.partition: row.last_position for row in rows}

    async def mark_published(self, views: dict[str, int], tombstones: list[str] | None = None) -> None:
        """Record what reached the customer view topic: views by position, and tombstones. (Accounts are marked
        where they are published, under their roll-up lock: see ProjectBatch._publish_accounts.)"""
        async with self._engine.begin() as connection:
            await marks.mark_published(connection, views)
            await marks.mark_tombstones_published(connection, tombstones or [])
