"""Identities and erasure as an upstream system sees them over HTTP, over an in-memory store."""

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from services.experience.entrypoints.erasures import erasure_event_id

from .events import email, every_type, identity_linked, new_id, touchpoint, touchpoint_by
from .fakes import FakeEventStore
from .http_client import BATCH, client_of, recording_api


@pytest.fixture
async def client(store: FakeEventStore) -> AsyncIterator[httpx.AsyncClient]:
    app = recording_api(store)
    async with client_of(app) as http:
        yield http


async def post(client: httpx.AsyncClient, *events: dict) -> httpx.Response:
    return await client.post("/v1/events", content=orjson.dumps(list(events)), headers=BATCH)


async def test_all_seven_types_are_accepted_and_the_erasure_confirmed(client: httpx.AsyncClient) -> None:
    customer = new_id("c")
    events = every_type(customer)

    answer = await post(client, *events)

    assert answer.status_code == 202
    assert answer.json() == {
        "accepted": [e["id"] for e in events],
        "duplicates": [],
        "position": 7,
        "positions": {customer: 7},
        "erasures": [{"customer_id": customer, "redacted_events": 2, "identities_removed": 0}],
    }


async def test_a_touchpoint_named_by_a_linked_identity_goes_to_that_customer(
    client: httpx.AsyncClient, store: FakeEventStore
) -> None:
    customer, address = new_id("c"), email()
    await post(client, identity_linked(customer, "email", address))

    answer = await client.post("/v1/events", json=touchpoint_by("email", f"  {address.upper()}"))

    assert answer.status_code == 202
    assert [e.customer_id for _, _, e in store.rows] == [customer, customer]


async def test_an_unknown_identity_is_refused_with_its_path_and_reason(
    client: httpx.AsyncClient, store: FakeEventStore
) -> None:
    answer = await post(client, touchpoint(), touchpoint_by("loyalty_card", "LC-404"))

    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert {k: error[k] for k in ("index", "path", "reason")} == {
        "index": 1,
        "path": "data.identity",
        "reason": "unknown_identity",
    }
    assert "no customer is linked to this loyalty card" in error["message"] and "LC-404" not in error["message"]
    assert store.rows == []


async def test_a_phone_without_digits_is_a_validation_error(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/events", json=identity_linked(new_id("c"), "phone", "call reception"))

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == "data.identity.value"


async def test_delete_erases_confirms_and_later_events_are_refused(
    client: httpx.AsyncClient, store: FakeEventStore
) -> None:
    customer = new_id("c")
    await post(client, touchpoint(customer, note="prefers the back entrance"), identity_linked(customer, "crm", "42"))

    erased = await client.delete(f"/v1/customers/{customer}")
    again = await client.delete(f"/v1/customers/{customer}")
    later = await client.post("/v1/events", json=touchpoint(customer))

    assert erased.status_code == 202
    assert erased.json() == {
        "accepted": [erasure_event_id(customer)],
        "duplicates": [],
        "position": 3,
        "positions": {customer: 3},
        "erasures": [{"customer_id": customer, "redacted_events": 2, "identities_removed": 1}],
    }
    assert again.status_code == 202 and again.json()["duplicates"] == [erasure_event_id(customer)]
    assert later.status_code == 422
    assert later.json()["errors"] == [
        {
            "index": 0,
            "path": "data.customer_id",
            "message": f"customer {customer!r} was erased",
            "reason": "customer_erased",
        }
    ]
    assert "back entrance" not in str([e.envelope for _, _, e in store.rows])


async def test_delete_checks_the_customer_id(client: httpx.AsyncClient) -> None:
    answer = await client.delete("/v1/customers/-not valid")

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == "data.customer_id"
