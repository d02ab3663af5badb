"""Builders of canonical records and stored events for the projection tests."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.event_types import (
    ACCOUNT_MEMBERSHIP_CHANGED,
    CONSENT_CHANGED,
    CUSTOMER_ERASED,
    IDENTITY_LINKED,
    PREFERENCE_STATED,
    TOUCHPOINT_RECORDED,
)
from services.projection.domain import StoredEvent, event_from_record

BASE = datetime(2025, 1, 1, tzinfo=UTC)
TYPES = {
    "touchpoint": TOUCHPOINT_RECORDED,
    "preference": PREFERENCE_STATED,
    "consent": CONSENT_CHANGED,
    "membership": ACCOUNT_MEMBERSHIP_CHANGED,
    "erased": CUSTOMER_ERASED,
    "identity": IDENTITY_LINKED,
}


def record(
    customer_id: str,
    position: int,
    type_: str = "touchpoint",
    *,
    minutes: float = 0,
    sequence: int = 0,
    **data: Any,
) -> dict[str, Any]:
    """A canonical record value as the experience service writes it to cx.events.v1; `type_` is a TYPES key."""
    event_id = data.pop("event_id", None) or f"e-{uuid.uuid4().hex}"
    event_type = TYPES[type_]
    defaults = {"touchpoint": {"channel": "store", "kind": "purchase"}, "preference": {"source": "stated"}}
    body = {"customer_id": customer_id, **defaults.get(type_, {}), **data}
    return {
        "specversion": "1.0", "id": event_id, "source": "tests",
        "type": event_type, "time": (BASE + timedelta(minutes=minutes)).isoformat(), "subject": customer_id,
        "datacontenttype": "application/json", "data": body,
        "position": position, "sequence": sequence or position, "recordedat": BASE.isoformat(),
    }  # fmt: skip


def event(customer_id: str, position: int, type_: str = "touchpoint", **kwargs: Any) -> StoredEvent:
    return event_from_record(record(customer_id, position, type_, **kwargs))
