"""What every read endpoint shares: the storage port, the clock, and read-your-writes waiting."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

from fastapi import Path, Query, Request

from services.projection.adapters.view_reader import TimelineFilter

_POLL_S = 0.02
DEFAULT_WAIT_S = 2.0
MAX_ID = 128  # customer and account ids: generous for any upstream scheme, small enough to bound every lookup

CustomerId = Annotated[str, Path(min_length=1, max_length=MAX_ID)]
AccountId = Annotated[str, Path(min_length=1, max_length=MAX_ID)]
MinPosition = Annotated[
    int | None, Query(ge=0, le=2**63 - 1, description="Wait up to ~2 s until this position is applied.")
]


class ViewReader(Protocol):
    """What the API needs from storage; PostgresViewReader in production, a fake in unit tests."""

    async def get_view(self, customer_id: str) -> dict[str, Any] | None: ...
    async def get_account(self, account_id: str) -> dict[str, Any] | None: ...
    async def is_erased(self, customer_id: str) -> bool: ...
    async def timeline(
        self, customer_id: str, before: tuple[datetime, int] | None, limit: int, filters: TimelineFilter | None = None
    ) -> list[dict[str, Any]]: ...
    async def ping(self) -> None: ...


def reader_of(request: Request) -> ViewReader:
    reader: ViewReader = request.app.state.view_reader
    return reader


def now_of(request: Request) -> datetime:
    """The moment a read is judged at (expiry, recency); tests set app.state.clock."""
    clock: Callable[[], datetime] | None = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


async def wait_for_position(
    request: Request,
    fetch: Callable[[], Awaitable[dict[str, Any] | None]],
    min_position: int | None,
    gone: Callable[[], Awaitable[bool]] | None = None,
) -> dict[str, Any] | None:
    """The document once it has applied `min_position`, or as it is after a short wait (never an error)."""
    document = await fetch()
    wait_s = getattr(request.app.state, "min_position_wait_s", DEFAULT_WAIT_S)
    deadline = time.monotonic() + wait_s
    while min_position is not None and (document is None or document["position"] < min_position):
        if time.monotonic() >= deadline or (document is None and gone is not None and await gone()):
            break
        await asyncio.sleep(_POLL_S)
        document = await fetch()
    return document
