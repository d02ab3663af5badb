"""Intake records that are valid events but cannot be accepted are dead-lettered with a reason; the rest is kept."""

import orjson

from contracts import topics
from services.experience.handlers.intake import IntakeHandler, IntakeRecord
from services.experience.handlers.record_events import EventRecorder

from .events import email, erasure, identity_linked, new_id, touchpoint, touchpoint_by
from .fakes import IDENTITIES, FakeEventStore, FakeProducer


def records(*events: dict) -> list[IntakeRecord]:
    return [IntakeRecord("cx.intake.v1", 0, i, None, orjson.dumps(e), []) for i, e in enumerate(events)]


def reasons(producer: FakeProducer) -> list[tuple[bytes, bytes]]:
    return [(dict(r.headers)[topics.DLQ_REASON], dict(r.headers)[topics.DLQ_OFFSET]) for r in producer.sent["dlq"]]


async def test_identities_resolve_in_order_and_erased_or_unknown_customers_are_dead_lettered() -> None:
    store, producer = FakeEventStore(), FakeProducer()
    handler = IntakeHandler(EventRecorder(store, IDENTITIES), producer, "dlq")
    customer, address = new_id("c"), email()
    batch = [
        touchpoint_by("email", address),  # before the link: unknown
        identity_linked(customer, "email", address),
        touchpoint_by("email", address),
        erasure(customer),
        touchpoint(customer),
        touchpoint_by("email", address),  # the erasure removed the link
    ]

    await handler.handle(records(*batch))

    assert [e.event_id for _, _, e in store.rows] == [batch[1]["id"], batch[2]["id"], batch[3]["id"]]
    assert reasons(producer) == [(b"unknown_identity", b"0"), (b"customer_erased", b"4"), (b"unknown_identity", b"5")]
    assert producer.sent["dlq"][0].value == orjson.dumps(batch[0])  # the original bytes, as for any dead letter


async def test_erasure_on_the_intake_topic_can_be_turned_off() -> None:
    store, producer = FakeEventStore(), FakeProducer()
    handler = IntakeHandler(EventRecorder(store, IDENTITIES), producer, "dlq", allow_erasure=False)

    await handler.handle(records(erasure(new_id("c"))))

    assert store.rows == [] and reasons(producer) == [(b"erasure_not_allowed", b"0")]
