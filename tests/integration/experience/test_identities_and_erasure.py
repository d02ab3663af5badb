"""Identities and erasure through the whole service: HTTP and Kafka intake in, PostgreSQL and cx.events.v1 out."""

import logging
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import topics
from services.experience.adapters.event_store import PostgresEventStore
from services.experience.adapters.kafka import KafkaRecordProducer
from services.experience.handlers.relay import EventRelay
from services.experience.settings import ExperienceSettings

from ...unit.experience.events import (
    email,
    identity_linked,
    identity_unlinked,
    new_id,
    personal_preference,
    preference,
    touchpoint,
    touchpoint_by,
)
from .kafka_helpers import make_topic, read_topic
from .test_kafka_intake import send
from .test_relay import running

pytestmark = pytest.mark.integration

BATCH = {"content-type": "application/cloudevents-batch+json"}


async def post(client: httpx.AsyncClient, *events: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/events", content=orjson.dumps(list(events)), headers=BATCH)


async def queue(settings: ExperienceSettings, *events: dict[str, Any]) -> None:
    await send(settings.kafka_bootstrap, settings.intake_topic, [(b"k", orjson.dumps(e), []) for e in events])


def dead_letter_reasons(records: list) -> list[str]:
    return [dict(r.headers)[topics.DLQ_REASON].decode() for r in records]


async def stored(engine: AsyncEngine, customer: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT envelope FROM events WHERE customer_id = :c ORDER BY position"), {"c": customer}
        )
        return [row[0] for row in rows]


async def test_a_touchpoint_named_by_identity_reaches_its_customer_over_http_and_kafka(
    client: httpx.AsyncClient, settings: ExperienceSettings, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # as the services run; aiokafka at DEBUG prints record bytes
    customer, address = new_id("c"), email("lucia")
    linked = await post(client, identity_linked(customer, "email", address))
    over_http = await client.post("/v1/events", json=touchpoint_by("email", address.upper()))
    unknown_http = await client.post("/v1/events", json=touchpoint_by("email", email("nobody")))
    by_kafka, unknown_kafka = touchpoint_by("email", f" {address} "), touchpoint_by("phone", "+1 555 0100")
    await queue(settings, unknown_kafka, by_kafka)

    letters = await read_topic(settings.kafka_bootstrap, settings.intake_dlq_topic, count=1, timeout_s=30)
    records = await read_topic(settings.kafka_bootstrap, settings.events_topic, count=3, timeout_s=30)

    assert linked.status_code == over_http.status_code == 202
    assert unknown_http.status_code == 422
    assert unknown_http.json()["errors"][0] | {"message": ""} == {
        "index": 0,
        "path": "data.identity",
        "reason": "unknown_identity",
        "message": "",
    }
    assert dead_letter_reasons(letters) == ["unknown_identity"] and letters[0].value == orjson.dumps(unknown_kafka)
    documents = [orjson.loads(r.value) for r in records]
    assert [d["id"] for d in documents[1:]] == [over_http.json()["accepted"][0], by_kafka["id"]]
    assert {r.key for r in records} == {customer.encode()}
    assert all(d["subject"] == d["data"]["customer_id"] == customer for d in documents)
    assert set(documents[0]["data"]["identity"]) == {"kind", "value_hash"}
    for place in (b" ".join(r.value for r in records), str(await stored(engine, customer)).encode()):
        assert address.encode() not in place and b"lucia" not in place
    assert "lucia" not in caplog.text


async def test_unlinking_makes_the_identity_unknown_again_and_keeps_the_history(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    customer, card = new_id("c"), new_id("LC")
    await post(client, identity_linked(customer, "loyalty_card", card), touchpoint_by("loyalty_card", card))

    unlinked = await client.post("/v1/events", json=identity_unlinked(customer, "loyalty_card", card))
    refused = await client.post("/v1/events", json=touchpoint_by("loyalty_card", card))

    assert unlinked.status_code == 202
    assert refused.status_code == 422 and refused.json()["errors"][0]["reason"] == "unknown_identity"
    assert [e["type"] for e in await stored(engine, customer)] == [
        "cx.identity.linked.v1",
        "cx.touchpoint.recorded.v1",
        "cx.identity.unlinked.v1",
    ]


def stated_needs(customer: str) -> dict[str, Any]:
    """Preferences that tell health, beliefs and whatever an extra holds, beside two that do not."""
    event = preference(customer)
    event["data"]["preferences"] = {
        "channel": "phone",
        "tone": "casual",
        "avoid_topics": ["her divorce"],
        "accessibility": ["wheelchair_user"],
        "favourite_team": "Betis",  # a free-form extra
    }
    return event


async def test_an_erased_customer_leaves_no_personal_data_and_is_refused_both_ways(
    client: httpx.AsyncClient,
    settings: ExperienceSettings,
    store: PostgresEventStore,
    engine: AsyncEngine,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)  # as the services run; aiokafka at DEBUG prints record bytes
    customer, phone = new_id("c"), "+34 611 222 333"
    history = [
        identity_linked(customer, "phone", phone),
        touchpoint(customer, note="lives next to the bakery", handled_by="Jordi", attributes={"locker": "B12"}),
        personal_preference(customer, "Lulu"),
        touchpoint_by("phone", phone, kind="complaint", sentiment=-0.8),
        stated_needs(customer),
    ]
    await post(client, *history)
    before = await stored(engine, customer)

    erased = await client.delete(f"/v1/customers/{customer}")
    refused_http = await client.post("/v1/events", json=touchpoint(customer))
    refused_kafka = touchpoint(customer)
    await queue(settings, refused_kafka)
    letters = await read_topic(settings.kafka_bootstrap, settings.intake_dlq_topic, count=1, timeout_s=30)

    assert erased.status_code == 202
    assert erased.json()["erasures"] == [{"customer_id": customer, "redacted_events": 4, "identities_removed": 1}]
    assert refused_http.status_code == 422
    assert refused_http.json()["errors"][0]["message"] == f"customer {customer!r} was erased"
    assert dead_letter_reasons(letters) == ["customer_erased"]
    after = await stored(engine, customer)
    facts = ("id", "type", "time", "subject")
    assert [{k: e[k] for k in facts} for e in after[:-1]] == [{k: e[k] for k in facts} for e in before]
    assert [e["data"].get("kind") for e in after[1:4:2]] == ["purchase", "complaint"]
    assert after[3]["data"]["sentiment"] == -0.8
    assert after[4]["data"]["preferences"] == {"channel": "phone", "tone": "casual"}  # how, not who or why
    personal = ("bakery", "Jordi", "B12", "Lulu", "name_to_use", "value_hash", "611 222 333", "34611222333",
                "avoid_topics", "divorce", "accessibility", "wheelchair", "favourite_team", "Betis")  # fmt: skip
    assert not [word for word in personal if word in str(after)]

    # A broker that lost cx.events.v1 is refilled from the store: only the redacted events go out again.
    refilled = await make_topic(settings.kafka_bootstrap, new_id("events"))
    producer = KafkaRecordProducer(settings.kafka_bootstrap, idempotence=False)
    await producer.start()
    try:
        async with running(EventRelay(store, producer, refilled, name=refilled, poll_interval_s=0.02)):
            records = await read_topic(settings.kafka_bootstrap, refilled, count=len(after), timeout_s=30)
    finally:
        await producer.stop()
    values = b" ".join(r.value for r in records)
    assert [orjson.loads(r.value).get("redacted", False) for r in records].count(True) == 4
    assert not [word for word in personal if word.encode() in values]
    output = capsys.readouterr()
    assert not [word for word in personal if word in output.out + output.err + caplog.text]
