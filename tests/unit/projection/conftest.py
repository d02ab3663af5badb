"""The customer brief's fixtures: its app over a fake reader and an in-memory experience service, signed out."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from contracts.auth import parse_keys
from contracts.limits import RateLimiter
from services.experience.entrypoints.http import IdentityLookup, Limits, create_api
from services.experience.handlers.record_events import EventRecorder
from services.projection.entrypoints.auth import Gatekeeper
from services.projection.entrypoints.brief import BriefConfig, IdentityClient, SessionStore
from services.projection.entrypoints.http import create_http_app
from services.projection.entrypoints.live import ViewHub
from tests.unit.experience.fakes import IDENTITIES, FakeEventStore
from tests.unit.projection.brief_client import KEYS, Clock
from tests.unit.projection.brief_demo import ANA, ANA_CARD, demo_reader
from tests.unit.projection.fakes import FakeViewReader


@pytest.fixture
def reader() -> FakeViewReader:
    return demo_reader()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def experience() -> FakeEventStore:
    store = FakeEventStore()
    app = create_api(EventRecorder(store, IDENTITIES), store, Limits())
    card = {"kind": "loyalty_card", "value": ANA_CARD}
    link = {"specversion": "1.0", "id": "link-1", "source": "t", "type": "cx.identity.linked.v1",
            "time": "2026-09-01T00:00:00Z", "data": {"customer_id": ANA, "identity": card}}  # fmt: skip
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as http:
        assert (await http.post("/v1/events", json=[link])).status_code == 202
    return store


@pytest.fixture
def hub() -> ViewHub:
    return ViewHub()


@pytest.fixture
async def client(
    reader: FakeViewReader, clock: Clock, experience: FakeEventStore, hub: ViewHub
) -> AsyncIterator[httpx.AsyncClient]:
    experience_app = create_api(
        EventRecorder(experience, IDENTITIES), experience, Limits(), identities=IdentityLookup(experience, IDENTITIES)
    )
    identities = IdentityClient("http://experience", transport=httpx.ASGITransport(app=experience_app))
    brief = BriefConfig(SessionStore(idle_s=600, clock=clock), identities, secure_cookie=True)
    gatekeeper = Gatekeeper(parse_keys(KEYS), RateLimiter(1000, 1000))
    app = create_http_app(reader, hub, gatekeeper, brief=brief)
    app.state.clock = lambda: datetime(2026, 10, 1, tzinfo=UTC)
    app.state.stream_heartbeat_s = 0.2
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://projection") as http:
        yield http
