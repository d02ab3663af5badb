"""Builders of canonical records and stored events for the projection tests."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.projection.domain import StoredEvent, event_from_record

BASE = datetime(2025, 1, 1, tzinfo=UTC)


def record(
    customer_id: str,
    position: int,
    kind: str = "touchpoint",
    *,
    minutes: float = 0,
    sequence: int = 0,
    **data: Any,
) -> dict[str, Any]:
    """A canonical record value as the experience service writes it to cx.events.v1."""
    event_id = data.pop("event_id", None) or f"e-{uuid.uuid4().hex}"
    if kind == "touchpoint":
        event_type = "cx.touchpoint.recorded.v1"
        body = {"customer_id": customer_id, "channel": "store", "kind": "purchase", **data}
    else:
        event_type = "cx.preference.stated.v1"
        body = {"customer_id": customer_id, "source": "stated", **data}
    return {
        "specversion": "1.0", "id": event_id, "source": "tests",
        "type": event_type, "time": (BASE + timedelta(minutes=minutes)).isoformat(), "subject": customer_id,
        "datacontenttype": "application/json", "data": body,
        "position": position, "sequence": sequence or position, "recordedat": BASE.isoformat(),
    }  # fmt: skip


def event(customer_id: str, position: int, kind: str = "touchpoint", **kwargs: Any) -> StoredEvent:
    return event_from_record(record(customer_id, position, kind, **kwargs))
