"""Who may call what: every route of the router answers 401 without a key and 403 without its scope, erasure
needs `admin` however it arrives, keys are rate limited, and only the probes and metrics are open."""

import re
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from fastapi import APIRouter, FastAPI

from contracts.auth import Scope, describe, new_key, parse_keys
from contracts.limits import RateLimiter, TokenBucket
from services.experience.entrypoints.auth import (
    OPEN_ROUTES,
    ROUTE_SCOPES,
    Authenticator,
    check_routes,
    route_keys,
)

from .events import erasure, new_id, touchpoint
from .fakes import FakeEventStore
from .http_client import BATCH, client_of, recording_api

KEYS = {scope: new_key() for scope in Scope}
EVERYTHING = new_key()
CONFIG = ",".join(
    [
        *(describe(scope.value.replace(":", "-"), key, [scope]) for scope, key in KEYS.items()),
        describe("everything", EVERYTHING, list(Scope)),
    ]
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def build(
    store: FakeEventStore, config: str, limiter: RateLimiter | None = None, clock: Clock | None = None
) -> FastAPI:
    authenticator = Authenticator(parse_keys(config), limiter or RateLimiter(1000, 1000), clock or Clock())
    return recording_api(store, authenticator=authenticator)


@pytest.fixture
async def client(store: FakeEventStore) -> AsyncIterator[httpx.AsyncClient]:
    # per scope, a key holding every other scope: the one a route needing that scope must refuse
    lacking = {scope: new_key() for scope in Scope}
    config = ",".join(
        [CONFIG, *(describe(f"all-but-{s.name}", k, [o for o in Scope if o != s]) for s, k in lacking.items())]
    )
    app = build(store, config)
    app.state.lacking = lacking
    async with client_of(app) as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: new_id("p"), path)


async def test_every_route_of_the_router_needs_a_key_and_its_scope(client: httpx.AsyncClient) -> None:
    app: FastAPI = client.app  # type: ignore[attr-defined]
    protected = [(m, p) for m, p in route_keys(app.routes) if p not in OPEN_ROUTES]
    assert protected, "the router lists no protected route: the test would prove nothing"

    for method, path in protected:
        assert (method, path) in ROUTE_SCOPES, f"{method} {path}: give it a scope in ROUTE_SCOPES"
        url = concrete(path)
        body = orjson.dumps([touchpoint()])
        for headers in ({}, bearer("rk_not-a-configured-key"), {"authorization": f"Basic {EVERYTHING}"}):
            anonymous = await client.request(method, url, content=body, headers={**BATCH, **headers})
            assert anonymous.status_code == 401, (method, path, headers)
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
        lacking = app.state.lacking[ROUTE_SCOPES[(method, path)]]
        wrong = await client.request(method, url, content=body, headers={**BATCH, **bearer(lacking)})
        assert wrong.status_code == 403, (method, path)
        if (method, path) == ("POST", "/v1/identities/lookup"):  # takes one identity, not a batch
            body = orjson.dumps({"kind": "email", "value": "someone@example.org"})
        right = await client.request(method, url, content=body, headers={**BATCH, **bearer(EVERYTHING)})
        # the lookup finds nobody (404) or is not configured in this app (503): either way the key got through
        assert right.is_success or (path == "/v1/identities/lookup" and right.status_code in (404, 503)), (
            method,
            path,
            right.text,
        )


def test_a_route_neither_open_nor_scoped_stops_the_app_from_being_built(store: FakeEventStore) -> None:
    app = build(store, CONFIG)

    @app.get("/v1/forgotten")
    async def forgotten() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="GET /v1/forgotten"):
        check_routes(app)


def test_a_route_added_through_an_included_router_is_listed_and_needs_a_scope(store: FakeEventStore) -> None:
    # FastAPI 0.16x keeps an included router as one entry of app.routes: its routes must not escape the check
    app = build(store, CONFIG)
    router = APIRouter(prefix="/customers")

    @router.get("/{customer_id}/notes")
    async def notes(customer_id: str) -> dict[str, str]:
        return {"customer_id": customer_id}

    app.include_router(router, prefix="/v1")

    assert ("GET", "/v1/customers/{customer_id}/notes") in route_keys(app.routes)
    with pytest.raises(RuntimeError, match=re.escape("GET /v1/customers/{customer_id}/notes")):
        check_routes(app)


async def test_probes_and_metrics_are_open(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await client.get(path)).status_code == 200, path


async def test_an_erasure_in_a_batch_needs_admin_and_nothing_is_stored_without_it(
    client: httpx.AsyncClient, store: FakeEventStore
) -> None:
    customer = new_id("c")
    batch = orjson.dumps([touchpoint(customer), erasure(customer)])

    writer = await client.post("/v1/events", content=batch, headers={**BATCH, **bearer(KEYS[Scope.EVENTS_WRITE])})
    admin_only = await client.post("/v1/events", content=batch, headers={**BATCH, **bearer(KEYS[Scope.ADMIN])})
    stored_before = list(store.rows)
    both = await client.post("/v1/events", content=batch, headers={**BATCH, **bearer(EVERYTHING)})

    assert writer.status_code == 403 and "admin" in writer.json()["errors"][0]["message"]
    assert admin_only.status_code == 403  # posting events needs events:write, whatever else the key holds
    assert stored_before == []
    assert both.status_code == 202 and both.json()["erasures"][0]["customer_id"] == customer


async def test_delete_needs_admin_and_its_path_is_bounded(client: httpx.AsyncClient) -> None:
    customer = new_id("c")

    writer = await client.delete(f"/v1/customers/{customer}", headers=bearer(KEYS[Scope.EVENTS_WRITE]))
    admin = await client.delete(f"/v1/customers/{customer}", headers=bearer(KEYS[Scope.ADMIN]))
    too_long = await client.delete(f"/v1/customers/{'c' * 129}", headers=bearer(KEYS[Scope.ADMIN]))
    long_reason = await client.delete(f"/v1/customers/{customer}?reason={'r' * 300}", headers=bearer(EVERYTHING))

    assert (writer.status_code, admin.status_code) == (403, 202)
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["path"] == "path.customer_id"
    assert long_reason.status_code == 422


async def test_a_key_over_its_rate_gets_429_with_retry_after_and_others_go_on(store: FakeEventStore) -> None:
    clock = Clock()
    app = build(store, CONFIG, RateLimiter(rate=0.5, burst=2), clock)
    async with client_of(app) as client:
        writer = bearer(KEYS[Scope.EVENTS_WRITE])
        answers = [(await client.post("/v1/events", json=touchpoint(), headers=writer)) for _ in range(3)]
        other = await client.post("/v1/events", json=touchpoint(), headers=bearer(EVERYTHING))
        clock.now += 2.0
        later = await client.post("/v1/events", json=touchpoint(), headers=writer)

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].headers["retry-after"] == "2"  # one token at 0.5/s: two seconds, a whole number
    assert other.status_code == 202
    assert later.status_code == 202


async def test_without_configured_keys_development_lets_everyone_in(store: FakeEventStore) -> None:
    app = recording_api(store)
    async with client_of(app) as client:
        answer = await client.delete(f"/v1/customers/{new_id('c')}")

    assert answer.status_code == 202


def test_a_token_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = TokenBucket(rate=10.0, burst=3, updated=0.0)

    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.1)
    assert bucket.take(0.1) == 0.0
    assert [bucket.take(100.0) for _ in range(4)][-1] > 0  # a long pause refills only up to the burst


def test_retry_after_is_a_whole_number_of_seconds_never_zero() -> None:
    limiter = RateLimiter(rate=1000.0, burst=1)

    assert limiter.wait_before("k", 0.0) == 0
    assert limiter.wait_before("k", 0.0) == 1
