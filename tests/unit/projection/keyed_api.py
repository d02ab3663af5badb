"""The projection's API over a reader seeded with personal values, and the keys to call it with, for the tests of
who may see what and how much."""

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from contracts.auth import Scope, describe, parse_keys
from services.projection.entrypoints.auth import OPEN_ROUTES, Gatekeeper, api_routes
from services.projection.entrypoints.http import create_http_app
from services.projection.entrypoints.live import ViewHub
from tests.unit.projection.factories import event
from tests.unit.projection.fake_view_reader import FakeViewReader

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
    """The API's bearer-key routes; the brief's pages take a session instead (see test_brief_sessions.py)."""
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
