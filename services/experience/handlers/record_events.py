"""Record events: validate untrusted documents against the contracts, then append them to the event store."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from contracts import EventParseError, parse_event
from contracts.catalog import CustomerEvent
from services.experience.adapters.ports import EventStore
from services.experience.domain.append import AppendResult, NewEvent


@dataclass(frozen=True, slots=True)
class FieldError:
    index: int  # the event's place in its batch; 0 for a single event
    path: str
    message: str


class InvalidEventsError(ValueError):
    """At least one document of a batch is not a valid event; nothing of the batch was stored."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


def validate_all(documents: Sequence[Any]) -> list[CustomerEvent]:
    """Parse every document, collecting every error of every document before refusing the batch."""
    events: list[CustomerEvent] = []
    errors: list[FieldError] = []
    for index, document in enumerate(documents):
        try:
            events.append(parse_event(document))
        except EventParseError as error:
            errors.extend(FieldError(index, e["path"], e["message"]) for e in error.errors)
    if errors:
        raise InvalidEventsError(errors)
    return events


def to_new_event(event: CustomerEvent) -> NewEvent:
    """The event as stored: the whole accepted CloudEvent, its subject naming the customer."""
    envelope = event.model_dump(mode="json", exclude_none=True)
    envelope["subject"] = event.customer_id
    return NewEvent(
        event_id=event.id,
        customer_id=event.customer_id,
        type=event.type,
        source=event.source,
        occurred_at=event.time,
        envelope=envelope,
    )


class EventRecorder:
    """Appends validated events and tells the relay there is something new to publish."""

    def __init__(self, store: EventStore, on_appended: Callable[[], None] = lambda: None) -> None:
        self._store = store
        self._on_appended = on_appended

    async def record(self, events: Sequence[CustomerEvent]) -> AppendResult:
        result = await self._store.append([to_new_event(e) for e in events])
        if result.accepted:
            self._on_appended()
        return result
