"""How one intake batch is split into stored events and dead letters, without a broker."""

import orjson

from contracts import topics
from services.experience.handlers.intake import IntakeHandler, IntakeRecord
from services.experience.handlers.record_events import EventRecorder

from .events import touchpoint
from .fakes import IDENTITIES, FakeEventStore, FakeProducer


def record(offset: int, value: bytes | None) -> IntakeRecord:
    return IntakeRecord("cx.intake.v1", 2, offset, b"k", value, [("traceparent", b"00-abc")])


async def test_valid_records_are_stored_and_each_bad_one_dead_lettered_with_its_reason() -> None:
    store, producer = FakeEventStore(), FakeProducer()
    handler = IntakeHandler(EventRecorder(store, IDENTITIES), producer, "dlq")
    good = touchpoint()
    bad_values = [
        b"\xff\xfe",
        b"{oops",
        b"[1]",
        orjson.dumps({**good, "type": "x"}),
        orjson.dumps(touchpoint(sentiment=7)),
    ]

    await handler.handle([record(0, orjson.dumps(good))] + [record(i + 1, v) for i, v in enumerate(bad_values)])

    assert [e.event_id for _, _, e in store.rows] == [good["id"]]
    letters = producer.sent["dlq"]
    assert [r.value for r in letters] == bad_values
    reasons = [dict(r.headers)[topics.DLQ_REASON] for r in letters]
    assert reasons == [b"not_utf8", b"invalid_json", b"not_an_object", b"unknown_type", b"validation_failed"]
    last = dict(letters[-1].headers)
    assert b"data.sentiment" in last[topics.DLQ_DETAIL]
    assert (last[topics.DLQ_TOPIC], last[topics.DLQ_PARTITION], last[topics.DLQ_OFFSET]) == (
        b"cx.intake.v1",
        b"2",
        b"5",
    )
    assert last["traceparent"] == b"00-abc" and letters[-1].key == b"k"
