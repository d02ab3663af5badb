"""What reached the view topics: the published marks of views, account views and tombstones, and what lacks one."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.projection.adapters.database import json_param
from services.projection.adapters.documents import decode

_MARK_PUBLISHED = text(
    # A narrow table of its own (migration p0006): a mark rewrites two columns, not the whole view row.
    """
    INSERT INTO published_views AS p (customer_id, published_position)
    SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:positions AS bigint[]))
    ON CONFLICT (customer_id) DO UPDATE SET published_position = excluded.published_position
    WHERE p.published_position < excluded.published_position
    """
)
_LOCK_UNPUBLISHED = text(
    # A walk of the primary key from where the last chunk ended: this runs once per worker start, and keeping an
    # index on unpublished rows would make every view update non-HOT. A view without a mark was never published.
    "SELECT v.customer_id, v.view FROM customer_views AS v "
    "LEFT JOIN published_views AS p ON p.customer_id = v.customer_id "
    "WHERE coalesce(p.published_position, 0) < v.position AND v.customer_id > :after "
    "ORDER BY v.customer_id LIMIT :limit FOR UPDATE OF v SKIP LOCKED"
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


async def lock_unpublished(connection: AsyncConnection, limit: int, after: str) -> list[dict[str, Any]]:
    rows = await connection.execute(_LOCK_UNPUBLISHED, {"limit": limit, "after": after})
    return [decode(row.view) for row in rows]


async def lock_unpublished_accounts(connection: AsyncConnection, limit: int) -> list[tuple[dict[str, Any], int]]:
    rows = await connection.execute(_LOCK_UNPUBLISHED_ACCOUNTS, {"limit": limit})
    return [(row.view, row.revision) for row in rows]


async def lock_unpublished_tombstones(connection: AsyncConnection, limit: int) -> list[str]:
    return [row.customer_id for row in await connection.execute(_LOCK_UNPUBLISHED_TOMBSTONES, {"limit": limit})]


async def mark_published(connection: AsyncConnection, published: dict[str, int]) -> None:
    if published:
        await connection.execute(_MARK_PUBLISHED, {"ids": list(published), "positions": list(published.values())})


async def mark_accounts_published(connection: AsyncConnection, published: dict[str, int]) -> None:
    rows = [{"account_id": a, "revision": r} for a, r in published.items()]
    if rows:
        await connection.execute(_MARK_ACCOUNTS_PUBLISHED, {"rows": json_param(rows)})


async def mark_tombstones_published(connection: AsyncConnection, customer_ids: list[str]) -> None:
    if customer_ids:
        await connection.execute(_MARK_TOMBSTONES_PUBLISHED, {"ids": customer_ids})
