"""Set-based SQL for account roll-ups, erasure and change notices, run inside a batch's transaction."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.projection.adapters.database import json_param
from services.projection.adapters.documents import decode, decode_state
from services.projection.domain import MemberRecord

# Payload: notices '<customer id>:<position>' or '<customer id>:erased', one a line (ids hold no whitespace), as
# many as fit in one notification: one per batch, not one per customer, is what keeps listeners cheap.
NOTIFY_CHANNEL = "rapport_views"
NOTICE_SEPARATOR = "\n"
MAX_PAYLOAD_BYTES = 7900  # PostgreSQL refuses payloads of 8000 bytes or more
ERASED = "erased"

_ERASED_AMONG = text("SELECT customer_id FROM erased_views WHERE customer_id = ANY(:ids)")
_DELETE_VIEWS = text("DELETE FROM customer_views WHERE customer_id = ANY(:ids)")
_DELETE_TIMELINE = text("DELETE FROM timeline_entries WHERE customer_id = ANY(:ids)")
# Tidiness, not secrecy (erased_views keeps the ids): a mark deferred from an earlier batch may still land after
# this, and a mark without a view publishes nothing.
_DELETE_MARKS = text("DELETE FROM published_views WHERE customer_id = ANY(:ids)")
_LEAVE_ACCOUNTS = text(
    """
    UPDATE account_members AS m SET member = false, position = GREATEST(m.position, r.position)
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(customer_id text, position bigint)
    WHERE m.customer_id = r.customer_id
    RETURNING m.account_id
    """
)
_RECORD_ERASED = text(
    """
    INSERT INTO erased_views (customer_id, position)
    SELECT r.customer_id, r.position
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(customer_id text, position bigint)
    ON CONFLICT (customer_id) DO NOTHING
    """
)
_SAVE_MEMBERSHIPS = text(
    """
    INSERT INTO account_members AS m (account_id, customer_id, role, member, position)
    SELECT r.account_id, r.customer_id, r.role, r.member, r.position
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        account_id text, customer_id text, role text, member boolean, position bigint)
    ON CONFLICT (account_id, customer_id) DO UPDATE SET
        role = excluded.role, member = excluded.member, position = excluded.position
    """
)
# Two workers recomputing one account must not both read before either writes: lock accounts, in one order.
_LOCK_ACCOUNTS = text(
    "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended('rapport-account:' || id, 0) AS k "
    "FROM unnest(CAST(:ids AS text[])) AS id ORDER BY k) AS keys"
)
_MEMBERS = text(
    """
    SELECT m.account_id, m.customer_id, m.role, m.member, m.position AS membership_position,
           v.version, v.position, v.view, v.fold_state
    FROM account_members m LEFT JOIN customer_views v ON v.customer_id = m.customer_id AND m.member
    WHERE m.account_id = ANY(:ids)
    """
)
_UPSERT_ACCOUNTS = text(
    """
    INSERT INTO account_views AS a (account_id, version, position, view)
    SELECT r.account_id, r.version, r.position, r.view
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(account_id text, version bigint, position bigint, view jsonb)
    ON CONFLICT (account_id) DO UPDATE SET
        version = excluded.version, position = excluded.position, view = excluded.view, revision = a.revision + 1
    WHERE a.view IS DISTINCT FROM excluded.view
    RETURNING a.account_id, a.revision
    """
)
_UNPUBLISHED_AMONG = text(
    "SELECT view, revision FROM account_views WHERE account_id = ANY(:ids) AND published_revision < revision "
    "ORDER BY account_id"
)
_NOTIFY = text(f"SELECT pg_notify('{NOTIFY_CHANNEL}', p) FROM unnest(CAST(:payloads AS text[])) AS p")


async def erased_among(connection: AsyncConnection, customer_ids: list[str]) -> set[str]:
    return {row.customer_id for row in await connection.execute(_ERASED_AMONG, {"ids": customer_ids})}


async def erase(connection: AsyncConnection, erasures: dict[str, int]) -> set[str]:
    """Forget the customers (id -> the erasure's position); return the accounts they leave."""
    ids, rows = list(erasures), json_param([{"customer_id": c, "position": p} for c, p in erasures.items()])
    await connection.execute(_DELETE_VIEWS, {"ids": ids})
    await connection.execute(_DELETE_TIMELINE, {"ids": ids})
    await connection.execute(_DELETE_MARKS, {"ids": ids})
    left = {row.account_id for row in await connection.execute(_LEAVE_ACCOUNTS, {"rows": rows})}
    await connection.execute(_RECORD_ERASED, {"rows": rows})
    return left


async def save_memberships(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Rows of account_id, customer_id, role, member, position."""
    if rows:
        await connection.execute(_SAVE_MEMBERSHIPS, {"rows": json_param(rows)})


async def load_members(connection: AsyncConnection, account_ids: list[str]) -> dict[str, list[MemberRecord]]:
    await connection.execute(_LOCK_ACCOUNTS, {"ids": account_ids})
    members: dict[str, list[MemberRecord]] = {a: [] for a in account_ids}
    for row in await connection.execute(_MEMBERS, {"ids": account_ids}):
        members[row.account_id].append(member_record(row))
    return members


def member_record(row: Any) -> MemberRecord:
    """A row of account_members joined to the member's view row (absent once erased or left)."""
    view = decode(row.view) if row.view is not None else {}
    state = decode_state(row.fold_state) if row.fold_state is not None else None
    return MemberRecord(
        row.customer_id, row.role, row.member and row.version is not None, row.membership_position,
        row.version or 0, row.position or 0, view.get("updated_at"), view.get("experience") or {},
        view.get("preferences") or {}, state.scored if state else 0, state.contracts if state else [],
    )  # fmt: skip


async def save_account_views(connection: AsyncConnection, views: list[dict[str, Any]]) -> dict[str, int]:
    """Upsert the views; return account id -> revision of those that changed (the ones worth publishing)."""
    if not views:
        return {}
    rows = [
        {"account_id": v["account_id"], "version": v["version"], "position": v["position"], "view": v} for v in views
    ]
    result = await connection.execute(_UPSERT_ACCOUNTS, {"rows": json_param(rows)})
    return {row.account_id: row.revision for row in result}


async def lock_accounts_to_publish(connection: AsyncConnection, account_ids: list[str]) -> list[tuple[Any, int]]:
    """(view, revision) of those of the accounts not yet published, as committed now, under the locks a roll-up
    takes: until this transaction ends, no roll-up of these accounts can commit (let alone publish) a newer one."""
    await connection.execute(_LOCK_ACCOUNTS, {"ids": account_ids})
    return [(row.view, row.revision) for row in await connection.execute(_UNPUBLISHED_AMONG, {"ids": account_ids})]


async def notify(connection: AsyncConnection, notices: list[str]) -> None:
    """Delivered to listeners at commit, never before, and never if the batch rolls back."""
    if notices:
        await connection.execute(_NOTIFY, {"payloads": payloads_of(notices)})


def payloads_of(notices: list[str]) -> list[str]:
    """The notices joined into as few payloads as fit under PostgreSQL's limit."""
    payloads: list[str] = []
    chunk: list[str] = []
    size = 0
    for notice in notices:
        length = len(notice.encode()) + 1
        if chunk and size + length > MAX_PAYLOAD_BYTES:
            payloads.append(NOTICE_SEPARATOR.join(chunk))
            chunk, size = [], 0
        chunk.append(notice)
        size += length
    if chunk:
        payloads.append(NOTICE_SEPARATOR.join(chunk))
    return payloads
