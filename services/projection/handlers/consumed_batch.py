"""Read a consumed batch: each record's event grouped by customer, with its trace context and freshness stamps."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson
import structlog

from contracts import canonical
from contracts.canonical import HEADER_TRACEPARENT as TRACEPARENT
from services.common.tracing import valid_traceparent
from services.projection.domain import StoredEvent, UndecodableEventError, event_from_record

log = structlog.get_logger(__name__)


class Record(Protocol):
    """The part of a Kafka record the handler reads (aiokafka's ConsumerRecord fits)."""

    @property
    def offset(self) -> int: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass(slots=True)
class Decoded:
    """A batch's events per customer, with what observability needs, gathered in the same single pass."""

    grouped: dict[str, list[StoredEvent]] = field(default_factory=dict)
    undecodable: int = 0
    # customer id -> (position, traceparent) of their latest event that carried one
    traces: dict[str, tuple[int, str]] = field(default_factory=dict)
    recorded: list[str] = field(default_factory=list)  # `recordedat` of each partition's first and last event
    partitions: dict[str, int] = field(default_factory=dict)  # customer id -> the partition their events came on
    highest: dict[int, int] = field(default_factory=dict)  # partition -> the highest position read from it
    last: dict[int, int] = field(default_factory=dict)  # partition -> the position of its last record, if decoded


def decode(records: Sequence[Record], decoded: Decoded, partition: int) -> None:
    """Add each record of one partition to its customer's list; count what could not be decoded."""
    grouped, traces, partitions = decoded.grouped, decoded.traces, decoded.partitions
    first: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    highest = 0
    last: int | None = None
    for record in records:
        try:
            document = orjson.loads(record.value or b"")
            event = event_from_record(document)
        except (orjson.JSONDecodeError, UndecodableEventError) as error:
            # The canonical topic is trusted; a bad record is a bug upstream, not a reason to stop every view.
            # The error names a field or a parse failure, never the record's content (it may be personal).
            log.error("skipped undecodable record", offset=record.offset, error=type(error).__name__)
            decoded.undecodable += 1
            document = None
            last = None
            continue
        first = first or document
        grouped.setdefault(event.customer_id, []).append(event)
        partitions[event.customer_id] = partition
        last = event.position
        if last > highest:
            highest = last
        for key, value in record.headers or ():
            if key == TRACEPARENT and (traceparent := valid_traceparent(value)) is not None:
                held = traces.get(event.customer_id)
                if held is None or held[0] < event.position:
                    traces[event.customer_id] = (event.position, traceparent)
    for bound in (first, document):
        if bound is not None and isinstance(recorded := bound.get(canonical.RECORDED_AT), str):
            decoded.recorded.append(recorded)
    if highest:
        decoded.highest[partition] = highest
    if last is not None:
        decoded.last[partition] = last


def freshness(recorded: list[str], committed: float) -> tuple[float, ...]:
    """Seconds from each `recordedat` to `committed` (a Unix time); unreadable stamps are left out."""
    seconds = []
    for stamp in (min(recorded), max(recorded)) if recorded else ():
        try:
            seconds.append(max(0.0, committed - datetime.fromisoformat(stamp).timestamp()))
        except ValueError:
            continue
    return tuple(seconds)
