"""Read-only queries behind the HTTP API: views, keyset pages of a timeline, accounts, erasure."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.projection.adapters.documents import decode

_VIEW = text("SELECT view FROM customer_views WHERE customer_id = :id")
_ACCOUNT = text("SELECT view FROM account_views WHERE account_id = :id")
_ERASED = text("SELECT 1 FROM erased_views WHERE customer_id = :id")


@dataclass(frozen=True, slots=True)
class TimelineFilter:
    """Narrows a timeline; `since` is inclusive, `until` exclusive."""

    channel: str | None = None
    kind: str | None = None
    feeling: str | None = None
    since: datetime | None = None
    until: datetime | None = None


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
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _one(self, query: Any, key: str) -> dict[str, Any] | None:
        async with self._engine.connect() as connection:
            document: dict[str, Any] | None = (await connection.execute(query, {"id": key})).scalar()
            return document

    async def get_view(self, customer_id: str) -> dict[str, Any] | None:
        async with self._engine.connect() as connection:
            stored: bytes | None = (await connection.execute(_VIEW, {"id": customer_id})).scalar()
        view: dict[str, Any] | None = decode(stored) if stored is not None else None
        return view

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
