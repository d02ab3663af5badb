"""The customer brief over a fake reader and an in-memory experience service: sign-in, what each page tells a
frontline person, redaction, headers, identity lookup and the live fragments."""

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from contracts.auth import Scope, describe, new_key, parse_keys
from contracts.limits import RateLimiter
from services.experience.entrypoints.http import IdentityLookup, Limits, create_api
from services.experience.handlers.record_events import EventRecorder
from services.projection.entrypoints.auth import OPEN_ROUTES, Gatekeeper, api_routes
from services.projection.entrypoints.brief import BriefConfig, IdentityClient, SessionStore
from services.projection.entrypoints.http import create_http_app
from services.projection.entrypoints.live import ViewHub
from tests.unit.experience.fakes import IDENTITIES, FakeEventStore
from tests.unit.projection.brief_demo import ANA, ANA_CARD, ZOE, demo_reader
from tests.unit.projection.factories import event
from tests.unit.projection.fakes import FakeViewReader

EVERYTHING, VIEWS_ONLY, WRITER = new_key(), new_key(), new_key()
KEYS = ",".join([
    describe("clerk-all", EVERYTHING, list(Scope)), describe("clerk-views", VIEWS_ONLY, [Scope.VIEWS_READ]),
    describe("pos", WRITER, [Scope.EVENTS_WRITE]),
])  # fmt: skip
HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post("/brief/sign-in", data={"api_key": key})


async def brief_of(client: httpx.AsyncClient, customer_id: str, **params: Any) -> str:
    response = await client.get(f"/brief/customers/{customer_id}", params=params)
    assert response.status_code == 200, response.text
    return response.text


async def test_without_a_session_every_page_leads_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in (f"/brief/customers/{ANA}", "/brief/accounts/acct-hollis-plastics", "/brief/find?customer_id=x"):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/brief/", path
    page = await client.get("/brief/")
    assert 'name="api_key"' in page.text and 'type="password"' in page.text
    assert (await client.get(f"/brief/customers/{ANA}/live")).status_code == 401


async def test_every_brief_route_is_open_on_purpose_or_needs_a_session(client: httpx.AsyncClient) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    brief = [(path, route) for path, route in api_routes(app.routes) if path.startswith("/brief")]
    assert len(brief) >= 7
    for path, route in brief:
        if path in OPEN_ROUTES:
            continue
        url = path.replace("{customer_id}", ANA).replace("{account_id}", "a")
        for method in route.methods - {"HEAD"}:
            answer = await client.request(method, url)
            assert answer.status_code in (303, 401), (method, path, answer.status_code)


async def test_pages_carry_a_strict_policy_and_are_never_cached(client: httpx.AsyncClient) -> None:
    await sign_in(client, EVERYTHING)
    for path in ("/brief/", f"/brief/customers/{ANA}", "/brief/static/brief.js"):
        headers = (await client.get(path)).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp, path
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
    html = await brief_of(client, ANA)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "an inline script"
    assert " style=" not in html and "<style" not in html and " on" + "click=" not in html


async def test_sign_in_gives_an_opaque_strict_cookie_and_never_echoes_the_key(client: httpx.AsyncClient) -> None:
    refused = await sign_in(client, "rk_not-a-key")
    assert refused.status_code == 401 and "not one this service knows" in refused.text
    assert (await sign_in(client, WRITER)).status_code == 403  # a key without views:read
    answer = await sign_in(client, EVERYTHING)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Secure" in cookie
    assert EVERYTHING not in cookie and "Path=/brief" in cookie
    home = await client.get("/brief/")
    assert "Signed in as clerk-all" in home.text and EVERYTHING not in home.text


async def test_sessions_end_when_idle_or_signed_out(client: httpx.AsyncClient, clock: Clock) -> None:
    await sign_in(client, EVERYTHING)
    assert (await client.get(f"/brief/customers/{ANA}")).status_code == 200
    clock.now += 601
    assert (await client.get(f"/brief/customers/{ANA}")).status_code == 303
    await sign_in(client, EVERYTHING)
    assert (await client.post("/brief/sign-out")).status_code == 303
    assert (await client.get(f"/brief/customers/{ANA}")).status_code == 303


async def test_a_cross_site_form_is_refused(client: httpx.AsyncClient) -> None:
    answer = await client.post("/brief/sign-in", data={"api_key": EVERYTHING}, headers={"origin": "https://evil"})
    assert answer.status_code == 403 and "set-cookie" not in answer.headers


async def test_ana_s_brief_says_how_to_treat_her_and_why_she_is_at_risk(client: httpx.AsyncClient) -> None:
    await sign_in(client, EVERYTHING)
    html = await brief_of(client, ANA)
    assert "<h1>Ana</h1>" in html
    for fact in ("Europe/Madrid", "18:00-20:00", "At risk", "mostly bad", "case case-5521", "Yes, may contact"):
        assert fact in html, fact
    assert 'href="#event-demo-c-ana-alvarez-9"' in html and 'id="event-demo-c-ana-alvarez-9"' in html
    assert "Family night with the kids" in html and "shift-lead-marco" in html
    assert "Details: order number ORD-88213" in html  # the complaint's attributes, beside its note and handler
    newest_first = re.findall(r'<li id="event-(demo-c-ana-alvarez-\d+)"', html)
    assert newest_first == [f"demo-c-ana-alvarez-{n}" for n in (9, 8, 7, 6, 5)]
    assert "3 good, 2 bad and 0 neutral" in html


async def test_the_timeline_filters_and_pages(client: httpx.AsyncClient, reader: FakeViewReader) -> None:
    reader.fold("c-busy", [event("c-busy", n, minutes=n, channel="web" if n % 2 else "store") for n in range(1, 31)])
    await sign_in(client, EVERYTHING)
    first = await brief_of(client, "c-busy")
    assert first.count('class="entry') == 20 and "Older touchpoints" in first
    cursor = re.search(r'href="\?cursor=([^"]+)"', first)
    assert cursor
    older = await brief_of(client, "c-busy", cursor=cursor.group(1))
    assert older.count('class="entry') == 10 and "data-live" not in older.split("<main")[1].split("timeline")[0]
    assert (await brief_of(client, "c-busy", channel="web")).count('class="entry') == 15


async def test_zoe_may_not_be_emailed(client: httpx.AsyncClient) -> None:
    await sign_in(client, EVERYTHING)
    html = await brief_of(client, ZOE)
    row = re.search(r"<tr class=\"refused\">(.*?)</tr>", html, re.S)
    assert row and "email" in row.group(1) and "No: do not contact" in row.group(1)


async def test_a_views_only_session_sees_no_personal_field(client: httpx.AsyncClient) -> None:
    await sign_in(client, VIEWS_ONLY)
    html = await brief_of(client, ANA)
    for personal in ("Family night", "shift-lead-marco", "<h1>Ana</h1>", 'case-5521"', "gluten", "ORD-88213"):
        assert personal not in html, personal
    assert "; case case-5521</p>" in html  # a case id is not personal: the timeline shows it to every reader
    assert "Hidden: your key may not see personal details" in html
    account = (await client.get("/brief/accounts/acct-hollis-plastics")).text
    assert "Dana" not in account and "large print" not in account and "discount pressure" not in account
    assert "case case-7730" in account  # the roll-up's open issues keep their case ids


async def test_a_hostile_note_is_shown_as_text(client: httpx.AsyncClient, reader: FakeViewReader) -> None:
    reader.fold("c-hostile", [event("c-hostile", 1, note=HOSTILE, handled_by=HOSTILE)])
    await sign_in(client, EVERYTHING)
    html = await brief_of(client, "c-hostile")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html


async def test_the_account_shows_who_decides_and_links_each_person(client: httpx.AsyncClient) -> None:
    await sign_in(client, EVERYTHING)
    html = (await client.get("/brief/accounts/acct-hollis-plastics")).text
    for member in ("c-dana-hollis-eng", "c-raj-hollis-buy", "c-helen-hollis-mgr"):
        assert f'href="/brief/customers/{member}"' in html
    assert re.search(r"c-helen-hollis-mgr.*?<strong>Decision maker</strong>", html, re.S)
    assert "Dana" in html and "case case-7730" in html
    assert (await client.get("/brief/accounts/nobody")).status_code == 404


async def test_an_erased_customer_is_said_plainly(client: httpx.AsyncClient, reader: FakeViewReader) -> None:
    reader.erased.add("c-gone")
    await sign_in(client, EVERYTHING)
    gone = await client.get("/brief/customers/c-gone")
    assert gone.status_code == 404 and "This customer has been erased" in gone.text
    unknown = await client.get("/brief/customers/c-never")
    assert unknown.status_code == 404 and "erased" not in unknown.text


async def test_a_customer_is_found_by_loyalty_card_with_pii_read_only(client: httpx.AsyncClient) -> None:
    await sign_in(client, EVERYTHING)
    found = await client.post("/brief/find", data={"kind": "loyalty_card", "value": f" {ANA_CARD} "})
    assert found.status_code == 303 and found.headers["location"] == f"/brief/customers/{ANA}"
    missing = await client.post("/brief/find", data={"kind": "email", "value": "nobody@example.org"})
    assert missing.status_code == 404 and "No customer is linked to that email" in missing.text
    by_id = await client.get("/brief/find", params={"customer_id": ZOE})
    assert by_id.headers["location"] == f"/brief/customers/{ZOE}"
    await sign_in(client, VIEWS_ONLY)
    refused = await client.post("/brief/find", data={"kind": "loyalty_card", "value": ANA_CARD})
    assert refused.status_code == 403 and "needs a key with pii:read" in refused.text


async def live_events(client: httpx.AsyncClient, hub: ViewHub, change: Any, customer_id: str) -> list[dict[str, Any]]:
    """The live stream's events while `change` runs, until the customer is erased (which ends the stream)."""

    async def then_erase() -> None:
        for _ in range(200):
            if hub.subscribers(customer_id):
                break
            await asyncio.sleep(0.01)
        await change()
        await asyncio.sleep(0.1)
        hub.publish(customer_id, "erased")

    task = asyncio.create_task(then_erase())
    response = await client.get(f"/brief/customers/{customer_id}/live", params={"after": 1})
    await task
    blocks = [b for b in response.text.split("\n\n") if b.startswith("event:")]
    return [{"event": b.splitlines()[0][7:], **orjson.loads(b.split("data: ", 1)[1])} for b in blocks]


async def test_live_fragments_arrive_redacted_and_announced(
    client: httpx.AsyncClient, reader: FakeViewReader, hub: ViewHub
) -> None:
    reader.fold("c-live", [event("c-live", 1, note="first visit")])
    await sign_in(client, VIEWS_ONLY)

    async def touchpoint() -> None:
        events = [event("c-live", 1), event("c-live", 2, minutes=5, kind="complaint", sentiment=-0.9, note=HOSTILE)]
        reader.fold("c-live", events)
        hub.publish("c-live", "2")

    received = await live_events(client, hub, touchpoint, "c-live")
    assert [e["event"] for e in received] == ["brief", "erased"]
    update = received[0]
    assert "complaint" in update["html"] and 'felt <span class="feeling">bad</span>' in update["html"]
    assert "alert" not in update["html"] and "Hidden" in update["html"]
    assert update["announce"] == "Updated: the latest touchpoint is a complaint by store, felt as bad."
    assert "has been erased" in received[1]["html"]


async def test_a_session_whose_key_may_not_read_views_is_told_so_on_a_page(client: httpx.AsyncClient) -> None:
    # Sign-in refuses such a key, so the session is opened as if the key had lost views:read since (a new key list).
    app = client._transport.app  # type: ignore[attr-defined]
    writer = next(key for key in parse_keys(KEYS) if key.name == "pos")
    session = app.state.brief.sessions.open(writer, WRITER)
    client.cookies.set("rapport_brief", session.token)
    for path in (f"/brief/customers/{ANA}", "/brief/accounts/acct-hollis-plastics", f"/brief/find?customer_id={ZOE}"):
        page = await client.get(path)
        assert page.status_code == 403 and page.headers["content-type"].startswith("text/html"), path
        assert "<h1>Your key may not read customer views</h1>" in page.text and "Signed in as pos" in page.text
        assert 'action="/brief/sign-out"' in page.text and "Sign out and sign in with another key" in page.text
        assert "Family night" not in page.text and WRITER not in page.text
    live = await client.get(f"/brief/customers/{ANA}/live")
    assert live.status_code == 403 and live.headers["content-type"].startswith("text/plain")
    await client.post("/brief/sign-out")
    assert 'name="api_key"' in (await client.get("/brief/")).text
    refused = await sign_in(client, WRITER)
    assert refused.status_code == 403 and "may not read customer views" in refused.text


async def test_a_session_over_its_rate_limit_is_asked_to_wait_on_a_page(client: httpx.AsyncClient) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    app.state.gatekeeper = Gatekeeper(parse_keys(KEYS), RateLimiter(0.001, 1))
    await sign_in(client, EVERYTHING)
    assert (await client.get(f"/brief/customers/{ANA}")).status_code == 200
    page = await client.get(f"/brief/customers/{ANA}")
    assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")
    assert "Too many requests for now" in page.text and int(page.headers["retry-after"]) > 0
