"""Which event types exist and how to turn untrusted JSON into one of them, with errors a producer can act on."""

from typing import Any

from pydantic import ValidationError

from contracts.events import PreferenceStatedEvent, TouchpointRecordedEvent

CustomerEvent = TouchpointRecordedEvent | PreferenceStatedEvent

EVENT_TYPES: dict[str, type[CustomerEvent]] = {
    "cx.touchpoint.recorded.v1": TouchpointRecordedEvent,
    "cx.preference.stated.v1": PreferenceStatedEvent,
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
