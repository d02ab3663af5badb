"""GET /brief/customers/{id}/live: the customer page's changing parts as rendered HTML over server-sent events.

Fed by the same view hub as /v1/customers/{id}/stream. Each `brief` event carries the parts of the page to swap
(rendered with the session's redaction, so a fragment never shows more than the page would) and what a screen
reader should announce; `erased` says the customer is gone, and the stream ends.
"""

from collections.abc import AsyncGenerator
from typing import Annotated

import orjson
from fastapi import Query, Request
from fastapi.responses import StreamingResponse

from services.projection.entrypoints.api_common import CustomerId, reader_of
from services.projection.entrypoints.api_stream import ERASED, _StreamResponse, _until_listening
from services.projection.entrypoints.auth import Gatekeeper, Reader
from services.projection.entrypoints.brief.pages import TimelineQuery, announcement, customer_content, fragment
from services.projection.entrypoints.brief.routes import Person, Timeline, router
from services.projection.entrypoints.live import Subscription, ViewHub, notices


def _erased() -> bytes:
    announce = "This customer has been erased; nothing more is shown."
    return html_event(ERASED, orjson.dumps({"html": fragment("_erased_notice.html"), "announce": announce}).decode())


def html_event(event: str, html: str, event_id: int | None = None) -> bytes:
    """One SSE event whose data is HTML: every line of it a `data:` line, as the format requires."""
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return (head + "".join(f"data: {line}\n" for line in html.splitlines()) + "\n").encode()


@router.get("/customers/{customer_id}/live")
async def customer_live(
    customer_id: CustomerId, request: Request, person: Person, query: Timeline,
    after: Annotated[int, Query(ge=-1, le=2**63 - 1, description="The position the page was rendered at.")] = -1,
) -> StreamingResponse:  # fmt: skip
    gatekeeper: Gatekeeper = request.app.state.gatekeeper
    gatekeeper.open_stream(person.reader)
    hub: ViewHub = request.app.state.hub
    subscription = hub.subscribe(customer_id)

    def release() -> None:
        hub.unsubscribe(subscription)
        gatekeeper.close_stream(person.reader)

    heartbeat = float(getattr(request.app.state, "stream_heartbeat_s", 15.0))
    query = TimelineQuery(query.channel, query.kind, query.feeling)  # live shows the newest page only
    events = _fragments(request, subscription, person.reader, query, heartbeat, after)
    return _StreamResponse(events, release)


async def _fragments(
    request: Request, subscription: Subscription, reader: Reader, query: TimelineQuery, heartbeat: float, after: int
) -> AsyncGenerator[bytes]:
    customer_id = subscription.customer_id
    await _until_listening(request)
    last = after  # the page shows the view at this position; a change since then is sent at once
    if await reader_of(request).get_view(customer_id) is None and await reader_of(request).is_erased(customer_id):
        yield _erased()
        return
    if (update := await _update(request, reader, customer_id, query, last)) is not None:
        last, event = update
        yield event
    async for notice in notices(subscription, heartbeat):
        if notice is None:
            yield b": heartbeat\n\n"
            continue
        if notice == ERASED:
            yield _erased()
            return
        if int(notice) <= last:
            continue
        if (update := await _update(request, reader, customer_id, query, last)) is not None:
            last, event = update
            yield event


async def _update(
    request: Request, reader: Reader, customer_id: str, query: TimelineQuery, last: int
) -> tuple[int, bytes] | None:
    """The page's changing parts when the view has moved past `last`, with their new position."""
    content = await customer_content(request, reader, customer_id, query)
    if content is None or content["view"]["position"] <= last:
        return None
    position = content["view"]["position"]
    body = orjson.dumps({"html": fragment("_live.html", **content), "announce": announcement(content)}).decode()
    return position, html_event("brief", body, position)
