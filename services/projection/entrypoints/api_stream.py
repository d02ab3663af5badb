"""GET /v1/customers/{id}/stream: server-sent events of a customer's view, live.

Events: `view` (data: the whole view, id: its position) first with the current view if there is one, then on
every change; `erased` (data: {"customer_id"}) once, and the stream ends. A comment line every ~15 s keeps
proxies from closing an idle stream. A client too slow to keep up is cut off; it reconnects and gets the
current view first, so nothing is lost but intermediate versions.
"""

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any

import orjson
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from services.projection.adapters.ports import ViewReader
from services.projection.domain import view_as_of
from services.projection.entrypoints.api_common import CustomerId, now_of, reader_of
from services.projection.entrypoints.auth import Gatekeeper, Reader, Viewer
from services.projection.entrypoints.live import Subscription, ViewHub, notices

log = structlog.get_logger(__name__)
router = APIRouter()
ERASED = "erased"
LISTEN_WAIT_S = 5.0


def sse(event: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head.encode() + b"data: " + orjson.dumps(data) + b"\n\n"


class _StreamResponse(StreamingResponse):
    """A stream that gives its slot and subscription back however it ends: finished, failed, or the client gone
    before its first byte, when the events' generator never even starts and its own `finally` never runs."""

    def __init__(self, events: AsyncGenerator[bytes], release: Callable[[], None]) -> None:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        super().__init__(events, media_type="text/event-stream", headers=headers)
        self._events, self._release = events, release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()
            await self._events.aclose()  # a generator left waiting for a notice ends now


@router.get("/v1/customers/{customer_id}/stream")
async def stream_customer(customer_id: CustomerId, request: Request, viewer: Viewer) -> StreamingResponse:
    """Counts as one request against the key's rate limit, and as one of its open streams while it lasts."""
    gatekeeper: Gatekeeper = request.app.state.gatekeeper
    gatekeeper.open_stream(viewer)  # here, not in the generator: a 429 must be sent before the stream's 200
    hub: ViewHub = request.app.state.hub
    subscription = hub.subscribe(customer_id)  # before the first read: no change can slip in between

    def release() -> None:
        hub.unsubscribe(subscription)
        gatekeeper.close_stream(viewer)

    heartbeat = float(getattr(request.app.state, "stream_heartbeat_s", 15.0))
    return _StreamResponse(_events(request, reader_of(request), subscription, heartbeat, viewer), release)


async def _events(
    request: Request, reader: ViewReader, subscription: Subscription, heartbeat: float, viewer: Reader
) -> AsyncGenerator[bytes]:
    customer_id = subscription.customer_id
    await _until_listening(request)
    last = -1
    view = await reader.get_view(customer_id)
    if view is not None:
        last = view["position"]
        yield sse("view", viewer.redact(view_as_of(view, now_of(request))), last)
    elif await reader.is_erased(customer_id):
        yield sse(ERASED, {"customer_id": customer_id})
        return
    async for notice in notices(subscription, heartbeat):
        if notice is None:
            yield b": heartbeat\n\n"
            continue
        if notice == ERASED:
            yield sse(ERASED, {"customer_id": customer_id})
            return
        if int(notice) <= last:
            continue  # an older notice (or one already covered by a view sent): nothing new
        view = await reader.get_view(customer_id)
        if view is not None and view["position"] > last:
            last = view["position"]
            yield sse("view", viewer.redact(view_as_of(view, now_of(request))), last)


async def _until_listening(request: Request) -> None:
    """The process LISTENs only while someone streams: before the first read, wait until its LISTEN is in effect,
    so no change committed after that read goes unheard."""
    listener = getattr(request.app.state, "change_listener", None)
    if listener is not None and not listener.listening.is_set():
        try:
            await asyncio.wait_for(listener.listening.wait(), LISTEN_WAIT_S)
        except TimeoutError:
            log.warning("stream started before change notices could be heard")
