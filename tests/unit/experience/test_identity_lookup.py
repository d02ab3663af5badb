"""Finding a customer by what they told us (an email, a phone): personal data, so it needs `pii:read`."""

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from contracts.auth import Scope, describe, new_key, parse_keys
from contracts.limits import RateLimiter
from services.experience.entrypoints.auth import Authenticator
from services.experience.entrypoints.http import IdentityLookup

from .events import email, erasure, identity_linked, new_id
from .fakes import IDENTITIES, FakeEventStore
from .http_client import BATCH, client_of, recording_api

PERSONAL, VIEWS_ONLY = new_key(), new_key()
KEYS = ",".join([describe("crm", PERSONAL, list(Scope)), describe("views", VIEWS_ONLY, [Scope.VIEWS_READ])])


@pytest.fixture
async def client(store: FakeEventStore) -> AsyncIterator[httpx.AsyncClient]:
    authenticator = Authenticator(parse_keys(KEYS), RateLimiter(1000, 1000))
    app = recording_api(store, authenticator=authenticator, identities=IdentityLookup(store, IDENTITIES))
    async with client_of(app) as http:
        yield http


async def lookup(client: httpx.AsyncClient, kind: str, value: str, key: str = PERSONAL) -> httpx.Response:
    return await client.post(
        "/v1/identities/lookup", json={"kind": kind, "value": value}, headers={"authorization": f"Bearer {key}"}
    )


async def link(client: httpx.AsyncClient, *events: dict) -> None:
    answer = await client.post(
        "/v1/events", content=orjson.dumps(list(events)), headers={**BATCH, "authorization": f"Bearer {PERSONAL}"}
    )
    assert answer.status_code == 202, answer.text


async def test_a_linked_email_finds_its_customer_however_it_is_typed(client: httpx.AsyncClient) -> None:
    customer, address = new_id("c"), email()
    await link(client, identity_linked(customer, "email", address))
    answer = await lookup(client, "email", f"  {address.upper()} ")
    assert answer.status_code == 200
    assert answer.json() == {"customer_id": customer}


async def test_an_unknown_or_erased_identity_is_404(client: httpx.AsyncClient) -> None:
    customer, phone = new_id("c"), "+44 20 7946 0001"
    assert (await lookup(client, "email", email())).status_code == 404
    await link(client, identity_linked(customer, "phone", phone))
    assert (await lookup(client, "phone", "+442079460001")).json() == {"customer_id": customer}
    await link(client, erasure(customer))
    assert (await lookup(client, "phone", phone)).status_code == 404


async def test_the_lookup_needs_pii_read_and_a_usable_identifier(client: httpx.AsyncClient) -> None:
    assert (await lookup(client, "email", email(), key=VIEWS_ONLY)).status_code == 403
    assert (await lookup(client, "email", email(), key="rk_unknown")).status_code == 401
    assert (await lookup(client, "phone", "no digits")).status_code == 422
    assert (await lookup(client, "Email!", "x@example.org")).status_code == 422
