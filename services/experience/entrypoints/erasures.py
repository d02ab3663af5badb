"""`DELETE /v1/customers/{id}` as the `cx.customer.erased.v1` event it stores, one id for every repeat of it."""

import uuid
from datetime import datetime
from typing import Any

from contracts.catalog import CUSTOMER_ERASED

_ERASURES = uuid.UUID("7a1e3f4c-2b7d-5c1e-9f0a-6d5b4c3a2e10")  # namespace of DELETE's deterministic event ids


def erasure_event_id(customer_id: str) -> str:
    """The same id for every DELETE of one customer, so a repeated request is a duplicate, not a second erasure."""
    return f"erasure-{uuid.uuid5(_ERASURES, customer_id)}"


def erasure_document(customer_id: str, reason: str, now: datetime) -> dict[str, Any]:
    """`DELETE /v1/customers/{id}` as the `cx.customer.erased.v1` event it stores."""
    return {
        "specversion": "1.0",
        "id": erasure_event_id(customer_id),
        "source": "urn:rapport:experience:http",
        "type": CUSTOMER_ERASED,
        "time": now.isoformat(),
        "data": {"customer_id": customer_id, "reason": reason},
    }
