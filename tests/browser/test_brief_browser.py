"""The customer brief in headless Chromium: sign-in, what a frontline person sees, live updates, redaction,
inert hostile notes, no CSP violation, the account page, identity lookup, erasure, and axe-core's WCAG 2.1 AA."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import BriefServer
from tests.browser.helpers import axe_violations, sign_in
from tests.unit.projection.brief_demo import ANA, ANA_CARD, ZOE
from tests.unit.projection.factories import event

HOSTILE = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'
README_IMAGES = Path(__file__).parents[2] / "docs" / "images"
pytestmark = pytest.mark.browser


def test_without_a_session_the_brief_asks_to_sign_in(page: Page, console: list[str]) -> None:
    page.goto(f"/brief/customers/{ANA}")
    expect(page).to_have_url(re.compile(r"/brief/$"))
    expect(page.get_by_role("heading", name="Sign in to the customer brief")).to_be_visible()
    assert axe_violations(page) == []


def test_signed_in_ana_s_brief_tells_how_to_treat_her(
    page: Page, brief_server: BriefServer, console: list[str]
) -> None:
    sign_in(page, brief_server.everything)
    page.get_by_label("Customer id", exact=True).fill(ANA)
    page.get_by_role("button", name="Open the brief").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana")
    expect(page.locator("#at-a-glance")).to_contain_text("Europe/Madrid")
    expect(page.locator("#at-a-glance")).to_contain_text("At risk")
    risk = page.locator("#risk")
    expect(risk).to_contain_text("open issue")
    risk.get_by_role("link", name="event demo-c-ana-alvarez-9").click()
    expect(page).to_have_url(re.compile("#event-demo-c-ana-alvarez-9$"))
    expect(page.locator("#event-demo-c-ana-alvarez-9")).to_contain_text("complaint")
    assert page.evaluate("document.cookie") == "", "the session cookie must be HttpOnly"
    assert brief_server.everything not in page.content()
    assert axe_violations(page) == []
    README_IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(README_IMAGES / "brief-customer.png"), full_page=True)


def test_zoe_may_not_be_emailed(page: Page, brief_server: BriefServer, console: list[str]) -> None:
    sign_in(page, brief_server.everything)
    page.goto(f"/brief/customers/{ZOE}")
    expect(page.locator("#contact tr.refused")).to_contain_text("No: do not contact")
    expect(page.locator("#contact tr.refused")).to_contain_text("email")


def test_a_touchpoint_written_appears_live_and_is_announced(
    page: Page, brief_server: BriefServer, console: list[str]
) -> None:
    customer = "c-live-browser"
    brief_server.change(lambda: brief_server.reader.fold(customer, [event(customer, 1, minutes=1)]))
    sign_in(page, brief_server.everything)
    page.goto(f"/brief/customers/{customer}")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    expect(page.locator("#timeline-list li")).to_have_count(1)

    def complaint() -> None:
        events = [event(customer, 1, minutes=1),
                  event(customer, 2, minutes=9, kind="complaint", channel="phone", sentiment=-0.9)]  # fmt: skip
        brief_server.reader.fold(customer, events)
        brief_server.hub.publish(customer, "2")

    brief_server.change(complaint)
    expect(page.locator("#timeline-list li")).to_have_count(2)
    expect(page.locator("#timeline-list li").first).to_contain_text("complaint")
    expect(page.locator("#live-status")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#live-status")).to_contain_text("complaint by phone, felt as bad")


def test_a_views_only_session_sees_no_personal_field_even_live(
    page: Page, brief_server: BriefServer, console: list[str]
) -> None:
    customer = "c-private-browser"
    brief_server.change(lambda: brief_server.reader.fold(customer, [event(customer, 1, note="private remark")]))
    sign_in(page, brief_server.views_only)
    page.goto(f"/brief/customers/{ANA}")
    text = page.locator("main").inner_text()
    assert "Family night" not in text and "shift-lead-marco" not in text
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Customer {ANA}")
    page.goto(f"/brief/customers/{customer}")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")

    def second() -> None:
        events = [event(customer, 1, note="private remark"), event(customer, 2, minutes=3, note="secret again")]
        brief_server.reader.fold(customer, events)
        brief_server.hub.publish(customer, "2")

    brief_server.change(second)
    expect(page.locator("#timeline-list li")).to_have_count(2)
    assert "secret again" not in page.content() and "private remark" not in page.content()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to the customer brief")).to_be_visible()


def test_a_hostile_note_is_inert(page: Page, brief_server: BriefServer, console: list[str]) -> None:
    customer = "c-hostile-browser"
    brief_server.change(lambda: brief_server.reader.fold(customer, [event(customer, 1, note=HOSTILE)]))
    sign_in(page, brief_server.everything)
    page.goto(f"/brief/customers/{customer}")
    expect(page.locator(".note").first).to_contain_text("<script>")
    assert page.title() != "pwned"
    assert page.locator("main img").count() == 0


def test_the_account_shows_the_buying_team_and_links_each_person(
    page: Page, brief_server: BriefServer, console: list[str]
) -> None:
    sign_in(page, brief_server.everything)
    page.goto("/brief/accounts/acct-hollis-plastics")
    row = page.locator("#team tr", has_text="Decision maker")
    expect(row).to_contain_text("c-helen-hollis-mgr")
    assert axe_violations(page) == []
    page.screenshot(path=str(README_IMAGES / "brief-account.png"), full_page=True)
    page.get_by_role("link", name=re.compile("Dana")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dana")
    expect(page.locator("#care")).to_contain_text("discount pressure")


def test_a_customer_is_found_by_loyalty_card(page: Page, brief_server: BriefServer, console: list[str]) -> None:
    sign_in(page, brief_server.everything)
    page.get_by_label("What you have").select_option("loyalty_card")
    page.get_by_label("Value").fill(ANA_CARD)
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page).to_have_url(re.compile(f"/brief/customers/{ANA}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana")


def test_an_erased_customer_is_said_plainly_and_live(page: Page, brief_server: BriefServer, console: list[str]) -> None:
    customer = "c-erased-browser"
    brief_server.change(lambda: brief_server.reader.fold(customer, [event(customer, 1)]))
    sign_in(page, brief_server.everything)
    page.goto(f"/brief/customers/{customer}")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")

    def erase() -> None:
        brief_server.reader.views.pop(customer)
        brief_server.reader.erased.add(customer)
        brief_server.hub.publish(customer, "erased")

    brief_server.change(erase)
    expect(page.get_by_role("heading", name="This customer has been erased")).to_be_visible()
    expect(page.locator("#timeline-list")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="This customer has been erased")).to_be_visible()
    assert axe_violations(page) == []


def test_a_session_whose_key_may_not_read_views_is_told_so_and_may_sign_in_again(
    context: BrowserContext, page: Page, brief_server: BriefServer, console: list[str]
) -> None:
    token = brief_server.open_session(brief_server.writer)
    context.add_cookies([{"name": "rapport_brief", "value": token, "url": f"{brief_server.url}/brief/"}])
    page.goto(f"/brief/customers/{ANA}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your key may not read customer views")
    expect(page.locator("main")).to_contain_text("lacks the views:read scope")
    assert "Family night" not in page.content()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Sign out and sign in with another key").click()
    sign_in(page, brief_server.everything)
    page.goto(f"/brief/customers/{ANA}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana")


def test_the_brief_works_by_keyboard_alone(page: Page, brief_server: BriefServer, console: list[str]) -> None:
    page.goto("/brief/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the brief")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_label("API key")).to_be_focused()
    page.keyboard.type(brief_server.everything)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Find a customer")).to_be_visible()
