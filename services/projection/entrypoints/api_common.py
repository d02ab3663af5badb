"""What every read endpoint shares: the storage port's lookup, the clock, and read-your-writes waiting."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from services.projection.adapters.ports import ViewReader

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
) -> dict[str, Any] | None:
    """The document once `fetch` says it has applied the position asked, or as it is after a short wait (never an
    error); with a document, the response's Rapport-Min-Position header says which. Not found: waits unless gone."""
    document, applied = await fetch()
    wait_s = getattr(request.app.state, "min_position_wait_s", DEFAULT_WAIT_S)
    deadline = time.monotonic() + wait_s
    while not applied:
        if time.monotonic() >= deadline or (document is None and gone is not None and await gone()):
            break
        await asyncio.sleep(_POLL_S)
        document, applied = await fetch()
    if document is not None:
        response.headers[MIN_POSITION_HEADER] = REACHED if applied else TIMED_OUT
    return document
