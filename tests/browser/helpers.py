"""What the browser tests do again and again: sign in, run axe-core, and collect a page's console complaints."""

import hashlib
from pathlib import Path
from typing import Any

from playwright.sync_api import ConsoleMessage, Page, expect

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"


def sign_in(page: Page, key: str, start: str = "/brief/") -> None:
    page.goto(start)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Find a customer")).to_be_visible()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    source = AXE.read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256, "the vendored axe-core is not the one noted"
    page.evaluate(source.decode())  # through the DevTools protocol: the page's CSP still forbids eval itself
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    result: dict[str, Any] = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", tags
    )
    return [{"id": v["id"], "nodes": [n["html"] for n in v["nodes"]][:3]} for v in result["violations"]]


def watch_console(page: Page) -> list[str]:
    """Every console error, CSP report and uncaught error `page` produces from now on."""
    problems: list[str] = []

    def seen(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", seen)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def csp_refusals(problems: list[str]) -> list[str]:
    return [p for p in problems if "Content Security Policy" in p or "Refused" in p]
