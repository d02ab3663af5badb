"""The whole experience service as `create_app` builds it, against real PostgreSQL and the real broker."""

import httpx
import orjson
import pytest

from contracts import canonical
from services.experience.settings import ExperienceSettings

from ...unit.experience.events import new_id, preference, touchpoint
from .kafka_helpers import read_topic
from .test_kafka_intake import send

pytestmark = pytest.mark.integration

BATCH = {"content-type": "application/cloudevents-batch+json"}


async def test_events_posted_or_sent_to_intake_reach_the_canonical_topic(
    client: httpx.AsyncClient, settings: ExperienceSettings
) -> None:
    customer = new_id("c")
    posted = [touchpoint(customer), preference(customer)]
    answer = await client.post("/v1/events", content=orjson.dumps(posted), headers=BATCH)
    queued = touchpoint(customer)
    await send(settings.kafka_bootstrap, settings.intake_topic, [(customer.encode(), orjson.dumps(queued), [])])

    records = await read_topic(settings.kafka_bootstrap, settings.events_topic, count=3, timeout_s=30)

    assert answer.status_code == 202
    assert answer.json() == {
        "accepted": [e["id"] for e in posted],
        "duplicates": [],
        "position": 2,
        "positions": {customer: 2},
    }
    documents = [orjson.loads(r.value) for r in records]
    assert [d["id"] for d in documents] == [posted[0]["id"], posted[1]["id"], queued["id"]]
    assert [d[canonical.SEQUENCE] for d in documents] == [1, 2, 3]
    assert {r.key for r in records} == {customer.encode()}


async def test_a_resent_event_is_a_duplicate_at_its_first_position(client: httpx.AsyncClient) -> None:
    first, second = touchpoint(), touchpoint()
    await client.post("/v1/events", json=first)
    await client.post("/v1/events", json=second)

    again = await client.post("/v1/events", content=orjson.dumps([first, second]), headers=BATCH)

    assert again.status_code == 202
    assert again.json() == {
        "accepted": [], "duplicates": [first["id"], second["id"]], "position": 2,
        "positions": {first["data"]["customer_id"]: 1, second["data"]["customer_id"]: 2},
    }  # fmt: skip


async def test_a_batch_with_one_bad_event_stores_nothing(client: httpx.AsyncClient) -> None:
    good = touchpoint()
    bad = touchpoint(rating={"scale": "nps", "value": 11})

    refused = await client.post("/v1/events", content=orjson.dumps([good, bad]), headers=BATCH)
    accepted = await client.post("/v1/events", json=good)

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["index"] == 1
    assert refused.json()["errors"][0]["path"].startswith("data.rating")
    assert accepted.json()["accepted"] == [good["id"]]


async def test_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    assert (await client.get("/readyz")).json() == {
        "status": "ready",
        "database": "ok",
        "migrations": "ok",
        "broker": "ok",
    }


async def test_a_traceparent_sent_over_http_arrives_as_a_header_on_the_canonical_topic(
    client: httpx.AsyncClient, settings: ExperienceSettings
) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    event = touchpoint()

    answer = await client.post("/v1/events", json=event, headers={"traceparent": traceparent})
    (record,) = await read_topic(settings.kafka_bootstrap, settings.events_topic, count=1, timeout_s=30)

    assert answer.status_code == 202
    assert dict(record.headers)[canonical.HEADER_TRACEPARENT] == traceparent.encode()
    assert orjson.loads(record.value)["traceparent"] == traceparent


async def test_metrics_show_what_the_service_did(client: httpx.AsyncClient, settings: ExperienceSettings) -> None:
    await client.post("/v1/events", content=orjson.dumps([touchpoint(), preference()]), headers=BATCH)
    await read_topic(settings.kafka_bootstrap, settings.events_topic, count=2, timeout_s=30)

    text = (await client.get("/metrics")).text

    assert 'rapport_events_accepted_total{type="cx.touchpoint.recorded.v1"} 1.0' in text
    assert "rapport_append_batch_seconds_count 1.0" in text
    assert 'rapport_http_requests_total{route="/v1/events",status="202"} 1.0' in text
    assert "rapport_relay_backlog " in text
