"""Record events: validate untrusted documents against the contracts, hash identities, append to the event store."""

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import structlog

from contracts import EventParseError, parse_event
from contracts.canonical import HEADER_TRACEPARENT
from contracts.catalog import TOUCHPOINT_RECORDED, CustomerEvent
from services.common.tracing import trace_id
from services.experience.adapters.metrics import ExperienceMetrics
from services.experience.adapters.ports import EventStore
from services.experience.domain.append import AppendResult, NewEvent, Refusal
from services.experience.domain.identities import IdentityHasher, InvalidIdentityError
from services.experience.handlers.append_events import append_events

log = structlog.get_logger(__name__)

VALIDATION_FAILED = "validation_failed"


@dataclass(frozen=True, slots=True)
class FieldError:
    index: int  # the event's place in its batch; 0 for a single event
    path: str
    message: str
    reason: str | None = None  # set when the event is valid but cannot be accepted (unknown_identity, ...)


class InvalidEventsError(ValueError):
    """At least one document of a batch is not a valid event or cannot be accepted; nothing was stored.

    `reasons` names, per refused event (by index), the short reason metrics and logs group by.
    """

    def __init__(self, errors: list[FieldError], reasons: dict[int, str] | None = None) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors
        self.reasons = reasons if reasons is not None else {e.index: e.reason or VALIDATION_FAILED for e in errors}


def validate_all(documents: Sequence[Any]) -> list[CustomerEvent]:
    """Parse every document, collecting every error of every document before refusing the batch."""
    events: list[CustomerEvent] = []
    errors: list[FieldError] = []
    reasons: dict[int, str] = {}
    for index, document in enumerate(documents):
        try:
            events.append(parse_event(document))
        except EventParseError as error:
            errors.extend(FieldError(index, e["path"], e["message"]) for e in error.errors)
            reasons[index] = error.reason
    if errors:
        raise InvalidEventsError(errors, reasons)
    return events


def to_new_event(event: CustomerEvent, identities: IdentityHasher, traceparent: str | None = None) -> NewEvent:
    """The event as stored: the whole accepted CloudEvent, its subject naming the customer, no raw identifier.

    A linked/unlinked event keeps `identity: {kind, value_hash}`; a touchpoint naming its customer by identity
    loses the identity altogether (the append puts the resolved customer id in its place).
    `traceparent` (from the request or record that carried the event) is kept as the `traceparent` extension
    attribute unless the event brings its own, so the relay can hand the trace on to the projection.
    Raises InvalidIdentityError when an identity normalises to nothing.
    """
    envelope = event.model_dump(mode="json", exclude_none=True)
    if traceparent is not None:
        envelope.setdefault(HEADER_TRACEPARENT, traceparent)
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
    """Appends validated events (the store hands what it commits to the relay)."""

    def __init__(self, store: EventStore, identities: IdentityHasher, metrics: ExperienceMetrics | None = None) -> None:
        self._store = store
        self._identities = identities
        self.metrics = metrics or ExperienceMetrics()

    async def record(self, events: Sequence[CustomerEvent], traceparent: str | None = None) -> AppendResult:
        """All or nothing: raise InvalidEventsError naming every event that cannot be accepted."""
        prepared, refusals = self._prepare(events, [traceparent] * len(events))
        if refusals:
            raise _invalid(refusals)
        result = await self._appended(prepared, all_or_nothing=True)
        if result.refusals:
            raise _invalid(result.refusals)
        return result

    async def record_each(
        self, events: Sequence[CustomerEvent], traceparents: Sequence[str | None] | None = None
    ) -> AppendResult:
        """Store what can be stored; the result's refusals index into `events`."""
        prepared, refusals = self._prepare(events, traceparents or [None] * len(events))
        refused = {r.index for r in refusals}
        places = [i for i in range(len(events)) if i not in refused]
        result = await self._appended(prepared, all_or_nothing=False)
        moved = [Refusal(places[r.index], r.path, r.reason, r.message) for r in result.refusals]
        return replace(result, refusals=sorted([*refusals, *moved], key=lambda r: r.index))

    def _prepare(
        self, events: Sequence[CustomerEvent], traceparents: Sequence[str | None]
    ) -> tuple[list[NewEvent], list[Refusal]]:
        prepared: list[NewEvent] = []
        refusals: list[Refusal] = []
        for index, (event, traceparent) in enumerate(zip(events, traceparents, strict=True)):
            try:
                prepared.append(to_new_event(event, self._identities, traceparent))
            except InvalidIdentityError as error:
                refusals.append(Refusal(index, "data.identity.value", VALIDATION_FAILED, str(error)))
        return prepared, refusals

    async def _appended(self, prepared: list[NewEvent], *, all_or_nothing: bool) -> AppendResult:
        started = time.perf_counter()
        result = await append_events(self._store, prepared, all_or_nothing=all_or_nothing)
        self.metrics.append_seconds.observe(time.perf_counter() - started)
        if result.accepted:
            self._report(prepared, result)
        elif result.duplicates:
            self.metrics.duplicates.inc(len(result.duplicates))
        return result

    def _report(self, prepared: list[NewEvent], result: AppendResult) -> None:
        """Once per batch: the counters by type and one log line (ids and position; no personal data)."""
        accepted = set(result.accepted)
        stored = [e for e in prepared if e.event_id in accepted] if len(accepted) < len(prepared) else prepared
        self.metrics.count_accepted((e.type for e in stored), len(result.duplicates))
        log.info(
            "events.accepted",
            count=len(result.accepted),
            duplicates=len(result.duplicates),
            first_event_id=result.accepted[0],
            last_event_id=result.accepted[-1],
            position=result.position,
            trace_id=trace_id(stored[0].envelope.get(HEADER_TRACEPARENT)),
        )


def _invalid(refusals: Sequence[Refusal]) -> InvalidEventsError:
    return InvalidEventsError([FieldError(r.index, r.path, r.message, r.reason) for r in refusals])
