"""Intake records in CloudEvents binary mode, as the official SDK writes them, stored or dead-lettered as they came."""

from datetime import datetime
from typing import Any

import orjson
import structlog.testing
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent

from contracts import topics
from services.experience.handlers.intake import IntakeHandler, IntakeRecord
from services.experience.handlers.record_events import EventRecorder

from .events import new_id, touchpoint
from .fakes import IDENTITIES, FakeEventStore, FakeProducer

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def binary_headers(document: dict[str, Any], **extensions: str) -> list[tuple[str, bytes]]:
    attributes = {k: v for k, v in document.items() if k != "data"} | extensions
    attributes["time"] = datetime.fromisoformat(attributes["time"])
    return list(ce_kafka.to_binary_event(CloudEvent(attributes, document["data"])).headers.items())


def record(offset: int, value: bytes | None, headers: list[tuple[str, bytes]]) -> IntakeRecord:
    return IntakeRecord("cx.intake.v1", 0, offset, b"k", value, headers)


async def test_binary_and_structured_records_are_stored_alike() -> None:
    store, producer = FakeEventStore(), FakeProducer()
    handler = IntakeHandler(EventRecorder(store, IDENTITIES), producer, "dlq")
    binary = touchpoint()
    structured = binary | {"id": new_id()}

    await handler.handle([
        record(0, orjson.dumps(binary["data"]), binary_headers(binary, traceparent=TRACEPARENT)),
        record(1, orjson.dumps(structured), []),
    ])  # fmt: skip

    envelopes = [e.envelope | {"id": None} for _, _, e in store.rows]
    assert envelopes[0].pop("traceparent") == TRACEPARENT
    assert envelopes[0] == envelopes[1]
    assert producer.sent.get("dlq", []) == []


async def test_invalid_binary_records_are_dead_lettered_with_their_bytes_and_reason() -> None:
    store, producer = FakeEventStore(), FakeProducer()
    handler = IntakeHandler(EventRecorder(store, IDENTITIES), producer, "dlq")
    no_type = [(k, v) for k, v in binary_headers(touchpoint()) if k != "ce_type"]
    bad_data = touchpoint(sentiment=5)
    not_json = [*binary_headers(touchpoint()), ("content-type", b"text/plain")]
    bad_header = [(k, b"\xff" if k == "ce_source" else v) for k, v in binary_headers(touchpoint())]
    values = [b'{"customer_id": "c-1"}', orjson.dumps(bad_data["data"]), b"hello", b"{}"]

    headers = [no_type, binary_headers(bad_data), not_json, bad_header]

    await handler.handle([record(i, value, h) for i, (value, h) in enumerate(zip(values, headers, strict=True))])

    letters = producer.sent["dlq"]
    assert [r.value for r in letters] == values and store.rows == []
    assert [list(r.headers[: len(h)]) for r, h in zip(letters, headers, strict=True)] == headers
    reasons = [dict(r.headers)[topics.DLQ_REASON] for r in letters]
    assert reasons == [b"unknown_type", b"validation_failed", b"unsupported_media_type", b"not_utf8"]
    details = [dict(r.headers)[topics.DLQ_DETAIL] for r in letters]
    assert details[0].startswith(b"type:") and b"data.sentiment" in details[1]
    assert details[2].startswith(b"datacontenttype:") and details[3].startswith(b"source:")


async def test_a_dead_lettered_binary_record_is_logged_with_its_trace() -> None:
    handler = IntakeHandler(EventRecorder(FakeEventStore(), IDENTITIES), FakeProducer(), "dlq")
    bad = touchpoint(sentiment=5)

    with structlog.testing.capture_logs() as logged:
        await handler.handle([record(0, orjson.dumps(bad["data"]), binary_headers(bad, traceparent=TRACEPARENT))])

    dead = [entry for entry in logged if entry["event"] == "intake.dead_lettered"]
    assert [entry["trace_id"] for entry in dead] == [TRACEPARENT[3:35]]
