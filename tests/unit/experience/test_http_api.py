"""`POST /v1/events` as an upstream system sees it, over an in-memory store."""

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from .events import preference, touchpoint
from .fakes import FakeEventStore
from .http_client import BATCH, SINGLE, SMALL, client_of, recording_api


@pytest.fixture
async def client(store: FakeEventStore) -> AsyncIterator[httpx.AsyncClient]:
    app = recording_api(store, SMALL)
    async with client_of(app) as http:
        yield http


async def test_one_event_is_accepted_with_its_position(client: httpx.AsyncClient) -> None:
    event = touchpoint()

    response = await client.post("/v1/events", content=orjson.dumps(event), headers=SINGLE)

    assert response.status_code == 202
    customer = event["data"]["customer_id"]
    assert response.json() == {"accepted": [event["id"]], "duplicates": [], "position": 1, "positions": {customer: 1}}


async def test_plain_json_and_a_resent_event_is_a_duplicate(client: httpx.AsyncClient) -> None:
    event = preference()
    await client.post("/v1/events", json=event)

    response = await client.post("/v1/events", json=event)

    assert response.status_code == 202
    customer = event["data"]["customer_id"]
    assert response.json() == {"accepted": [], "duplicates": [event["id"]], "position": 1, "positions": {customer: 1}}


async def test_a_batch_is_accepted_whole(client: httpx.AsyncClient) -> None:
    events = [touchpoint(), preference(), touchpoint()]

    response = await client.post("/v1/events", content=orjson.dumps(events), headers=BATCH)

    assert response.status_code == 202
    assert response.json()["accepted"] == [e["id"] for e in events]
    assert response.json()["position"] == 3


async def test_an_invalid_event_refuses_the_whole_batch_naming_each_field(
    client: httpx.AsyncClient, store: FakeEventStore
) -> None:
    events = [touchpoint(), touchpoint(sentiment=3), {"type": "cx.nope.v1"}]

    response = await client.post("/v1/events", content=orjson.dumps(events), headers=BATCH)

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {"index": 1, "path": "data.sentiment"} == {k: errors[0][k] for k in ("index", "path")}
    assert "less than or equal to 1" in errors[0]["message"]
    assert errors[1]["index"] == 2 and errors[1]["path"] == "type"
    assert store.rows == []


async def test_a_single_invalid_event_is_index_zero(client: httpx.AsyncClient) -> None:
    event = touchpoint()
    del event["data"]["channel"]

    response = await client.post("/v1/events", json=event)

    assert response.status_code == 422
    assert response.json()["errors"] == [{"index": 0, "path": "data.channel", "message": "Field required"}]


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{not json", SINGLE, 400),
        (b'{"id": "\xff\xfe"}', SINGLE, 400),
        (b"{}", {"content-type": "text/plain"}, 415),
        (b"{}", {}, 415),
        (orjson.dumps({"a": "b"}), BATCH, 400),
        (b"[]", BATCH, 400),
        (orjson.dumps([touchpoint() for _ in range(4)]), BATCH, 413),
        (orjson.dumps(touchpoint(note="x" * 5000)), SINGLE, 413),
    ],
    ids=["bad-json", "not-utf8", "text-plain", "no-type", "batch-not-array", "empty-batch", "too-many", "too-big"],
)
async def test_refused_requests_say_why(client: httpx.AsyncClient, body: bytes, headers: dict, status: int) -> None:
    response = await client.post("/v1/events", content=body, headers=headers)

    assert response.status_code == status
    assert response.json()["errors"][0]["message"]


async def test_a_streamed_body_over_the_limit_is_refused_without_content_length(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    response = await client.post("/v1/events", content=chunks(), headers=SINGLE)

    assert response.status_code == 413


async def test_store_outage_is_503_and_readiness_fails(client: httpx.AsyncClient, store: FakeEventStore) -> None:
    store.available = False

    response = await client.post("/v1/events", json=touchpoint())

    assert response.status_code == 503
    assert (await client.get("/readyz")).status_code == 503
    assert (await client.get("/healthz")).status_code == 200


async def test_a_batch_answers_each_customers_own_position_to_read_their_view_with(client: httpx.AsyncClient) -> None:
    ana, zoe = touchpoint(), touchpoint()
    events = [ana, zoe, touchpoint(ana["data"]["customer_id"])]

    response = await client.post("/v1/events", content=orjson.dumps(events), headers=BATCH)

    assert response.json()["position"] == 3
    assert response.json()["positions"] == {ana["data"]["customer_id"]: 3, zoe["data"]["customer_id"]: 2}
