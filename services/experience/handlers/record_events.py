"""Record events: validate untrusted documents against the contracts, hash identities, append to the event store."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from contracts import EventParseError, parse_event
from contracts.catalog import TOUCHPOINT_RECORDED, CustomerEvent
from services.experience.adapters.ports import EventStore
from services.experience.domain.append import AppendResult, NewEvent, Refusal
from services.experience.domain.identities import IdentityHasher, InvalidIdentityError

VALIDATION_FAILED = "validation_failed"


@dataclass(frozen=True, slots=True)
class FieldError:
    index: int  # the event's place in its batch; 0 for a single event
    path: str
    message: str
    reason: str | None = None  # set when the event is valid but cannot be accepted (unknown_identity, ...)


class InvalidEventsError(ValueError):
    """At least one document of a batch is not a valid event or cannot be accepted; nothing was stored."""

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


def to_new_event(event: CustomerEvent, identities: IdentityHasher) -> NewEvent:
    """The event as stored: the whole accepted CloudEvent, its subject naming the customer, no raw identifier.

    A linked/unlinked event keeps `identity: {kind, value_hash}`; a touchpoint naming its customer by identity
    loses the identity altogether (the append puts the resolved customer id in its place).
    Raises InvalidIdentityError when an identity normalises to nothing.
    """
    envelope = event.model_dump(mode="json", exclude_none=True)
    ref = getattr(event.data, "identity", None)
    identity = None if ref is None else identities.key_of(ref.kind.value, ref.value)
    if identity is not None:
        data = envelope["data"]
        if event.type == TOUCHPOINT_RECORDED:
            del data["identity"]
        else:
            data["identity"] = identity.as_stored()
    if event.customer_id is not None:
        envelope["subject"] = event.customer_id
    return NewEvent(
        event_id=event.id,
        customer_id=event.customer_id,
        type=event.type,
        source=event.source,
        occurred_at=event.time,
        envelope=envelope,
        identity=identity,
    )


class EventRecorder:
    """Appends validated events and tells the relay there is something new to publish."""

    def __init__(
        self, store: EventStore, identities: IdentityHasher, on_appended: Callable[[], None] = lambda: None
    ) -> None:
        self._store = store
        self._identities = identities
        self._on_appended = on_appended

    async def record(self, events: Sequence[CustomerEvent]) -> AppendResult:
        """All or nothing: raise InvalidEventsError naming every event that cannot be accepted."""
        prepared, refusals = self._prepare(events)
        if refusals:
            raise _invalid(refusals)
        result = await self._appended(prepared, all_or_nothing=True)
        if result.refusals:
            raise _invalid(result.refusals)
        return result

    async def record_each(self, events: Sequence[CustomerEvent]) -> AppendResult:
        """Store what can be stored; the result's refusals index into `events`."""
        prepared, refusals = self._prepare(events)
        refused = {r.index for r in refusals}
        places = [i for i in range(len(events)) if i not in refused]
        result = await self._appended(prepared, all_or_nothing=False)
        moved = [Refusal(places[r.index], r.path, r.reason, r.message) for r in result.refusals]
        return replace(result, refusals=sorted([*refusals, *moved], key=lambda r: r.index))

    def _prepare(self, events: Sequence[CustomerEvent]) -> tuple[list[NewEvent], list[Refusal]]:
        prepared: list[NewEvent] = []
        refusals: list[Refusal] = []
        for index, event in enumerate(events):
            try:
                prepared.append(to_new_event(event, self._identities))
            except InvalidIdentityError as error:
                refusals.append(Refusal(index, "data.identity.value", VALIDATION_FAILED, str(error)))
        return prepared, refusals

    async def _appended(self, prepared: list[NewEvent], *, all_or_nothing: bool) -> AppendResult:
        result = await self._store.append(prepared, all_or_nothing=all_or_nothing)
        if result.accepted:
            self._on_appended()
        return result


def _invalid(refusals: Sequence[Refusal]) -> InvalidEventsError:
    return InvalidEventsError([FieldError(r.index, r.path, r.message, r.reason) for r in refusals])
