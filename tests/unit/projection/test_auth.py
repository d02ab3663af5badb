"""Every view route from the app's own list: 401 without a key, 403 without views:read, no personal fields
without pii:read; rate limits, stream caps and bounded inputs."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contracts.auth import Scope, describe, parse_keys
from contracts.limits import RateLimiter
from services.projection.entrypoints.auth import OPEN_ROUTES, Gatekeeper, Reader, api_routes, check_routes
from services.projection.entrypoints.http import create_http_app
from services.projection.entrypoints.live import ViewHub
from tests.unit.projection.factories import event
from tests.unit.projection.fakes import FakeViewReader

SECRET = "SECRET"  # every personal value seeded below holds it; no answer without pii:read may
KEYS = {
    "full": ("rk_full_key_for_tests_only_0000000000000", [Scope.VIEWS_READ, Scope.PII_READ]),
    "plain": ("rk_plain_key_for_tests_only_000000000000", [Scope.VIEWS_READ]),
    "writer": ("rk_writer_key_for_tests_only_00000000000", [Scope.EVENTS_WRITE, Scope.PII_READ, Scope.ADMIN]),
}
PATH_VALUES = {"customer_id": "c-1", "account_id": "a-1"}
# field and preference names whose values are personal, the free-form extra among them
PERSONAL_NAMES = ("note", "handled_by", "attributes", "name_to_use", "identity", "avoid_topics", "favourite_table")
QUERIES = {"/v1/customers/{customer_id}/contact": {"purpose": "service"}}  # required query parameters


def configured() -> list[Any]:
    return parse_keys(",".join(describe(name, key, scopes) for name, (key, scopes) in KEYS.items()))


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name][0]}"}


def seeded_reader() -> FakeViewReader:
    reader = FakeViewReader()
    reader.fold("c-1", [
        event("c-1", 1, note=f"{SECRET} said the parcel was wet", handled_by=f"agent-{SECRET}",
              case_id="k-1", attributes={"order_number": f"{SECRET}-123", "store": "store-12"}, kind="complaint",
              sentiment=-0.7,
              outcome="unresolved"),
        event("c-1", 2, "preference", preferences={
            "name_to_use": f"Dr. {SECRET}", "language": "de", "avoid_topics": [f"{SECRET}'s divorce"],
            "favourite_table": f"{SECRET} by the window",  # a free-form extra, outside the catalogue
        }),
        event("c-1", 3, "preference", source="observed", preferences={"name_to_use": f"{SECRET}y"}),
    ])  # fmt: skip
    view = reader.views["c-1"]
    reader.accounts["a-1"] = {
        "account_id": "a-1", "version": 1, "position": 3, "updated_at": None,
        "members": [{"customer_id": "c-1", "role": "purchasing", "score": -10.0, "at_risk": True,
                     "preferences": view["preferences"]}],
        "health": {"score": -10.0, "at_risk": True, "open_issues": [], "risk_reasons": []},
        "contract_touchpoints": [],
    }  # fmt: skip
    return reader


def protected(app: FastAPI) -> list[tuple[str, str]]:
    """The API's bearer-key routes; the brief's pages take a session instead (tests/unit/projection/test_brief.py)."""
    return [
        (method, path)
        for path, route in api_routes(app.routes) if path not in OPEN_ROUTES and not path.startswith("/brief/")
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"})
    ]  # fmt: skip


class Api:
    """The app over a seeded fake reader; a stream is ended by an erasure notice once it has subscribed."""

    def __init__(self, gatekeeper: Gatekeeper) -> None:
        self.reader, self.hub = seeded_reader(), ViewHub()
        self.app = create_http_app(self.reader, self.hub, gatekeeper)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://p")

    async def call(self, method: str, template: str, headers: dict[str, str] | None = None) -> httpx.Response:
        path = template.format(**PATH_VALUES)
        ender = asyncio.create_task(self._end_streams())
        try:
            return await self.client.request(method, path, params=QUERIES.get(template), headers=headers)
        finally:
            ender.cancel()

    async def _end_streams(self) -> None:
        for _ in range(1000):  # the hub has no subscribe event to await
            if self.hub.subscribers("c-1"):
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)  # the current view goes out first
        self.hub.publish("c-1", "erased")


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    api = Api(Gatekeeper(configured()))
    async with api.client:
        yield api


async def test_every_route_not_open_on_purpose_needs_a_key_with_views_read(api: Api) -> None:
    routes = protected(api.app)
    assert {path for _, path in routes} >= {
        "/v1/customers/{customer_id}", "/v1/customers/{customer_id}/timeline", "/v1/customers/{customer_id}/contact",
        "/v1/customers/{customer_id}/stream", "/v1/accounts/{account_id}",
    }  # fmt: skip
    for method, template in routes:
        for headers in (None, {"Authorization": "Bearer rk_unknown"}, {"Authorization": KEYS["full"][0]}):
            response = await api.call(method, template, headers)
            assert response.status_code == 401, (template, headers)
            assert response.headers["www-authenticate"].startswith("Bearer")
        response = await api.call(method, template, bearer("writer"))
        assert response.status_code == 403, template
        assert "views:read" in response.json()["detail"]
        assert (await api.call(method, template, bearer("full"))).status_code == 200, template


async def test_no_route_answers_a_personal_field_without_pii_read(api: Api) -> None:
    for method, template in protected(api.app):
        response = await api.call(method, template, bearer("plain"))
        assert response.status_code == 200, template
        assert SECRET not in response.text, template
        for field in PERSONAL_NAMES:
            assert f'"{field}"' not in response.text, (template, field)


async def test_pii_read_sees_notes_handlers_and_the_name_to_use(api: Api) -> None:
    seen = {
        template: (await api.call(method, template, bearer("full"))).text for method, template in protected(api.app)
    }
    assert f"agent-{SECRET}" in seen["/v1/customers/{customer_id}/timeline"]
    assert f"Dr. {SECRET}" in seen["/v1/customers/{customer_id}"]
    assert f"{SECRET}y" in seen["/v1/customers/{customer_id}"]  # the observed fallback
    assert f"Dr. {SECRET}" in seen["/v1/customers/{customer_id}/contact"]
    assert f"Dr. {SECRET}" in seen["/v1/accounts/{account_id}"]
    assert f"Dr. {SECRET}" in seen["/v1/customers/{customer_id}/stream"]
    assert f"{SECRET} by the window" in seen["/v1/customers/{customer_id}"]  # extras too


async def test_what_is_left_without_pii_read_is_still_the_view(api: Api) -> None:
    body = (await api.call("GET", "/v1/customers/{customer_id}", bearer("plain"))).json()
    assert set(body["preferences"]) == {"language", "channel"}  # the channel observed; extras and personal ones gone
    assert body["experience"]["open_issues"][0]["case_id"] == "k-1"
    page = (await api.call("GET", "/v1/customers/{customer_id}/timeline", bearer("plain"))).json()
    assert page["items"][0]["kind"] == "complaint" and page["items"][0]["sentiment"] == -0.7


async def test_a_timeline_entry_shows_attributes_only_with_pii_read_and_its_case_id_to_both(api: Api) -> None:
    full = (await api.call("GET", "/v1/customers/{customer_id}/timeline", bearer("full"))).json()["items"][0]
    plain = (await api.call("GET", "/v1/customers/{customer_id}/timeline", bearer("plain"))).json()["items"][0]

    assert full["attributes"] == {"order_number": f"{SECRET}-123", "store": "store-12"}
    assert (full["note"], full["handled_by"]) == (f"{SECRET} said the parcel was wet", f"agent-{SECRET}")
    assert not {"attributes", "note", "handled_by"} & set(plain)
    assert full["case_id"] == plain["case_id"] == "k-1"


async def test_probes_and_metrics_are_open(api: Api) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await api.client.get(path)).status_code == 200, path


def test_an_app_with_an_unguarded_route_is_refused() -> None:
    app = create_http_app(FakeViewReader())

    @app.get("/v1/secrets/{customer_id}")
    async def leak(customer_id: str) -> dict[str, str]:
        return {"customer_id": customer_id}

    with pytest.raises(RuntimeError, match="/v1/secrets"):
        check_routes(app)


async def test_a_key_over_its_rate_gets_429_with_retry_after() -> None:
    now = [100.0]
    api = Api(Gatekeeper(configured(), RateLimiter(rate=1.0, burst=2), clock=lambda: now[0]))
    async with api.client:
        codes = [(await api.call("GET", "/v1/customers/{customer_id}", bearer("plain"))).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        refused = await api.call("GET", "/v1/customers/{customer_id}", bearer("plain"))
        assert refused.headers["retry-after"] == "1"
        assert (await api.call("GET", "/v1/customers/{customer_id}", bearer("full"))).status_code == 200  # per key
        now[0] += 1.0
        assert (await api.call("GET", "/v1/customers/{customer_id}", bearer("plain"))).status_code == 200


async def test_streams_per_key_are_capped() -> None:
    gatekeeper = Gatekeeper(configured(), max_streams=1)
    api = Api(gatekeeper)
    async with api.client:
        plain = Reader("plain", frozenset({Scope.VIEWS_READ}))
        gatekeeper.open_stream(plain)  # one already open
        refused = await api.call("GET", "/v1/customers/{customer_id}/stream", bearer("plain"))
        assert refused.status_code == 429 and refused.headers["retry-after"]
        assert (await api.call("GET", "/v1/customers/{customer_id}/stream", bearer("full"))).status_code == 200
        assert gatekeeper.streams(Reader("full", frozenset())) == 0  # released when the stream ended
        gatekeeper.close_stream(plain)
        assert (await api.call("GET", "/v1/customers/{customer_id}/stream", bearer("plain"))).status_code == 200


async def abandon_stream(app: FastAPI, key: str, spec_version: str) -> int:
    """Open a stream and be gone before its first byte (the connection dropped); the status the app answered."""
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": spec_version}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": "/v1/customers/c-1/stream", "raw_path": b"/v1/customers/c-1/stream",
        "query_string": b"", "root_path": "", "server": ("p", 80), "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"p"), (b"authorization", bearer(key)["Authorization"].encode())],
    }  # fmt: skip
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
            if message["status"] == 200:
                raise OSError("connection reset by peer")

    with contextlib.suppress(Exception):
        await app(scope, receive, send)
    return statuses[0]


@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])  # Starlette streams differently from ASGI 2.4 on
async def test_streams_abandoned_before_they_start_give_their_slot_back(spec_version: str) -> None:
    gatekeeper, hub = Gatekeeper(configured(), max_streams=2), ViewHub()
    app = create_http_app(seeded_reader(), hub, gatekeeper)
    assert [await abandon_stream(app, "plain", spec_version) for _ in range(5)] == [200] * 5
    assert gatekeeper.streams(Reader("plain", frozenset())) == 0
    assert hub.subscribers("c-1") == 0


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/customers/" + "c" * 129, None),
        ("/v1/accounts/" + "a" * 129, None),
        ("/v1/customers/c-1/timeline", {"cursor": "x" * 201}),
        ("/v1/customers/c-1/timeline", {"limit": 201}),
        ("/v1/customers/c-1/timeline", {"kind": "gossip"}),
        ("/v1/customers/c-1/contact", {"purpose": "x" * 33}),
        ("/v1/customers/c-1/contact", {"purpose": "market ing"}),
        ("/v1/customers/c-1", {"min_position": 2**63}),
    ],
)
async def test_oversized_or_malformed_inputs_are_refused(api: Api, path: str, params: dict[str, Any] | None) -> None:
    response = await api.client.get(path, params=params, headers=bearer("full"))
    assert response.status_code == 422


async def test_without_configured_keys_the_api_is_open_with_every_scope() -> None:
    api = Api(Gatekeeper([]))
    async with api.client:
        response = await api.call("GET", "/v1/customers/{customer_id}/timeline")
        assert response.status_code == 200 and SECRET in response.text
