"""What every read endpoint shares: the storage port's lookup, the clock, and read-your-writes waiting."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from services.projection.adapters.ports import ViewReader
from services.projection.entrypoints.live import Subscription, ViewHub

_POLL_S = 0.02
DEFAULT_WAIT_S = 2.0
MAX_ID = 128  # customer and account ids: generous for any upstream scheme, small enough to bound every lookup

CustomerId = Annotated[str, Path(min_length=1, max_length=MAX_ID)]
AccountId = Annotated[str, Path(min_length=1, max_length=MAX_ID)]
MinPosition = Annotated[
    int | None,
    Query(ge=0, le=2**63 - 1, description=(
        "Wait up to ~2 s until this position is applied; the answer's Rapport-Min-Position header says whether it "
        "was (`reached`) or the wait gave up (`timed-out`)."
    )),
]  # fmt: skip
# Read-your-writes: on an answer with a document to a `min_position` read, whether the wait got there.
MIN_POSITION_HEADER = "Rapport-Min-Position"
REACHED, TIMED_OUT = "reached", "timed-out"
Fetched = tuple[dict[str, Any] | None, bool]  # a document (None: not found) and whether it applied the position


def reader_of(request: Request) -> ViewReader:
    reader: ViewReader = request.app.state.view_reader
    return reader


def now_of(request: Request) -> datetime:
    """The moment a read is judged at (expiry, recency); tests set app.state.clock."""
    clock: Callable[[], datetime] | None = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


async def wait_for_position(
    request: Request,
    response: Response,
    fetch: Callable[[], Awaitable[Fetched]],
    gone: Callable[[], Awaitable[bool]] | None = None,
    customer_id: str | None = None,
) -> dict[str, Any] | None:
    """The document once `fetch` says it has applied the position asked, or as it is after a short wait (never an
    error); with a document, the response's Rapport-Min-Position header says which. Not found: waits unless gone.

    With `customer_id`, the wait is woken by the change notice a worker sends when it commits that customer's view,
    instead of the next poll: the poll stays, every `_POLL_S`, for whatever the notices miss (the moment before
    LISTEN is in effect, a lost listener connection)."""
    document, applied = await fetch()
    if not applied:
        document, applied = await _wait(request, fetch, document, gone, customer_id)
    if document is not None:
        response.headers[MIN_POSITION_HEADER] = REACHED if applied else TIMED_OUT
    return document


async def _wait(
    request: Request, fetch: Callable[[], Awaitable[Fetched]], document: dict[str, Any] | None,
    gone: Callable[[], Awaitable[bool]] | None, customer_id: str | None,
) -> Fetched:  # fmt: skip
    deadline = time.monotonic() + getattr(request.app.state, "min_position_wait_s", DEFAULT_WAIT_S)
    hub: ViewHub | None = getattr(request.app.state, "hub", None)
    # Subscribed before the next read, so a commit between that read and the wait still wakes it.
    subscription = hub.subscribe(customer_id) if hub is not None and customer_id is not None else None
    try:
        applied = False
        if subscription is not None:
            document, applied = await fetch()
        while not applied:
            if time.monotonic() >= deadline or (document is None and gone is not None and await gone()):
                break
            await _next_notice(subscription)
            document, applied = await fetch()
        return document, applied
    finally:
        if hub is not None and subscription is not None:
            hub.unsubscribe(subscription)


async def _next_notice(subscription: Subscription | None) -> None:
    """Until a change notice for the subscription's customer, or `_POLL_S` at most."""
    if subscription is None or subscription.dropped:
        await asyncio.sleep(_POLL_S)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(subscription.queue.get(), _POLL_S)
