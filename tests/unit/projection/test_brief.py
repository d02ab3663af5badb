"""The customer brief's pages: what each tells a frontline person, what a key without personal data sees, the
headers every page carries, and finding a customer by an identity."""

import re

import httpx

from tests.unit.projection.brief_client import EVERYTHING, HOSTILE, VIEWS_ONLY, brief_of, sign_in
from tests.unit.projection.brief_demo import ANA, ANA_CARD, ZOE
from tests.unit.projection.factories import event
from tests.unit.projection.fakes import FakeViewReader


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
