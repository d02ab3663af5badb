"""The HTTP API of the read side: a customer's view, their timeline, health and readiness."""

import asyncio
import time
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request

from contracts import CustomerView, TimelinePage
from services.projection.entrypoints.cursor import InvalidCursorError, decode_cursor, encode_cursor

# Read-your-writes waits this long at most, then answers with what it has.
MIN_POSITION_WAIT_S = 2.0
_POLL_S = 0.02


class ViewReader(Protocol):
    """What the API needs from storage; PostgresViewReader in production, a fake in unit tests."""

    async def get_view(self, customer_id: str) -> dict[str, Any] | None: ...
    async def timeline(
        self, customer_id: str, before: tuple[datetime, int] | None, limit: int
    ) -> list[dict[str, Any]]: ...
    async def ping(self) -> None: ...


def _reader(request: Request) -> ViewReader:
    reader: ViewReader = request.app.state.view_reader
    return reader


router = APIRouter()


@router.get("/v1/customers/{customer_id}", response_model=CustomerView)
async def get_customer(
    customer_id: str, request: Request, min_position: Annotated[int | None, Query(ge=0)] = None
) -> dict[str, Any]:
    reader = _reader(request)
    view = await reader.get_view(customer_id)
    deadline = time.monotonic() + MIN_POSITION_WAIT_S
    while min_position is not None and (view is None or view["position"] < min_position):
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(_POLL_S)
        view = await reader.get_view(customer_id)
    if view is None:
        raise HTTPException(404, detail=f"no view of customer {customer_id!r}")
    return view


@router.get("/v1/customers/{customer_id}/timeline", response_model=TimelinePage)
async def get_timeline(
    customer_id: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    reader = _reader(request)
    try:
        before = decode_cursor(cursor) if cursor else None
    except InvalidCursorError as error:
        raise HTTPException(400, detail=str(error)) from None
    items = await reader.timeline(customer_id, before, limit + 1)  # one more tells whether a next page exists
    if not items and before is None and await reader.get_view(customer_id) is None:
        raise HTTPException(404, detail=f"no view of customer {customer_id!r}")
    page, more = items[:limit], len(items) > limit
    next_cursor = encode_cursor(page[-1]["time"], page[-1]["position"]) if more else None
    return {"items": page, "next_cursor": next_cursor}


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> dict[str, str]:
    try:
        await _reader(request).ping()
    except Exception as error:  # any failure to reach the database means not ready
        raise HTTPException(503, detail=f"database unreachable: {type(error).__name__}") from None
    return {"status": "ready"}


def create_http_app(reader: ViewReader | None = None, **fastapi_options: Any) -> FastAPI:
    """The API without a composition root: bootstrap passes a lifespan, tests pass a fake reader."""
    app = FastAPI(title="Rapport projection", **fastapi_options)
    app.include_router(router)
    if reader is not None:
        app.state.view_reader = reader
    return app
