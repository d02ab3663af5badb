"""How a folded customer becomes stored rows: one shaper for the live batch's upserts and the rebuild's COPY, so
both write the same rows by construction (a rebuilt view must equal the one the workers would have stored).

Rows are shaped once, as the live statements take them; `*_for_copy` only changes how values travel (COPY's
binary format wants a datetime for a timestamptz and text for a jsonb), never what they are.
"""

from datetime import datetime
from typing import Any

import orjson

from services.projection.adapters.documents import compress, encode_state
from services.projection.domain import CustomerState

VIEW_COLUMNS = ("customer_id", "version", "position", "updated_at", "view", "fold_state")
TIMELINE_COLUMNS = ("event_id", "customer_id", "position", "occurred_at", "channel", "kind", "feeling", "entry")
MEMBER_COLUMNS = ("account_id", "customer_id", "role", "member", "position")


ViewRow = tuple[str, int, int, str | None, bytes, bytes]  # in VIEW_COLUMNS order


def view_row(state: CustomerState, view: dict[str, Any], serialised: bytes) -> ViewRow:
    """A customer_views row in VIEW_COLUMNS order; `serialised` is the view's JSON (also what is published)."""
    return (
        state.customer_id,
        state.version,
        state.position,
        view["updated_at"],
        compress(serialised),
        encode_state(state),
    )


# A timeline_entries row is its customer and the fold's timeline entry: every other column is one of the entry's
# fields (`timeline_columns`), so the live insert sends each entry once and PostgreSQL takes the columns from it.
TimelineRow = tuple[str, dict[str, Any]]


def timeline_row(customer_id: str, entry: dict[str, Any]) -> TimelineRow:
    """A timeline_entries row from a fold's timeline entry."""
    return customer_id, entry


def timeline_columns(row: TimelineRow) -> dict[str, Any]:
    """The row's columns by name (the live insert's SQL takes the same fields from the entry)."""
    customer_id, entry = row
    return {
        "event_id": entry["event_id"], "customer_id": customer_id, "position": entry["position"],
        "occurred_at": entry["time"], "channel": entry["channel"], "kind": entry["kind"],
        "feeling": entry["feeling"], "entry": entry,
    }  # fmt: skip


def membership_row(account_id: str, customer_id: str, role: str | None, member: bool, position: int) -> dict[str, Any]:
    """An account_members row: a customer's standing in an account (`member` false once they left or were erased)."""
    return {
        "account_id": account_id, "customer_id": customer_id, "role": role or "other", "member": member,
        "position": position,
    }  # fmt: skip


def view_for_copy(row: ViewRow) -> tuple[Any, ...]:
    updated = row[3]
    return (*row[:3], datetime.fromisoformat(updated) if updated else None, *row[4:])


def timeline_for_copy(row: TimelineRow) -> tuple[Any, ...]:
    columns = timeline_columns(row)
    return (
        columns["event_id"], columns["customer_id"], columns["position"],
        datetime.fromisoformat(columns["occurred_at"]), columns["channel"], columns["kind"], columns["feeling"],
        orjson.dumps(columns["entry"]).decode(),
    )  # fmt: skip


def membership_for_copy(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[column] for column in MEMBER_COLUMNS)
