"""Which event types exist and how to turn untrusted JSON into one of them, with errors a producer can act on."""

from typing import Any

from pydantic import ValidationError

from contracts.event_types import (
    ACCOUNT_MEMBERSHIP_CHANGED,
    CONSENT_CHANGED,
    CUSTOMER_ERASED,
    IDENTITY_LINKED,
    IDENTITY_UNLINKED,
    PREFERENCE_STATED,
    TOUCHPOINT_RECORDED,
)
from contracts.events import (
    AccountMembershipChangedEvent,
    ConsentChangedEvent,
    CustomerErasedEvent,
    IdentityLinkedEvent,
    IdentityUnlinkedEvent,
    PreferenceStatedEvent,
    TouchpointRecordedEvent,
)

# The type names stay importable from here, where the services and other teams found them first.
__all__ = [
    "ACCOUNT_MEMBERSHIP_CHANGED",
    "CONSENT_CHANGED",
    "CUSTOMER_ERASED",
    "EVENT_TYPES",
    "EXTRA_PREFERENCES",
    "IDENTITY_LINKED",
    "IDENTITY_UNLINKED",
    "PERSONAL_FIELDS",
    "PREFERENCE_STATED",
    "TOUCHPOINT_RECORDED",
    "CustomerEvent",
    "EventParseError",
    "parse_event",
]

CustomerEvent = (
    TouchpointRecordedEvent
    | PreferenceStatedEvent
    | ConsentChangedEvent
    | IdentityLinkedEvent
    | IdentityUnlinkedEvent
    | AccountMembershipChangedEvent
    | CustomerErasedEvent
)

# Every type in contracts.event_types.ALL_TYPES, in its order, with the model that accepts it.
EVENT_TYPES: dict[str, type[CustomerEvent]] = {
    TOUCHPOINT_RECORDED: TouchpointRecordedEvent,
    PREFERENCE_STATED: PreferenceStatedEvent,
    CONSENT_CHANGED: ConsentChangedEvent,
    IDENTITY_LINKED: IdentityLinkedEvent,
    IDENTITY_UNLINKED: IdentityUnlinkedEvent,
    ACCOUNT_MEMBERSHIP_CHANGED: AccountMembershipChangedEvent,
    CUSTOMER_ERASED: CustomerErasedEvent,
}

# Every stated preference whose name is outside the catalogue (contracts/preferences.py): a free-form extra may
# hold anything, so all of them count as personal.
EXTRA_PREFERENCES = "preferences.*"

# Fields that hold personal data, by event type: erasure redacts these in the event store and views drop them
# for readers without the pii:read scope. Paths are inside `data`. Of the catalogued preferences, name_to_use
# names the person, and what to avoid and accessibility needs can tell their health or beliefs. A touchpoint's
# `attributes` are personal as a whole, whatever their keys; its `case_id` is a reference, not personal, so a
# case id every reader needs (open issues) belongs there, never in `attributes`.
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    TOUCHPOINT_RECORDED: ("note", "attributes", "handled_by", "identity"),
    PREFERENCE_STATED: (
        "preferences.name_to_use",
        "preferences.avoid_topics",
        "preferences.accessibility",
        EXTRA_PREFERENCES,
    ),
    IDENTITY_LINKED: ("identity.value",),
    IDENTITY_UNLINKED: ("identity.value",),
}


class EventParseError(ValueError):
    """An input that is not a valid Rapport event; `errors` hold a field path and a message each."""

    def __init__(self, reason: str, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path'] or '(event)'}: {e['message']}" for e in errors))
        self.reason = reason
        self.errors = errors


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def parse_event(document: Any) -> CustomerEvent:
    """Validate one decoded JSON document as a known event type; raise EventParseError naming each field."""
    if not isinstance(document, dict):
        raise EventParseError("not_an_object", [{"path": "", "message": "an event must be a JSON object"}])
    event_type = document.get("type")
    model = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if model is None:
        known = ", ".join(sorted(EVENT_TYPES))
        message = f"unknown event type {event_type!r}; expected one of: {known}"
        raise EventParseError("unknown_type", [{"path": "type", "message": message}])
    try:
        return model.model_validate(document)
    except ValidationError as error:
        details = [{"path": _path(e["loc"]), "message": e["msg"]} for e in error.errors(include_url=False)]
        raise EventParseError("validation_failed", details) from None
