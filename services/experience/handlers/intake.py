"""Take a batch of raw intake records: store the valid events at once, dead-letter every invalid record."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
import structlog

from contracts import EventParseError, canonical, parse_event, topics
from contracts.catalog import CUSTOMER_ERASED, CustomerEvent
from services.common.tracing import trace_id, valid_traceparent
from services.experience.adapters.ports import OutgoingRecord, RecordProducer
from services.experience.domain import binary_mode
from services.experience.handlers.record_events import EventRecorder

log = structlog.get_logger(__name__)
_MAX_DETAIL_BYTES = 4000
ERASURE_NOT_ALLOWED = "erasure_not_allowed"


@dataclass(frozen=True, slots=True)
class IntakeRecord:
    """A record exactly as it arrived, so a dead letter can carry the original bytes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str  # a short code a reader can group by
    detail: str  # field paths and messages, for the producer's engineers


def parse_record(value: bytes | None) -> CustomerEvent | Rejection:
    try:
        text = (value or b"").decode("utf-8")
    except UnicodeDecodeError as error:
        return Rejection("not_utf8", f"the value is not UTF-8: {error.reason} at byte {error.start}")
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        return Rejection("invalid_json", f"the value is not JSON: {error}")
    try:
        return parse_event(document)
    except EventParseError as error:
        return Rejection(error.reason, str(error))


def parse_binary_record(record: IntakeRecord) -> CustomerEvent | Rejection:
    """A binary-mode record: the attributes in `ce_*` headers, the value as `data`, parsed as structured mode is."""
    try:
        attributes = binary_mode.kafka_attributes(record.headers)
        document = binary_mode.document(attributes, content_type_of(record), record.value)
    except binary_mode.BinaryModeError as error:
        return Rejection(error.reason, str(error))
    try:
        return parse_event(document)
    except EventParseError as error:
        return Rejection(error.reason, str(error))


def content_type_of(record: IntakeRecord) -> str | None:
    for name, value in record.headers:
        if name == canonical.HEADER_CONTENT_TYPE:
            return (value or b"").decode("utf-8", errors="replace")
    return None


def is_binary(record: IntakeRecord) -> bool:
    names = [name for name, _ in record.headers]
    return binary_mode.is_binary(content_type_of(record), names, binary_mode.KAFKA_PREFIX)


def dead_letter(record: IntakeRecord, rejection: Rejection) -> OutgoingRecord:
    headers = [
        *record.headers,
        (topics.DLQ_REASON, rejection.reason.encode()),
        (topics.DLQ_DETAIL, rejection.detail.encode()[:_MAX_DETAIL_BYTES]),
        (topics.DLQ_TOPIC, record.topic.encode()),
        (topics.DLQ_PARTITION, str(record.partition).encode()),
        (topics.DLQ_OFFSET, str(record.offset).encode()),
    ]
    return OutgoingRecord(key=record.key, value=record.value, headers=headers)


# A structured record carries it as a plain header; a binary-mode one as the `traceparent` extension attribute.
_TRACEPARENT_HEADERS = (canonical.HEADER_TRACEPARENT, binary_mode.KAFKA_PREFIX + canonical.HEADER_TRACEPARENT)


def traceparent_of(record: IntakeRecord) -> str | None:
    """The record's `traceparent` (or binary mode's `ce_traceparent`) header when it is a valid W3C one."""
    for name, value in record.headers:
        if name in _TRACEPARENT_HEADERS:
            return valid_traceparent(value)
    return None


class IntakeHandler:
    """Returns only once the batch is stored and dead-lettered, so the caller may commit its offsets."""

    def __init__(
        self,
        recorder: EventRecorder,
        producer: RecordProducer,
        dlq_topic: str,
        *,
        retry_s: float = 1.0,
        allow_erasure: bool = True,
    ) -> None:
        self._recorder = recorder
        self._producer = producer
        self._dlq_topic = dlq_topic
        self._retry_s = retry_s
        self._allow_erasure = allow_erasure

    async def handle(self, records: Sequence[IntakeRecord]) -> None:
        events: list[CustomerEvent] = []
        sources: list[IntakeRecord] = []  # the record each event came from
        refused: list[tuple[IntakeRecord, Rejection, str | None]] = []  # record, why, event id when known
        for record in records:
            parsed = self._parse(record)
            if isinstance(parsed, Rejection):
                refused.append((record, parsed, None))
            else:
                events.append(parsed)
                sources.append(record)
        try:
            if events:
                result = await self._recorder.record_each(events, [traceparent_of(r) for r in sources])
                # Refused events (unknown identity, erased customer, ...) are dead-lettered; the rest is stored.
                refused.extend(
                    (sources[r.index], Rejection(r.reason, r.message), events[r.index].id) for r in result.refusals
                )
            if refused:
                await self._producer.send_all(self._dlq_topic, [dead_letter(r, why) for r, why, _ in refused])
        except Exception as error:
            # The caller will redeliver this batch; pausing first keeps an outage from becoming a hot loop.
            log.warning("intake.batch_failed", error=repr(error), records=len(records), retry_in_s=self._retry_s)
            await asyncio.sleep(self._retry_s)
            raise
        if refused:
            self._report(refused)

    def _report(self, refused: list[tuple[IntakeRecord, Rejection, str | None]]) -> None:
        """Counters once per batch; one log line per dead letter: reason, event id and where it came from.

        The detail is left out of the log: a validation message may quote a value (a note, an identifier).
        """
        reasons = [why.reason for _, why, _ in refused]
        self._recorder.metrics.count_rejected(reasons)
        self._recorder.metrics.count_dead_lettered(reasons)
        for record, why, event_id in refused:
            log.info(
                "intake.dead_lettered",
                reason=why.reason,
                event_id=event_id,
                partition=record.partition,
                offset=record.offset,
                trace_id=trace_id(traceparent_of(record)),
            )

    def _parse(self, record: IntakeRecord) -> CustomerEvent | Rejection:
        parsed = parse_binary_record(record) if is_binary(record) else parse_record(record.value)
        if not self._allow_erasure and not isinstance(parsed, Rejection) and parsed.type == CUSTOMER_ERASED:
            return Rejection(ERASURE_NOT_ALLOWED, "erasure is not accepted on the intake topic; use the HTTP API")
        return parsed
