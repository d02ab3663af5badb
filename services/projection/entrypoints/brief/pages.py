"""Rendering the brief: one Jinja environment with autoescaping always on, and the customer page's content."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader

from services.projection.adapters.ports import TimelineFilter
from services.projection.domain import view_as_of
from services.projection.entrypoints.api_common import now_of, reader_of
from services.projection.entrypoints.auth import Reader
from services.projection.entrypoints.brief import present
from services.projection.entrypoints.cursor import decode_cursor, encode_cursor

TEMPLATES = Path(__file__).parent / "templates"
TIMELINE_PAGE = 20

# autoescape=True for every template whatever its name: a note saying <script> is shown as text.
templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
templates.filters.update(
    words=present.words, when=present.when, feeling=present.feeling, score_words=present.score_words,
    label=present.label,
)  # fmt: skip
templates.globals.update(
    preference_value=present.preference_value, consent_rows=present.consent_rows,
    other_preferences=present.other_preferences, HEADER_PREFERENCES=present.HEADER_PREFERENCES,
)  # fmt: skip


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("person", None)
    return HTMLResponse(templates.get_template(name).render(**context), status_code=status_code)


def fragment(name: str, **context: Any) -> str:
    return templates.get_template(name).render(**context)


@dataclass(frozen=True, slots=True)
class TimelineQuery:
    """The filters and page a person asked for; the live stream keeps to the same filters."""

    channel: str | None = None
    kind: str | None = None
    feeling: str | None = None
    cursor: str | None = None

    def filters(self) -> TimelineFilter:
        return TimelineFilter(self.channel, self.kind, self.feeling)

    def query_string(self, **changes: str | None) -> str:
        values = {"channel": self.channel, "kind": self.kind, "feeling": self.feeling, "cursor": self.cursor}
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v})


async def customer_content(
    request: Request, reader: Reader, customer_id: str, query: TimelineQuery
) -> dict[str, Any] | None:
    """Everything the customer page shows, redacted for `reader`; None when there is no view (unknown or erased).
    Raises ValueError for a cursor this service did not hand out."""
    store = reader_of(request)
    view = await store.get_view(customer_id)
    if view is None:
        return None
    before = decode_cursor(query.cursor) if query.cursor else None
    items = await store.timeline(customer_id, before, TIMELINE_PAGE + 1, query.filters())
    page = items[:TIMELINE_PAGE]
    more = len(items) > TIMELINE_PAGE
    next_cursor = encode_cursor(page[-1]["time"], page[-1]["position"]) if more else None
    return {
        "view": reader.redact(view_as_of(view, now_of(request))),
        "timeline": reader.redact(page),
        "next_cursor": next_cursor,
        "query": query,
        "sees_personal": reader.sees_personal_data,
        "customer_id": customer_id,
    }


def announcement(content: dict[str, Any]) -> str:
    """What a screen reader hears when the page updates by itself: the newest touchpoint, in words."""
    latest = content["timeline"][0] if content["timeline"] else None
    if latest is None:
        return "The brief was updated."
    return (
        f"Updated: the latest touchpoint is a {present.words(latest['kind'])} by {present.words(latest['channel'])}"
        f", felt as {present.feeling(latest)}."
    )
