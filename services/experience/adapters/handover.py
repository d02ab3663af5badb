"""Events this process has just committed, as the relay publishes them, built from what the append already holds.

The relay used to read back from PostgreSQL what its own process had appended a moment before: a round trip, and
PostgreSQL rendering each jsonb envelope to text again. The append has the envelope, the position and sequence
PostgreSQL assigned and the commit's timestamp, so it can build the same canonical document (the same members
and values as `sql._CANONICAL`; only the JSON's key order may differ) and hand it over in memory.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from contracts import canonical
from services.experience.adapters.ports import StoredEvent
from services.experience.domain.append import Numbered

_STORAGE_ATTRIBUTES = frozenset({canonical.POSITION, canonical.SEQUENCE, canonical.RECORDED_AT})


def canonical_document(
    envelope: Mapping[str, Any], serialised: bytes, position: int, sequence: int, recorded_at: datetime
) -> bytes:
    """The envelope with its storage attributes; ours last, so a producer's own `position` never survives.
    `serialised` is the envelope's JSON as the insert sent it: the attributes are appended to those bytes rather
    than the envelope serialised a second time, unless the producer set one of them (then it is replaced)."""
    stamp = recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if _STORAGE_ATTRIBUTES.isdisjoint(envelope):
        # An envelope is never empty (it has at least the CloudEvents required attributes), so it ends in "...}".
        return serialised[:-1] + b',"%s":%d,"%s":%d,"%s":"%s"}' % (
            canonical.POSITION.encode(), position, canonical.SEQUENCE.encode(), sequence,
            canonical.RECORDED_AT.encode(), stamp.encode(),
        )  # fmt: skip
    document = {**envelope, canonical.POSITION: position, canonical.SEQUENCE: sequence, canonical.RECORDED_AT: stamp}
    return orjson.dumps(document)


def committed_events(
    new: Sequence[Numbered], envelopes: Sequence[bytes], returned: Iterable[tuple[str, int, datetime]]
) -> list[StoredEvent]:
    """The new events in position order, from the (event id, position, recorded at) rows the insert returned;
    `envelopes` holds each new event's envelope as the insert serialised it."""
    assigned = {event_id: (position, recorded_at) for event_id, position, recorded_at in returned}
    events = []
    for numbered, serialised in zip(new, envelopes, strict=True):
        event = numbered.event
        position, recorded_at = assigned[event.event_id]
        traceparent = event.envelope.get(canonical.HEADER_TRACEPARENT)
        events.append(StoredEvent(
            position, numbered.customer_id, event.event_id, event.type,
            traceparent if isinstance(traceparent, str) else None,
            canonical_document(event.envelope, serialised, position, numbered.sequence, recorded_at),
        ))  # fmt: skip
    events.sort(key=lambda e: e.position)
    return events
