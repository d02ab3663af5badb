"""Valid and invalid event documents with random ids, as an upstream system would send them."""

import uuid
from typing import Any

from contracts.event_types import (
    ACCOUNT_MEMBERSHIP_CHANGED,
    CONSENT_CHANGED,
    CUSTOMER_ERASED,
    IDENTITY_LINKED,
    IDENTITY_UNLINKED,
    PREFERENCE_STATED,
    TOUCHPOINT_RECORDED,
)


def new_id(prefix: str = "e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def touchpoint(customer_id: str | None = None, **data: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": new_id(),
        "source": "urn:test:store-pos",
        "type": TOUCHPOINT_RECORDED,
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
        "type": PREFERENCE_STATED,
        "time": "2025-03-02T10:00:00+01:00",
        "data": {"customer_id": customer_id or new_id("c"), "preferences": {"channel": "email"}},
    }


def _event(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": new_id(),
        "source": "urn:test:crm",
        "type": event_type,
        "time": "2025-03-03T09:30:00Z",
        "data": data,
    }


def email(prefix: str = "ana") -> str:
    """A fresh address, so no test can pass by finding another test's identifier."""
    return f"{prefix}.{uuid.uuid4().hex[:8]}@example.org"


def touchpoint_by(identity_kind: str, value: str, **data: Any) -> dict[str, Any]:
    """A touchpoint naming its customer by a linked identity instead of a customer id."""
    event = touchpoint(**data)
    del event["data"]["customer_id"]
    event["data"]["identity"] = {"kind": identity_kind, "value": value}
    return event


def identity_linked(customer_id: str, kind: str, value: str) -> dict[str, Any]:
    return _event(IDENTITY_LINKED, {"customer_id": customer_id, "identity": {"kind": kind, "value": value}})


def identity_unlinked(customer_id: str, kind: str, value: str) -> dict[str, Any]:
    return _event(IDENTITY_UNLINKED, {"customer_id": customer_id, "identity": {"kind": kind, "value": value}})


def consent(customer_id: str, granted: bool = True) -> dict[str, Any]:
    return _event(CONSENT_CHANGED, {"customer_id": customer_id, "purpose": "marketing", "granted": granted})


def membership(customer_id: str, account_id: str = "acct-1") -> dict[str, Any]:
    data = {"customer_id": customer_id, "account_id": account_id, "role": "purchasing", "member": True}
    return _event(ACCOUNT_MEMBERSHIP_CHANGED, data)


def erasure(customer_id: str) -> dict[str, Any]:
    return _event(CUSTOMER_ERASED, {"customer_id": customer_id})


def personal_preference(customer_id: str, name_to_use: str) -> dict[str, Any]:
    event = preference(customer_id)
    event["data"]["preferences"] = {"channel": "email", "name_to_use": name_to_use}
    return event


def every_type(customer_id: str) -> list[dict[str, Any]]:
    """One event of each of the seven types for one customer, ending with the erasure."""
    value = email()
    return [
        touchpoint(customer_id),
        preference(customer_id),
        consent(customer_id),
        identity_linked(customer_id, "email", value),
        identity_unlinked(customer_id, "email", value),
        membership(customer_id),
        erasure(customer_id),
    ]
