"""Fresh view tables for a rebuild: built beside the live ones with COPY, indexed once, swapped in one transaction.

Each live table gets a twin `<table>_rebuild` of the same columns, storage and options, without indexes while
it is loaded (an index maintained row by row costs more than one built at the end). The swap takes the live
tables' write lock, so a projection batch in flight finishes first and the next one waits; readers go on until
the short moment of the rename. Statements waiting on the lock resolve the table name again once they get it, so
the workers' next batch lands in the fresh tables. Consumer offsets stay: they are hints, and everything the
workers had consumed is in the rebuilt tables (see handlers/rebuild.py).
"""

import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.projection.adapters.accounts_and_erasure import member_record
from services.projection.adapters.documents import decode_state
from services.projection.domain import CustomerState, MemberRecord

# The tables a rebuild replaces, in the order they are locked (the order a projection batch first touches them,
# so a batch holding one never waits for the rebuild while the rebuild waits for it).
TABLES = ("customer_views", "timeline_entries", "account_members", "account_views")
SUFFIX = "_rebuild"

ACCOUNT_COLUMNS = ("account_id", "version", "position", "view")

_REBUILD_LOCK = text("SELECT pg_try_advisory_lock(hashtextextended('rapport-rebuild', 0))")
_REBUILD_UNLOCK = text("SELECT pg_advisory_unlock(hashtextextended('rapport-rebuild', 0))")
_INDEXES = text(
    """
    SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition,
           EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype = 'p') AS primary_key
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
    WHERE x.indrelid = to_regclass(:table)
    ORDER BY i.relname
    """
)
_OPTIONS = text("SELECT coalesce(array_to_string(reloptions, ', '), '') FROM pg_class WHERE oid = to_regclass(:table)")
_ERASED = text("SELECT customer_id FROM erased_views")
_TWIN_STATES = text("SELECT customer_id, fold_state FROM customer_views_rebuild WHERE customer_id = ANY(:ids)")
# The same join a roll-up reads (accounts_and_erasure._MEMBERS), over the twins and every account at once.
_TWIN_MEMBERS = text(
    """
    SELECT m.account_id, m.customer_id, m.role, m.member, m.position AS membership_position,
           v.version, v.position, v.view, v.fold_state
    FROM account_members_rebuild m LEFT JOIN customer_views_rebuild v ON v.customer_id = m.customer_id AND m.member
    """
)
_RECORD_ERASED = text(
    "INSERT INTO erased_views (customer_id, position) SELECT * FROM unnest(CAST(:ids AS text[]), "
    "CAST(:positions AS bigint[])) ON CONFLICT (customer_id) DO NOTHING"
)
# A view the rebuild renders exactly as before need not go on the view topic again: its published mark stays.
# Any other mark goes (published_views is not swapped), so the changed view is published after the swap.
_FORGET_CHANGED_MARKS = text(
    # Joins, not a correlated NOT EXISTS: under the swap's lock every millisecond holds the workers up, and the
    # planner hashes joins over whole tables where it would probe the subquery once per mark.
    """
    DELETE FROM published_views AS p USING published_views AS m
    LEFT JOIN customer_views_rebuild AS n ON n.customer_id = m.customer_id
    LEFT JOIN customer_views AS o ON o.customer_id = m.customer_id
    WHERE p.customer_id = m.customer_id
      AND (n.customer_id IS NULL OR o.customer_id IS NULL OR n.view <> o.view OR n.position <> o.position)
    """
)
# Accounts keep counting revisions; an unchanged one keeps its published mark, a changed one is due again.
_CARRY_ACCOUNT_REVISIONS = text(
    """
    UPDATE account_views_rebuild AS n SET
        revision = CASE WHEN n.view = o.view THEN o.revision ELSE o.revision + 1 END,
        published_revision = o.published_revision
    FROM account_views AS o WHERE n.account_id = o.account_id
    """
)


class RebuildRefusedError(RuntimeError):
    """Another rebuild holds the database."""


class RebuildTables:
    """One connection's view of the twin tables; every write is COPY or one set-based statement."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def _raw(self) -> Any:
        return (await self._connection.get_raw_connection()).driver_connection

    async def create(self) -> None:
        """Drop what an interrupted rebuild left, and create empty twins shaped like the live tables."""
        for table in TABLES:
            twin = table + SUFFIX
            options = await self._connection.scalar(_OPTIONS, {"table": table})
            await self._connection.execute(text(f"DROP TABLE IF EXISTS {twin}"))
            await self._connection.execute(text(
                f"CREATE TABLE {twin} (LIKE {table} INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMPRESSION "
                f"INCLUDING CONSTRAINTS)" + (f" WITH ({options})" if options else "")
            ))  # fmt: skip

    async def copy(self, table: str, columns: Sequence[str], records: Iterable[Sequence[Any]]) -> None:
        rows = list(records)
        if rows:
            raw = await self._raw()
            await raw.copy_records_to_table(table + SUFFIX, records=rows, columns=list(columns))

    async def delete_customers(self, table: str, customer_ids: list[str]) -> None:
        if customer_ids:
            await self._connection.execute(
                text(f"DELETE FROM {table}{SUFFIX} WHERE customer_id = ANY(:ids)"), {"ids": customer_ids}
            )

    async def index(self, tables: Sequence[str] = TABLES) -> None:
        """Give each twin the live table's indexes (and primary key), under names with the suffix."""
        # Sorted in memory rather than in temporary files: the default 64 MB spills a timeline of a few million.
        await self._connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for table in tables:
            for row in await self._connection.execute(_INDEXES, {"table": table}):
                definition = _for_twin(row.definition, row.name, table)
                await self._connection.execute(text(definition))
                if row.primary_key:
                    await self._connection.execute(text(
                        f"ALTER TABLE {table}{SUFFIX} ADD CONSTRAINT {row.name}{SUFFIX} "
                        f"PRIMARY KEY USING INDEX {row.name}{SUFFIX}"
                    ))  # fmt: skip
            # Statistics before the swap's statements plan over the twin: a table loaded by COPY has none, and
            # the planner then takes it for a few rows and scans it once per row of the other side.
            await self._connection.execute(text(f"ANALYZE {table}{SUFFIX}"))

    async def states(self, customer_ids: list[str]) -> dict[str, CustomerState]:
        """The fold states the twin holds for these customers (written by the shards' replays)."""
        rows = await self._connection.execute(_TWIN_STATES, {"ids": customer_ids})
        return {row.customer_id: decode_state(row.fold_state) for row in rows}

    async def members(self) -> dict[str, list[MemberRecord]]:
        """Every account's membership records, from the twins."""
        members: dict[str, list[MemberRecord]] = {}
        for row in await self._connection.execute(_TWIN_MEMBERS):
            members.setdefault(row.account_id, []).append(member_record(row))
        return members

    async def lock_live(self) -> None:
        """Hold off projection batches (reads go on) until this transaction ends."""
        # The published marks last: every writer of marks has locked customer_views rows before it writes one
        # (see ProjectBatch._commit), and the lock keeps a mark from landing between the forgetting and the swap.
        await self._connection.execute(text(f"LOCK TABLE {', '.join(TABLES)}, published_views IN EXCLUSIVE MODE"))

    async def erased(self) -> set[str]:
        return {row.customer_id for row in await self._connection.execute(_ERASED)}

    async def record_erased(self, erasures: dict[str, int]) -> None:
        """Erasures the workers have not projected yet; their tombstones go out with the republish."""
        if erasures:
            await self._connection.execute(
                _RECORD_ERASED, {"ids": list(erasures), "positions": list(erasures.values())}
            )

    async def swap(self) -> None:
        """Keep the published marks of what did not change, then put the twins in the live tables' place."""
        await self._connection.execute(_FORGET_CHANGED_MARKS)
        await self._connection.execute(_CARRY_ACCOUNT_REVISIONS)
        for table in TABLES:
            names = [row.name for row in await self._connection.execute(_INDEXES, {"table": table})]
            await self._connection.execute(text(f"DROP TABLE {table}"))
            await self._connection.execute(text(f"ALTER TABLE {table}{SUFFIX} RENAME TO {table}"))
            for name in names:
                await self._connection.execute(text(f"ALTER INDEX {name}{SUFFIX} RENAME TO {name}"))


def _for_twin(definition: str, name: str, table: str) -> str:
    """`CREATE [UNIQUE] INDEX name ON [schema.]table ...` made to name the twin and its table."""
    definition = definition.replace(f"INDEX {name} ON ", f"INDEX {name}{SUFFIX} ON ", 1)
    return re.sub(rf" ON (ONLY )?((?:\w+\.)?){table} USING ", rf" ON \g<2>{table}{SUFFIX} USING ", definition, count=1)


class PostgresRebuildStore:
    """Where a rebuild writes; one rebuild at a time per database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Refuse a second concurrent rebuild: a session lock on a connection held for the whole rebuild."""
        async with self._engine.connect() as connection:
            if not await connection.scalar(_REBUILD_LOCK):
                raise RebuildRefusedError("another rebuild is running on this database")
            await connection.commit()
            try:
                yield
            finally:
                await connection.execute(_REBUILD_UNLOCK)
                await connection.commit()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[RebuildTables]:
        async with self._engine.begin() as connection:
            yield RebuildTables(connection)
