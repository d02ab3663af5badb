"""The customer brief served for real (uvicorn, in a thread) over the demo data, driven by Debian's chromium.

The projection's app runs with a fake view reader and its real view hub; identity lookups go to the experience
service's app over an in-memory store. `change(fn)` runs `fn` on the server's event loop, as the projection's
consumer would write a view and announce it. Chromium comes from `make browser` (apt-get); without it these tests
skip, naming the reason. Playwright never downloads a browser: it launches /usr/bin/chromium.
"""

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Page

from contracts.auth import ApiKey, Scope, describe, new_key, parse_keys
from contracts.limits import RateLimiter
from services.cli.embedded import free_port
from services.experience.entrypoints.http import IdentityLookup, Limits, create_api
from services.experience.handlers.record_events import EventRecorder
from services.projection.entrypoints.auth import Gatekeeper
from services.projection.entrypoints.brief import BriefConfig, IdentityClient, SessionStore
from services.projection.entrypoints.http import create_http_app
from services.projection.entrypoints.live import ViewHub
from tests.browser.helpers import csp_refusals, watch_console
from tests.unit.experience.fakes import IDENTITIES, FakeEventStore
from tests.unit.projection.brief_demo import ANA, ANA_CARD, demo_reader
from tests.unit.projection.fakes import FakeViewReader

CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class BriefServer:
    url: str
    reader: FakeViewReader
    hub: ViewHub
    everything: str  # a key with every scope
    views_only: str  # a key with views:read alone
    loop: asyncio.AbstractEventLoop
    sessions: SessionStore
    writer: ApiKey  # events:write alone: sign-in refuses it, so a test opens its session directly

    def open_session(self, key: ApiKey) -> str:
        """A session for `key` as if it had signed in (on the server's loop); its cookie's value."""
        tokens: list[str] = []
        self.change(lambda: tokens.append(self.sessions.open(key, "never-shown").token))
        return tokens[0]

    def change(self, fn: Callable[[], Any]) -> None:
        """Run `fn` on the server's loop and wait for it: the reader and hub are not shared across threads."""

        async def run() -> None:
            fn()

        asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)


def _experience() -> FastAPI:
    store = FakeEventStore()
    store.links[IDENTITIES.key_of("loyalty_card", ANA_CARD)] = ANA  # as a cx.identity.linked.v1 leaves it
    return create_api(EventRecorder(store, IDENTITIES), store, Limits(), identities=IdentityLookup(store, IDENTITIES))


@pytest.fixture(scope="session")
def brief_server() -> Iterator[BriefServer]:
    everything, views_only = new_key(), new_key()
    keys = ",".join([describe("clerk", everything, list(Scope)), describe("trainee", views_only, [Scope.VIEWS_READ]),
                     describe("till", new_key(), [Scope.EVENTS_WRITE])])  # fmt: skip
    reader, hub, loops = demo_reader(), ViewHub(), []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loops.append(asyncio.get_running_loop())
        yield

    identities = IdentityClient("http://experience", transport=httpx.ASGITransport(app=_experience()))
    brief = BriefConfig(SessionStore(idle_s=600), identities, secure_cookie=True)
    writer = next(key for key in parse_keys(keys) if key.name == "till")
    app = create_http_app(reader, hub, Gatekeeper(parse_keys(keys), RateLimiter(1000, 1000)), brief=brief,
                          lifespan=lifespan)  # fmt: skip
    app.state.clock = lambda: datetime(2026, 10, 1, tzinfo=UTC)
    app.state.stream_heartbeat_s = 1.0
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="brief-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the brief's server did not start"
    yield BriefServer(f"http://127.0.0.1:{port}", reader, hub, everything, views_only, loops[0], brief.sessions, writer)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium, never a downloaded one; skip (with the reason) only where it could not be installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium (apt-get, as root)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM)}


@pytest.fixture
def console(page: Page) -> Iterator[list[str]]:
    """Every console error and CSP report the page produces; the test fails on a CSP refusal."""
    problems = watch_console(page)
    yield problems
    assert csp_refusals(problems) == []


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any], brief_server: BriefServer) -> dict[str, Any]:
    return {**browser_context_args, "base_url": brief_server.url}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Playwright's sync API keeps an event loop running in the main thread for the whole session, which stops
    every asyncio test collected after it: so the browser tests run in a pytest process of their own (`make test`
    starts one), and are skipped, saying why, in a run that also holds other tests."""
    browser_dir = Path(__file__).parent
    if all(browser_dir in Path(str(item.path)).parents for item in items):
        return
    alone = pytest.mark.skip(reason="browser tests run in a pytest process of their own: pytest tests/browser")
    for item in items:
        if browser_dir in Path(str(item.path)).parents:
            item.add_marker(alone)
