"""PostgreSQL storage of views, timeline entries and consumer offsets, written set-based, one transaction a batch."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.projection.adapters import accounts_and_erasure as sql
from services.projection.adapters.database import json_param
from services.projection.domain import CustomerState, MemberRecord

_LOAD_STATES = text(
    # ORDER BY: rows are locked in one global order, so two workers overlapping in a rebalance cannot deadlock.
    "SELECT customer_id, fold_state FROM customer_views WHERE customer_id = ANY(:ids) ORDER BY customer_id FOR UPDATE"
)
_UPSERT_VIEWS = text(
    """
    INSERT INTO customer_views AS v (customer_id, version, position, updated_at, view, fold_state)
    SELECT r.customer_id, r.version, r.position, r.updated_at, r.view, r.fold_state
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        customer_id text, version bigint, position bigint, updated_at timestamptz, view jsonb, fold_state jsonb)
    ON CONFLICT (customer_id) DO UPDATE SET
        version = excluded.version, position = excluded.position, updated_at = excluded.updated_at,
        view = excluded.view, fold_state = excluded.fold_state
    WHERE v.position < excluded.position
    """
)
_INSERT_TIMELINE = text(
    """
    INSERT INTO timeline_entries (event_id, customer_id, position, occurred_at, channel, kind, feeling, entry)
    SELECT r.event_id, r.customer_id, r.position, r.occurred_at, r.channel, r.kind, r.feeling, r.entry
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        event_id text, customer_id text, position bigint, occurred_at timestamptz,
        channel text, kind text, feeling text, entry jsonb)
    ON CONFLICT (event_id) DO NOTHING
    """
)
_SAVE_OFFSETS = text(
    # Plain overwrite, not GREATEST: after the broker lost its data the next offset legitimately goes down.
    """
    INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
    SELECT :group, :topic, r.partition, r.next_offset
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(partition integer, next_offset bigint)
    ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = excluded.next_offset
    """
)
_LOAD_OFFSETS = text(
    "SELECT partition, next_offset FROM consumer_offsets WHERE consumer_group = :group AND topic = :topic"
)
_MARK_PUBLISHED = text(
    """
    UPDATE customer_views AS v SET published_position = r.position
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(customer_id text, position bigint)
    WHERE v.customer_id = r.customer_id AND v.published_position < r.position
    """
)
_LOCK_UNPUBLISHED = text(
    "SELECT view FROM customer_views WHERE published_position < position "
    "ORDER BY customer_id LIMIT :limit FOR UPDATE SKIP LOCKED"
)
_MARK_ACCOUNTS_PUBLISHED = text(
    """
    UPDATE account_views AS a SET published_revision = r.revision
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(account_id text, revision bigint)
    WHERE a.account_id = r.account_id AND a.published_revision < r.revision
    """
)
_LOCK_UNPUBLISHED_ACCOUNTS = text(
    "SELECT view, revision FROM account_views WHERE published_revision < revision "
    "ORDER BY account_id LIMIT :limit FOR UPDATE SKIP LOCKED"
)
_MARK_TOMBSTONES_PUBLISHED = text("UPDATE erased_views SET tombstone_published = true WHERE customer_id = ANY(:ids)")
_LOCK_UNPUBLISHED_TOMBSTONES = text(
    "SELECT customer_id FROM erased_views WHERE NOT tombstone_published "
    "ORDER BY customer_id LIMIT :limit FOR UPDATE SKIP LOCKED"
)


class BatchTransaction:
    """The writes of one consumed batch; all of them commit together or none does."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def load_states(self, customer_ids: list[str]) -> dict[str, CustomerState]:
        rows = await self._connection.execute(_LOAD_STATES, {"ids": customer_ids})
        return {row.customer_id: CustomerState.from_json(row.fold_state) for row in rows}

    async def save_views(self, rows: list[dict[str, Any]]) -> None:
        """Rows of customer_id, version, position, updated_at, view, fold_state."""
        if rows:
            await self._connection.execute(_UPSERT_VIEWS, {"rows": json_param(rows)})

    async def add_timeline(self, rows: list[dict[str, Any]]) -> None:
        """Rows of event_id, customer_id, position, occurred_at, channel, kind, feeling, entry."""
        if rows:
            await self._connection.execute(_INSERT_TIMELINE, {"rows": json_param(rows)})

    async def save_offsets(self, group: str, topic: str, next_offsets: dict[int, int]) -> None:
        rows = [{"partition": p, "next_offset": o} for p, o in next_offsets.items()]
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
        rows = await self._connection.execute(_LOCK_UNPUBLISHED_ACCOUNTS, {"limit": limit})
        return [(row.view, row.revision) for row in rows]

    async def lock_unpublished_tombstones(self, limit: int) -> list[str]:
        return [
            row.customer_id for row in await self._connection.execute(_LOCK_UNPUBLISHED_TOMBSTONES, {"limit": limit})
        ]

    async def mark_accounts_published(self, published: dict[str, int]) -> None:
        await mark_accounts_published(self._connection, published)

    async def mark_tombstones_published(self, customer_ids: list[str]) -> None:
        await mark_tombstones_published(self._connection, customer_ids)

    async def lock_unpublished(self, limit: int) -> list[dict[str, Any]]:
        """Views not yet on the view topic, locked so no newer version can be committed and published first."""
        return [row.view for row in await self._connection.execute(_LOCK_UNPUBLISHED, {"limit": limit})]

    async def mark_published(self, published: dict[str, int]) -> None:
        await mark_published(self._connection, published)


async def mark_published(connection: AsyncConnection, published: dict[str, int]) -> None:
    rows = [{"customer_id": c, "position": p} for c, p in published.items()]
    if rows:
        await connection.execute(_MARK_PUBLISHED, {"rows": json_param(rows)})


async def mark_accounts_published(connection: AsyncConnection, published: dict[str, int]) -> None:
    rows = [{"account_id": a, "revision": r} for a, r in published.items()]
    if rows:
        await connection.execute(_MARK_ACCOUNTS_PUBLISHED, {"rows": json_param(rows)})


async def mark_tombstones_published(connection: AsyncConnection, customer_ids: list[str]) -> None:
    if customer_ids:
        await connection.execute(_MARK_TOMBSTONES_PUBLISHED, {"ids": customer_ids})


class PostgresViewStore:
    """The projection's state in PostgreSQL: views with their fold state, timeline rows, consumer offsets."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[BatchTransaction]:
        async with self._engine.begin() as connection:
            yield BatchTransaction(connection)

    async def stored_offsets(self, group: str, topic: str) -> dict[int, int]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(_LOAD_OFFSETS, {"group": group, "topic": topic})
            return {row.partition: row.next_offset for row in rows}

    async def mark_published(
        self, views: dict[str, int], accounts: dict[str, int] | None = None, tombstones: list[str] | None = None
    ) -> None:
        """Record what reached the view topics: customer views by position, accounts by revision, tombstones."""
        async with self._engine.begin() as connection:
            await mark_published(connection, views)
            await mark_accounts_published(connection, accounts or {})
            await mark_tombstones_published(connection, tombstones or [])
