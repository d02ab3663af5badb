"""Read-only queries behind the HTTP API: a customer's view and a keyset page of their timeline."""

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_VIEW = text("SELECT view FROM customer_views WHERE customer_id = :id")
_TIMELINE_FIRST = text(
    "SELECT entry FROM timeline_entries WHERE customer_id = :id ORDER BY occurred_at DESC, position DESC LIMIT :limit"
)
# Keyset, not OFFSET: entries arriving while a reader pages (new or late) never shift or repeat a page.
_TIMELINE_AFTER = text(
    "SELECT entry FROM timeline_entries WHERE customer_id = :id AND (occurred_at, position) < (:time, :position) "
    "ORDER BY occurred_at DESC, position DESC LIMIT :limit"
)


class PostgresViewReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get_view(self, customer_id: str) -> dict[str, Any] | None:
        async with self._engine.connect() as connection:
            view: dict[str, Any] | None = (await connection.execute(_VIEW, {"id": customer_id})).scalar()
            return view

    async def timeline(self, customer_id: str, before: tuple[datetime, int] | None, limit: int) -> list[dict[str, Any]]:
        """Entries newest first by (time, position), strictly older than `before` when given."""
        params: dict[str, Any] = {"id": customer_id, "limit": limit}
        query = _TIMELINE_FIRST
        if before is not None:
            query = _TIMELINE_AFTER
            params.update(time=before[0], position=before[1])
        async with self._engine.connect() as connection:
            return list((await connection.execute(query, params)).scalars())

    async def ping(self) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
