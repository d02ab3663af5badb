"""The brief at 200% zoom (a 1280x800 window is 640x400 CSS pixels, two device pixels each) and reflowed at 320 CSS
pixels (WCAG 1.4.10): no sideways scrolling of the page, the key content visible, reachable and not covered by
anything else, and axe-core still finds nothing."""

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import BriefServer
from tests.browser.helpers import axe_violations, csp_refusals, sign_in, watch_console
from tests.unit.projection.brief_demo import ANA, ZOE
from tests.unit.projection.factories import event

pytestmark = pytest.mark.browser
WINDOWS = {
    "200% zoom": {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
    "320 px reflow": {"viewport": {"width": 320, "height": 256}, "device_scale_factor": 1},
}
DNC = "c-dnc-zoomed"
CUSTOMER_KEYS = {
    "name to use": "h1",
    "at risk": "#at-a-glance .badge.risk",
    "why at risk": "#risk li",
    "contact hours": "#at-a-glance dd",
    "timeline filter by channel": "#f-channel",
    "timeline filter by feeling": "#f-feeling",
    "filter button": "#timeline form button",
    "newest touchpoint": "#timeline-list li p",
    "sign out": "form[action='/brief/sign-out'] button",
}
REFUSED_KEYS = {"email refused": "#contact tr.refused td strong", "sign out": "form[action='/brief/sign-out'] button"}
DNC_KEYS = {"do-not-contact badge": "#at-a-glance .badge.dnc", "do-not-contact banner": "#contact .dnc-banner"}
ACCOUNT_KEYS = {
    "decision maker": "#team td:nth-child(2) strong",
    "decision maker's link": "#team tr:has(td:nth-child(2) strong) a",
    "health": "#health p",
    "open issue": "#account-issues li",
    "sign out": "form[action='/brief/sign-out'] button",
}

# For each selector: scroll its first match into view, then say where it falls short, if anywhere: outside the
# viewport sideways, or covered at its centre by something that is not itself or inside it.
SHORTCOMINGS = """(selectors) => Object.entries(selectors).flatMap(([what, selector]) => {
  const element = document.querySelector(selector);
  if (!element) return [`${what}: nothing matches ${selector}`];
  element.scrollIntoView({block: "center", inline: "nearest"});
  const box = element.getBoundingClientRect();
  const width = document.documentElement.clientWidth;
  if (box.width === 0 || box.height === 0) return [`${what}: not shown`];
  if (box.left < 0 || box.right > width + 0.5) return [`${what}: spans x ${box.left} to ${box.right} of ${width}`];
  const x = box.left + box.width / 2, y = (Math.max(box.top, 0) + Math.min(box.bottom, innerHeight)) / 2;
  const hit = document.elementFromPoint(x, y);
  if (hit && (element.contains(hit) || hit.contains(element))) return [];
  return [`${what}: covered by ${hit && hit.outerHTML.slice(0, 80)}`];
})"""
SIDEWAYS = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


@pytest.fixture(params=list(WINDOWS), ids=list(WINDOWS))
def zoomed(browser: Browser, browser_context_args: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(**{**browser_context_args, **WINDOWS[request.param]})
    page = context.new_page()
    problems = watch_console(page)
    yield page
    context.close()
    assert csp_refusals(problems) == []


def assert_usable(page: Page, path: str, keys: dict[str, str]) -> None:
    page.goto(path)
    expect(page.locator("main h1")).to_be_visible()
    scroll_width, client_width = page.evaluate(SIDEWAYS)
    assert scroll_width <= client_width, f"{path} scrolls sideways: {scroll_width} > {client_width} CSS px"
    assert page.evaluate(SHORTCOMINGS, keys) == [], path
    for focusable in ("#top-find", "form[action='/brief/sign-out'] button"):
        page.locator(focusable).focus()  # reachable by keyboard: focus brings it into view, whole
        box = page.locator(focusable).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= client_width, focusable
    assert axe_violations(page) == [], path


def test_the_brief_is_usable_zoomed_in(zoomed: Page, brief_server: BriefServer) -> None:
    def withdrawn() -> None:
        everything = event(DNC, 2, "consent", purpose="any", granted=False, minutes=2)
        brief_server.reader.fold(DNC, [event(DNC, 1), everything])

    brief_server.change(withdrawn)
    sign_in(zoomed, brief_server.everything)
    assert_usable(zoomed, f"/brief/customers/{ANA}", CUSTOMER_KEYS)
    expect(zoomed.locator("h1")).to_have_text("Ana")
    assert_usable(zoomed, f"/brief/customers/{ZOE}", REFUSED_KEYS)
    assert_usable(zoomed, f"/brief/customers/{DNC}", DNC_KEYS)
    assert_usable(zoomed, "/brief/accounts/acct-hollis-plastics", ACCOUNT_KEYS)
    assert_usable(
        zoomed, "/brief/", {"find by id": "#customer-id", "sign out": "form[action='/brief/sign-out'] button"}
    )
