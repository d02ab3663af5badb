"""What an operator sees: Prometheus series per app (counts by type and reason, never a customer id), one JSON
log line per accepted batch and per refusal, and a W3C traceparent carried from intake to cx.events.v1."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from contracts import canonical, parse_event
from services.common.tracing import trace_id, valid_traceparent
from services.experience.entrypoints.http import Limits, create_api
from services.experience.handlers.intake import IntakeHandler, IntakeRecord
from services.experience.handlers.record_events import EventRecorder
from services.experience.handlers.relay import EventRelay, to_record

from .events import new_id, preference, touchpoint
from .fakes import IDENTITIES, FakeEventStore, FakeProducer
from .http_client import BATCH, client_of, recording_api

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
OTHER_TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def recorder(store: FakeEventStore) -> EventRecorder:
    return EventRecorder(store, IDENTITIES)


@pytest.fixture
async def client(store: FakeEventStore, recorder: EventRecorder) -> AsyncIterator[httpx.AsyncClient]:
    app = create_api(recorder, store, Limits(max_body_bytes=4096, max_batch_events=3), relay_name="relay")
    async with client_of(app) as http:
        yield http


async def samples(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = (await client.get("/metrics")).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_counters_move_by_type_and_reason_and_never_name_a_customer(
    client: httpx.AsyncClient, store: FakeEventStore
) -> None:
    customer = new_id("c")
    batch = [touchpoint(customer), touchpoint(customer), preference(customer)]
    await client.post("/v1/events", content=orjson.dumps(batch), headers=BATCH)
    await client.post("/v1/events", json=batch[0])  # a duplicate
    await client.post("/v1/events", content=orjson.dumps([touchpoint(sentiment=5), {"type": "x"}]), headers=BATCH)
    await client.post("/v1/events", content=b"x" * 5000, headers=BATCH)
    await client.delete(f"/v1/customers/{customer}")
    store.checkpoints["relay"] = 2

    found = await samples(client)
    text = (await client.get("/metrics")).text

    assert found[("rapport_events_accepted_total", (("type", "cx.touchpoint.recorded.v1"),))] == 2
    assert found[("rapport_events_accepted_total", (("type", "cx.preference.stated.v1"),))] == 1
    assert found[("rapport_events_accepted_total", (("type", "cx.customer.erased.v1"),))] == 1
    assert found[("rapport_events_duplicate_total", ())] == 1
    assert found[("rapport_events_rejected_total", (("reason", "validation_failed"),))] == 1
    assert found[("rapport_events_rejected_total", (("reason", "unknown_type"),))] == 1
    assert found[("rapport_events_rejected_total", (("reason", "too_large"),))] == 1
    assert found[("rapport_relay_backlog", ())] == 4 - 2
    assert found[("rapport_append_batch_seconds_count", ())] == 3
    assert found[("rapport_http_requests_total", (("route", "/v1/customers/{customer_id}"), ("status", "202")))] == 1
    assert found[("rapport_http_requests_total", (("route", "/v1/events"), ("status", "413")))] == 1
    assert customer not in text


async def test_unknown_paths_share_one_label_and_each_app_has_its_own_registry(store: FakeEventStore) -> None:
    apps = [recording_api(store) for _ in range(2)]
    async with client_of(apps[0], "http://a") as first:
        await first.get(f"/{new_id('probe')}")
        await first.post("/v1/events", json=touchpoint())
        first_text = (await first.get("/metrics")).text
    async with client_of(apps[1], "http://b") as second:
        second_text = (await second.get("/metrics")).text

    assert 'rapport_http_requests_total{route="unmatched",status="404"} 1.0' in first_text
    assert 'rapport_events_accepted_total{type="cx.touchpoint.recorded.v1"} 1.0' in first_text
    assert "rapport_events_accepted_total{" not in second_text


async def test_one_log_line_per_accepted_batch_with_ids_position_and_trace(client: httpx.AsyncClient) -> None:
    batch = [touchpoint(note="private words"), touchpoint()]

    with capture_logs() as logs:
        await client.post("/v1/events", content=orjson.dumps(batch), headers={**BATCH, "traceparent": TRACEPARENT})

    accepted = [line for line in logs if line["event"] == "events.accepted"]
    assert accepted == [
        {
            "event": "events.accepted",
            "log_level": "info",
            "count": 2,
            "duplicates": 0,
            "first_event_id": batch[0]["id"],
            "last_event_id": batch[1]["id"],
            "position": 2,
            "trace_id": trace_id(TRACEPARENT),
        }
    ]
    assert "private words" not in repr(logs)


async def test_each_refused_event_is_logged_with_its_reason_and_id_only(client: httpx.AsyncClient) -> None:
    bad = touchpoint(sentiment=7, note="private words")

    with capture_logs() as logs:
        await client.post("/v1/events", content=orjson.dumps([touchpoint(), bad]), headers=BATCH)

    rejected = [line for line in logs if line["event"] == "events.rejected"]
    assert rejected == [
        {
            "event": "events.rejected",
            "log_level": "info",
            "reason": "validation_failed",
            "index": 1,
            "event_id": bad["id"],
        }
    ]
    assert "private words" not in repr(logs)


async def test_a_traceparent_sent_over_http_is_stored_and_relayed_as_a_header(
    client: httpx.AsyncClient, store: FakeEventStore
) -> None:
    own = touchpoint()
    own["traceparent"] = OTHER_TRACEPARENT
    plain = touchpoint()
    await client.post("/v1/events", content=orjson.dumps([plain, own]), headers={**BATCH, "traceparent": TRACEPARENT})
    await client.post("/v1/events", json=touchpoint(), headers={"traceparent": "not-a-traceparent"})

    records = [to_record(e) for e in await store.read_from(0, 10)]

    headers = [dict(r.headers).get(canonical.HEADER_TRACEPARENT) for r in records]
    assert headers == [TRACEPARENT.encode(), OTHER_TRACEPARENT.encode(), None]  # the event's own one wins
    assert orjson.loads(records[0].value or b"")["traceparent"] == TRACEPARENT


async def test_intake_keeps_the_kafka_traceparent_and_counts_dead_letters(
    store: FakeEventStore, recorder: EventRecorder
) -> None:
    producer = FakeProducer()
    handler = IntakeHandler(recorder, producer, "dlq")
    good, bad = touchpoint(), touchpoint(sentiment=9)
    records = [
        IntakeRecord("cx.intake.v1", 0, 0, None, orjson.dumps(good), [("traceparent", TRACEPARENT.encode())]),
        IntakeRecord("cx.intake.v1", 0, 1, None, orjson.dumps(bad), [("traceparent", b"\xff")]),
        IntakeRecord("cx.intake.v1", 0, 2, None, b"{", []),
    ]

    with capture_logs() as logs:
        await handler.handle(records)

    assert (await store.read_from(0, 10))[0].traceparent == TRACEPARENT
    exposition = recorder.metrics.exposition().decode()
    assert 'rapport_events_dead_lettered_total{reason="validation_failed"} 1.0' in exposition
    assert 'rapport_events_dead_lettered_total{reason="invalid_json"} 1.0' in exposition
    assert 'rapport_events_rejected_total{reason="invalid_json"} 1.0' in exposition
    letters = [line for line in logs if line["event"] == "intake.dead_lettered"]
    assert [(line["reason"], line["offset"]) for line in letters] == [("validation_failed", 1), ("invalid_json", 2)]


async def test_the_relay_counts_what_it_published(store: FakeEventStore, recorder: EventRecorder) -> None:
    producer = FakeProducer()
    relay = EventRelay(store, producer, "events", metrics=recorder.metrics, poll_interval_s=0.01)
    await recorder.record([parse_event(touchpoint()), parse_event(preference())])

    task = asyncio.create_task(relay.run())
    async with asyncio.timeout(5):
        while len(producer.sent.get("events", [])) < 2:  # noqa: ASYNC110 - the fake producer has no event to await
            await asyncio.sleep(0.01)
    task.cancel()

    assert "rapport_events_relayed_total 2.0" in recorder.metrics.exposition().decode()


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (TRACEPARENT, True),
        (TRACEPARENT.upper(), True),
        (TRACEPARENT.encode(), True),
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", False),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", False),
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", False),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", False),
        (b"\xff\xfe", False),
        ("", False),
        (None, False),
    ],
)
def test_only_well_formed_traceparents_are_carried(value: str | bytes | None, valid: bool) -> None:
    assert (valid_traceparent(value) is not None) == valid
