"""The customer brief's sign-in and sessions: who may open a page, how a session is kept and ended, and what a
session whose key may not (or may no longer) read is told."""

import httpx

from contracts.auth import parse_keys
from contracts.limits import RateLimiter
from services.projection.entrypoints.auth import OPEN_ROUTES, Gatekeeper, api_routes
from tests.unit.projection.brief_client import EVERYTHING, KEYS, WRITER, Clock, sign_in
from tests.unit.projection.brief_demo import ANA, ZOE


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
