"""Read-only queries behind the HTTP API: views, keyset pages of a timeline, accounts, erasure."""

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.projection.adapters.documents import decode
from services.projection.adapters.ports import TimelineFilter

_VIEW = text("SELECT view FROM customer_views WHERE customer_id = :id")
# One statement, so the view and its partition's mark come from one snapshot: a mark read after the view could
# be a later batch's and vouch for events this view has not got. A view without a partition (written before
# p0005, or by a rebuild) joins nothing and has only its own position to go by.
_VIEW_APPLIED = text(
    """
    SELECT v.view, v.position >= :position OR coalesce(o.applied_position >= :position, false) AS applied
    FROM customer_views v LEFT JOIN consumer_offsets o
        ON o.consumer_group = :group AND o.topic = :topic AND o.partition = v.partition
    WHERE v.customer_id = :id
    """
)
_ACCOUNT = text("SELECT view FROM account_views WHERE account_id = :id")
_ERASED = text("SELECT 1 FROM erased_views WHERE customer_id = :id")


def timeline_query(filters: TimelineFilter, after: bool) -> Any:
    # Fixed fragments only, chosen by which filters are set: no input ever becomes SQL text.
    conditions = ["customer_id = :id"]
    conditions += [f"{name} = :{name}" for name in ("channel", "kind", "feeling") if getattr(filters, name)]
    if filters.since is not None:
        conditions.append("occurred_at >= :since")
    if filters.until is not None:
        conditions.append("occurred_at < :until")
    if after:
        # Keyset, not OFFSET: entries arriving while a reader pages (new or late) never shift or repeat a page.
        conditions.append("(occurred_at, position) < (:time, :position)")
    where = " AND ".join(conditions)
    return text(
        f"SELECT entry FROM timeline_entries WHERE {where} ORDER BY occurred_at DESC, position DESC LIMIT :limit"
    )


class PostgresViewReader:
    """`group` and `topic`: the consumer group and events topic whose partitions' applied positions count."""

    def __init__(self, engine: AsyncEngine, *, group: str, topic: str) -> None:
        self._engine, self._group, self._topic = engine, group, topic

    async def _one(self, query: Any, key: str) -> dict[str, Any] | None:
        async with self._engine.connect() as connection:
            document: dict[str, Any] | None = (await connection.execute(query, {"id": key})).scalar()
            return document

    async def get_view(self, customer_id: str) -> dict[str, Any] | None:
        async with self._engine.connect() as connection:
            stored: bytes | None = (await connection.execute(_VIEW, {"id": customer_id})).scalar()
        view: dict[str, Any] | None = decode(stored) if stored is not None else None
        return view

    async def get_view_applied(self, customer_id: str, position: int) -> tuple[dict[str, Any] | None, bool]:
        """The view, and whether it has applied every event of the customer up to `position`: its own position
        is there, or the projection has applied that far on the customer's partition, which holds their events
        in position order."""
        params = {"id": customer_id, "position": position, "group": self._group, "topic": self._topic}
        async with self._engine.connect() as connection:
            row = (await connection.execute(_VIEW_APPLIED, params)).one_or_none()
        return (None, False) if row is None else (decode(row.view), bool(row.applied))

    async def get_account(self, account_id: str) -> dict[str, Any] | None:
        return await self._one(_ACCOUNT, account_id)

    async def is_erased(self, customer_id: str) -> bool:
        return await self._one(_ERASED, customer_id) is not None

    async def timeline(
        self, customer_id: str, before: tuple[datetime, int] | None, limit: int, filters: TimelineFilter | None = None
    ) -> list[dict[str, Any]]:
        """Entries newest first by (time, position), strictly older than `before` when given."""
        filters = filters or TimelineFilter()
        params: dict[str, Any] = {"id": customer_id, "limit": limit}
        params.update({k: v for k, v in vars_of(filters).items() if v is not None})
        if before is not None:
            params.update(time=before[0], position=before[1])
        async with self._engine.connect() as connection:
            return list((await connection.execute(timeline_query(filters, before is not None), params)).scalars())

    async def ping(self) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))


def vars_of(filters: TimelineFilter) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in ("channel", "kind", "feeling", "since", "until")}
