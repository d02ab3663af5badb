"""The issue's "done when", in Chromium against the real thing: `rapport dev --demo` (what `make run` starts), its
printed brief address and key, the four answers a newcomer looks for, and a touchpoint sent over the experience
API showing up on Ana's open page by itself."""

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.helpers import csp_refusals, sign_in, watch_console
from tests.e2e.conftest import RunningSystem, start_dev, touchpoint, wait_for_version
from tests.e2e.test_demo import ACCOUNT, ANA, DEMO_EVENTS, ZOE

pytestmark = pytest.mark.browser
PATIENCE_MS = 60_000  # the whole system shares two cores with the browser: wait generously, assert no timing


@dataclass
class Demo:
    system: RunningSystem
    brief: str  # the address `rapport dev` prints


@pytest.fixture(scope="module")
def demo(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`make run`: the demo seeded, the key `rapport dev` made and printed (no --api-key). `browser` first, so a
    machine without chromium skips before starting anything."""
    running = start_dev(tmp_path_factory.mktemp("brief-demo") / "data", demo=True, own_key=True)
    try:
        for customer, events in DEMO_EVENTS.items():
            wait_for_version(running, customer, events, timeout=60)
        printed = re.search(r"^brief\s+(http://\S+)", running.log.read_text(), re.MULTILINE)
        assert printed, running.log.read_text()
        yield Demo(running, printed.group(1))
    finally:
        running.stop()
    assert running.process.returncode == 0, running.log.read_text()


@pytest.fixture
def tab(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    problems = watch_console(page)
    yield page
    context.close()
    assert csp_refusals(problems) == []


def test_a_newcomer_learns_what_the_issue_asks_and_sees_a_touchpoint_arrive(tab: Page, demo: Demo) -> None:
    sign_in(tab, demo.system.api_key, start=demo.brief)
    tab.get_by_label("Customer id", exact=True).fill(ANA)
    tab.get_by_role("button", name="Open the brief").click()

    # How Ana likes to be treated, and why she is at risk
    expect(tab.get_by_role("heading", level=1)).to_have_text("Ana")
    glance = tab.locator("#at-a-glance")
    for fact in ("Europe/Madrid", "18:00-20:00", "email"):
        expect(glance).to_contain_text(fact)
    expect(tab.locator("#preferences")).to_contain_text("casual")
    expect(glance).to_contain_text("At risk")
    expect(tab.locator("#risk")).to_contain_text("open issue")
    expect(tab.locator("#risk").get_by_role("link", name=f"event demo-{ANA}-9")).to_be_visible()

    # May Zoe be emailed? Who decides at Hollis Plastics? (in a second tab: Ana's stays open and live)
    other = tab.context.new_page()
    other.goto(f"{demo.brief}customers/{ZOE}")
    expect(other.locator("#contact tr.refused")).to_contain_text("email")
    expect(other.locator("#contact tr.refused")).to_contain_text("No: do not contact")
    other.goto(f"{demo.brief}accounts/{ACCOUNT}")
    expect(other.locator("#team tr", has_text="Decision maker")).to_contain_text("c-helen-hollis-mgr")
    other.close()

    # A touchpoint recorded meanwhile, the way a till would send it, shows up on her page without a reload
    expect(tab.locator("body")).to_have_attribute("data-live", "connected", timeout=PATIENCE_MS)
    tab.evaluate("window.stillTheSamePage = true")  # gone if the page were loaded again
    note = f"Gluten-free menu ready for her son this time ({uuid.uuid4().hex[:8]})."
    sent = touchpoint(ANA, channel="store", kind="visit", sentiment=0.9, emotion="relieved", note=note)
    assert demo.system.post("/v1/events", json=sent).status_code == 202
    expect(tab.locator("#timeline-list li").first).to_contain_text(note, timeout=PATIENCE_MS)
    expect(tab.locator("#live-status")).to_contain_text("visit by store, felt as good")
    assert tab.evaluate("window.stillTheSamePage") is True
