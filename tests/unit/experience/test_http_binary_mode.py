"""`POST /v1/events` in CloudEvents binary mode, as the official SDK sends it, over an in-memory store."""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent

from .events import new_id, touchpoint
from .fakes import FakeEventStore
from .http_client import SMALL, client_of, recording_api

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
async def client(store: FakeEventStore) -> AsyncIterator[httpx.AsyncClient]:
    app = recording_api(store, SMALL)
    async with client_of(app) as http:
        yield http


def sdk_event(document: dict[str, Any], **extensions: str) -> CloudEvent:
    """`document` as the SDK's own event; the SDK insists on a datetime for `time`."""
    attributes = {k: v for k, v in document.items() if k != "data"} | extensions
    attributes["time"] = datetime.fromisoformat(attributes["time"])
    return CloudEvent(attributes, document["data"])


async def post(client: httpx.AsyncClient, message: ce_http.HTTPMessage) -> httpx.Response:
    return await client.post("/v1/events", content=message.body, headers=message.headers)


async def test_binary_and_structured_from_the_sdk_are_stored_alike(
    client: httpx.AsyncClient, store: FakeEventStore
) -> None:
    binary = touchpoint(note="Añadió flores") | {"source": "urn:test:tienda 12/éste"}  # percent-encoded as ce-source
    structured = binary | {"id": new_id()}

    answers = [
        await post(client, ce_http.to_binary_event(sdk_event(binary))),
        await post(client, ce_http.to_structured_event(sdk_event(structured))),
    ]

    assert [a.status_code for a in answers] == [202, 202]
    assert [a.json()["accepted"] for a in answers] == [[binary["id"]], [structured["id"]]]
    stored = [e.envelope | {"id": None} for _, _, e in store.rows]
    assert stored[0] == stored[1]
    assert stored[0]["source"] == binary["source"] and stored[0]["data"]["note"] == "Añadió flores"


async def test_a_binary_event_without_ce_type_is_422_naming_the_field(
    client: httpx.AsyncClient, store: FakeEventStore
) -> None:
    message = ce_http.to_binary_event(sdk_event(touchpoint()))
    headers = {k: v for k, v in message.headers.items() if k != "ce-type"}

    response = await client.post("/v1/events", content=message.body, headers=headers)

    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["index"], error["path"]) == (0, "type")
    assert store.rows == []


async def test_binary_data_is_validated_as_structured_data_is(client: httpx.AsyncClient) -> None:
    message = ce_http.to_binary_event(sdk_event(touchpoint(sentiment=3)))

    response = await post(client, message)

    assert response.status_code == 422
    assert [(e["index"], e["path"]) for e in response.json()["errors"]] == [(0, "data.sentiment")]


async def test_the_traceparent_extension_is_kept(client: httpx.AsyncClient, store: FakeEventStore) -> None:
    message = ce_http.to_binary_event(sdk_event(touchpoint(), traceparent=TRACEPARENT))

    assert (await post(client, message)).status_code == 202

    (_, _, stored) = store.rows[0]
    assert stored.envelope["traceparent"] == TRACEPARENT


@pytest.mark.parametrize(
    ("content_type", "body", "status", "path"),
    [
        ("text/plain", b"hello", 422, "datacontenttype"),
        ("application/json", b"{not json", 400, None),
        ("application/json", b"", 422, "data"),
    ],
)
async def test_binary_bodies_that_are_not_json_data_say_why(
    client: httpx.AsyncClient, content_type: str, body: bytes, status: int, path: str | None
) -> None:
    headers = ce_http.to_binary_event(sdk_event(touchpoint())).headers | {"content-type": content_type}

    response = await client.post("/v1/events", content=body, headers=headers)

    assert response.status_code == status
    if path is not None:
        assert [(e["index"], e["path"]) for e in response.json()["errors"]] == [(0, path)]


async def test_a_cloudevents_content_type_is_structured_mode_whatever_the_headers(client: httpx.AsyncClient) -> None:
    event = touchpoint()
    headers = {"content-type": "application/cloudevents+json", "ce-specversion": "1.0", "ce-type": "nonsense"}

    response = await client.post("/v1/events", content=orjson.dumps(event), headers=headers)

    assert response.status_code == 202 and response.json()["accepted"] == [event["id"]]
