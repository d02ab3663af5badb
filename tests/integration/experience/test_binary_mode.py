"""CloudEvents binary mode from the official SDK through the whole service: to the canonical topic or the DLQ."""

from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent

from contracts import topics
from services.experience.settings import ExperienceSettings

from ...unit.experience.events import new_id, touchpoint
from .kafka_helpers import read_topic
from .test_kafka_intake import send

pytestmark = pytest.mark.integration

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def sdk_event(document: dict[str, Any], **extensions: str) -> CloudEvent:
    attributes = {k: v for k, v in document.items() if k != "data"} | extensions
    attributes["time"] = datetime.fromisoformat(attributes["time"])
    return CloudEvent(attributes, document["data"])


async def test_binary_events_over_kafka_and_http_reach_the_canonical_topic(
    client: httpx.AsyncClient, settings: ExperienceSettings
) -> None:
    customer = new_id("c")
    queued, posted = touchpoint(customer), touchpoint(customer, channel="sms")
    record = ce_kafka.to_binary_event(sdk_event(queued, traceparent=TRACEPARENT))
    await send(
        settings.kafka_bootstrap, settings.intake_topic, [(customer.encode(), record.value, [*record.headers.items()])]
    )
    await read_topic(settings.kafka_bootstrap, settings.events_topic, count=1, timeout_s=30)  # intake first
    message = ce_http.to_binary_event(sdk_event(posted))
    answer = await client.post("/v1/events", content=message.body, headers=message.headers)

    records = await read_topic(settings.kafka_bootstrap, settings.events_topic, count=2, timeout_s=30)

    assert answer.status_code == 202 and answer.json()["accepted"] == [posted["id"]]
    documents = [orjson.loads(r.value) for r in records]
    assert [d["id"] for d in documents] == [queued["id"], posted["id"]]
    assert [d["data"] for d in documents] == [queued["data"], posted["data"]]
    assert (
        documents[0]["traceparent"] == TRACEPARENT and dict(records[0].headers)["traceparent"] == TRACEPARENT.encode()
    )


async def test_an_invalid_binary_record_is_dead_lettered_as_it_came(
    settings: ExperienceSettings, client: httpx.AsyncClient
) -> None:
    event = touchpoint(sentiment=7)
    record = ce_kafka.to_binary_event(sdk_event(event))
    headers = [*record.headers.items()]
    await send(settings.kafka_bootstrap, settings.intake_topic, [(b"k-1", record.value, headers)])

    (letter,) = await read_topic(settings.kafka_bootstrap, settings.intake_dlq_topic, count=1, timeout_s=30)

    assert (letter.key, letter.value) == (b"k-1", record.value)
    assert list(letter.headers[: len(headers)]) == headers
    found = dict(letter.headers)
    assert found[topics.DLQ_REASON] == b"validation_failed" and b"data.sentiment" in found[topics.DLQ_DETAIL]
