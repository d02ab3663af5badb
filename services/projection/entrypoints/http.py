"""The HTTP API of the read side: a customer's view, timeline and contact answer, health and readiness."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request

from contracts import CustomerView, TimelinePage
from contracts.views import ContactAnswer
from contracts.vocabulary import Channel, Feeling, TouchpointKind
from services.projection.adapters.view_reader import TimelineFilter
from services.projection.domain import decide_contact, view_as_of
from services.projection.entrypoints.api_accounts import router as accounts_router
from services.projection.entrypoints.api_common import ViewReader, now_of, reader_of, wait_for_position
from services.projection.entrypoints.api_stream import router as stream_router
from services.projection.entrypoints.cursor import InvalidCursorError, decode_cursor, encode_cursor
from services.projection.entrypoints.live import ViewHub

router = APIRouter()
MinPosition = Annotated[int | None, Query(ge=0, description="Wait up to ~2 s until this position is applied.")]


def _missing(customer_id: str) -> HTTPException:
    return HTTPException(404, detail=f"no view of customer {customer_id!r}")


async def _view(request: Request, customer_id: str, min_position: int | None) -> dict[str, Any]:
    reader = reader_of(request)

    async def fetch() -> dict[str, Any] | None:
        return await reader.get_view(customer_id)

    async def erased() -> bool:
        return await reader.is_erased(customer_id)

    view = await wait_for_position(request, fetch, min_position, gone=erased)
    if view is None:
        raise _missing(customer_id)  # unknown or erased: an erased customer is not to be found
    return view


@router.get("/v1/customers/{customer_id}", response_model=CustomerView)
async def get_customer(customer_id: str, request: Request, min_position: MinPosition = None) -> dict[str, Any]:
    return view_as_of(await _view(request, customer_id, min_position), now_of(request))


@router.get("/v1/customers/{customer_id}/contact", response_model=ContactAnswer)
async def get_contact(
    customer_id: str, request: Request, purpose: Annotated[str, Query(min_length=1, max_length=32)],
    channel: Channel | None = None, min_position: MinPosition = None,
) -> dict[str, Any]:  # fmt: skip
    """May we contact this customer for `purpose` on `channel`, and how would they like it?"""
    view = await _view(request, customer_id, min_position)
    return decide_contact(view, purpose, None if channel is None else channel.value, now_of(request))


@router.get("/v1/customers/{customer_id}/timeline", response_model=TimelinePage)
async def get_timeline(
    customer_id: str, request: Request,
    limit: Annotated[int, Query(ge=1, le=200)] = 50, cursor: str | None = None,
    channel: Channel | None = None, kind: TouchpointKind | None = None, feeling: Feeling | None = None,
    since: Annotated[datetime | None, Query(description="Inclusive.")] = None,
    until: Annotated[datetime | None, Query(description="Exclusive.")] = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:  # fmt: skip
    reader = reader_of(request)
    try:
        before = decode_cursor(cursor) if cursor else None
    except InvalidCursorError as error:
        raise HTTPException(400, detail=str(error)) from None
    if min_position is not None:
        await _view(request, customer_id, min_position)
    filters = TimelineFilter(
        channel and channel.value, kind and kind.value, feeling and feeling.value, since, until
    )  # fmt: skip
    items = await reader.timeline(customer_id, before, limit + 1, filters)  # one more: is there a next page?
    if not items and before is None and await reader.get_view(customer_id) is None:
        raise _missing(customer_id)
    page, more = items[:limit], len(items) > limit
    next_cursor = encode_cursor(page[-1]["time"], page[-1]["position"]) if more else None
    return {"items": page, "next_cursor": next_cursor}


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> dict[str, str]:
    try:
        await reader_of(request).ping()
    except Exception as error:  # any failure to reach the database means not ready
        raise HTTPException(503, detail=f"database unreachable: {type(error).__name__}") from None
    return {"status": "ready"}


def create_http_app(reader: ViewReader | None = None, hub: ViewHub | None = None, **fastapi_options: Any) -> FastAPI:
    """The API without a composition root: bootstrap passes a lifespan, tests pass a fake reader."""
    app = FastAPI(title="Rapport projection", **fastapi_options)
    app.include_router(router)
    app.include_router(accounts_router)
    app.include_router(stream_router)
    app.state.hub = hub or ViewHub()
    if reader is not None:
        app.state.view_reader = reader
    return app
