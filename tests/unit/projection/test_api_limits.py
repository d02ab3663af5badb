"""What keeps one caller from wearing the projection's API out: rate limits per key, capped streams that give their
slot back however they end, and bounded inputs."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from contracts.auth import Scope
from contracts.limits import RateLimiter
from services.projection.entrypoints.auth import Gatekeeper, Reader
from services.projection.entrypoints.http import create_http_app
from services.projection.entrypoints.live import ViewHub
from tests.unit.projection.keyed_api import Api, bearer, configured, seeded_reader


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    api = Api(Gatekeeper(configured()))
    async with api.client:
        yield api


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
