"""Valid and invalid event documents with random ids, as an upstream system would send them."""

import uuid
from typing import Any


def new_id(prefix: str = "e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def touchpoint(customer_id: str | None = None, **data: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": new_id(),
        "source": "urn:test:store-pos",
        "type": "cx.touchpoint.recorded.v1",
        "time": "2025-03-01T10:00:00Z",
        "data": {
            "customer_id": customer_id or new_id("c"),
            "channel": "store",
            "kind": "purchase",
            "sentiment": 0.5,
            **data,
        },
    }


def preference(customer_id: str | None = None) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": new_id(),
        "source": "urn:test:crm",
        "type": "cx.preference.stated.v1",
        "time": "2025-03-02T10:00:00+01:00",
        "data": {"customer_id": customer_id or new_id("c"), "preferences": {"channel": "email"}},
    }
