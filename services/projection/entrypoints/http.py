"""The HTTP API of the read side: a customer's view, timeline and contact answer, health and readiness."""

from datetime import datetime
from functools import partial
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from contracts import CustomerView, TimelinePage
from contracts.views import ContactAnswer
from contracts.vocabulary import Channel, Feeling, TouchpointKind
from services.common.connection_loss import connection_lost
from services.projection.adapters.metrics import CONTENT_TYPE, ProjectionMetrics
from services.projection.adapters.ports import TimelineFilter, ViewReader
from services.projection.domain import decide_contact, view_as_of
from services.projection.entrypoints.api_accounts import router as accounts_router
from services.projection.entrypoints.api_common import (
    CustomerId,
    MinPosition,
    now_of,
    reader_of,
    wait_for_position,
)
from services.projection.entrypoints.api_stream import router as stream_router
from services.projection.entrypoints.auth import Gatekeeper, Viewer, check_routes
from services.projection.entrypoints.brief import BriefConfig, install_brief, signed_in
from services.projection.entrypoints.cursor import InvalidCursorError, decode_cursor, encode_cursor
from services.projection.entrypoints.live import ViewHub
from services.projection.entrypoints.observability import HttpMetricsMiddleware, Liveness, Readiness

log = structlog.get_logger(__name__)
router = APIRouter()
MAX_CURSOR = 200  # a cursor this service hands out is under 60 characters


def _missing(customer_id: str) -> HTTPException:
    return HTTPException(404, detail=f"no view of customer {customer_id!r}")


async def _view(request: Request, response: Response, customer_id: str, min_position: int | None) -> dict[str, Any]:
    reader = reader_of(request)
    if min_position is None:
        view = await reader.get_view(customer_id)
    else:
        fetch = partial(reader.get_view_applied, customer_id, min_position)
        view = await wait_for_position(
            request, response, fetch, gone=partial(reader.is_erased, customer_id), customer_id=customer_id
        )
    if view is None:
        raise _missing(customer_id)  # unknown or erased: an erased customer is not to be found
    return view


@router.get("/v1/customers/{customer_id}", response_model=CustomerView)
async def get_customer(
    customer_id: CustomerId, request: Request, response: Response, viewer: Viewer, min_position: MinPosition = None
) -> dict[str, Any]:
    """The customer's view. With `min_position=N`, waits up to ~2 s until the view has applied every event of
    this customer up to N (a batch's position from POST /v1/events will do for each of its customers), and says
    in the `Rapport-Min-Position` header whether it got there (`reached`) or gave up (`timed-out`, the view as it
    is). An unknown customer is waited for, then 404; an erased one is 404 at once."""
    view = view_as_of(await _view(request, response, customer_id, min_position), now_of(request))
    return viewer.redact(view)


@router.get("/v1/customers/{customer_id}/contact", response_model=ContactAnswer)
async def get_contact(
    customer_id: CustomerId, request: Request, response: Response, viewer: Viewer,
    purpose: Annotated[str, Query(min_length=1, max_length=32, pattern=r"^[a-z0-9_.-]+$")],
    channel: Channel | None = None, min_position: MinPosition = None,
) -> dict[str, Any]:  # fmt: skip
    """May we contact this customer for `purpose` on `channel`, and how would they like it? `min_position` and
    the `Rapport-Min-Position` header (`reached` or `timed-out`) as for GET /v1/customers/{id}."""
    view = await _view(request, response, customer_id, min_position)
    answer = decide_contact(view, purpose, None if channel is None else channel.value, now_of(request))
    return viewer.redact(answer)


# exclude_unset: a redacted entry leaves `note` and `handled_by` out rather than answering them as null.
@router.get("/v1/customers/{customer_id}/timeline", response_model=TimelinePage, response_model_exclude_unset=True)
async def get_timeline(
    customer_id: CustomerId, request: Request, response: Response, viewer: Viewer,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR)] = None,
    channel: Channel | None = None, kind: TouchpointKind | None = None, feeling: Feeling | None = None,
    since: Annotated[datetime | None, Query(description="Inclusive.")] = None,
    until: Annotated[datetime | None, Query(description="Exclusive.")] = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:  # fmt: skip
    """The customer's timeline entries, newest first, a page at a time. `min_position` and the
    `Rapport-Min-Position` header (`reached` or `timed-out`) as for GET /v1/customers/{id}."""
    reader = reader_of(request)
    try:
        before = decode_cursor(cursor) if cursor else None
    except InvalidCursorError as error:
        raise HTTPException(400, detail=str(error)) from None
    if min_position is not None:
        await _view(request, response, customer_id, min_position)
    filters = TimelineFilter(
        channel and channel.value, kind and kind.value, feeling and feeling.value, since, until
    )  # fmt: skip
    items = await reader.timeline(customer_id, before, limit + 1, filters)  # one more: is there a next page?
    if not items and await reader.get_view(customer_id) is None:
        raise _missing(customer_id)  # unknown or erased, with or without a cursor: not an empty last page
    page, more = items[:limit], len(items) > limit
    next_cursor = encode_cursor(page[-1]["time"], page[-1]["position"]) if more else None
    return viewer.redact({"items": page, "next_cursor": next_cursor})


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 while this process can do its work; 503, naming the check, once something failed that only a restart
    mends (its consumer stopped), so that the liveness probe restarts it."""
    liveness: Liveness | None = getattr(request.app.state, "liveness", None)
    alive, body = await liveness.report() if liveness is not None else (True, {"status": "ok"})
    return JSONResponse(body, status_code=200 if alive else 503)


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 when PostgreSQL answers at the migration head, the broker answers and the consumer (if this process
    runs one) is within the lag bound; 503 otherwise, naming what failed and the lag."""
    readiness: Readiness | None = getattr(request.app.state, "readiness", None)
    if readiness is None:
        readiness = Readiness({"database": reader_of(request).ping})
    ready, body = await readiness.report()
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    registry: ProjectionMetrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE)


async def database_unavailable(request: Request, error: Exception) -> Response:
    """A lost database connection is a 503 to retry shortly, not a 500; any other database error stays a 500."""
    if not connection_lost(error):
        raise error
    log.warning("http.database_unavailable", path=request.url.path, error=type(error).__name__)
    return JSONResponse({"errors": [{"message": "the view store is unavailable; retry later"}]}, status_code=503,
                        headers={"retry-after": "1"})  # fmt: skip


def create_http_app(
    reader: ViewReader | None = None, hub: ViewHub | None = None, gatekeeper: Gatekeeper | None = None,
    metrics: ProjectionMetrics | None = None, brief: BriefConfig | None = None, **fastapi_options: Any,
) -> FastAPI:  # fmt: skip
    """The API and the customer brief without a composition root: bootstrap passes a lifespan, tests pass a fake
    reader. Without a gatekeeper the API is open (tests, and development without keys)."""
    app = FastAPI(title="Rapport projection", **fastapi_options)
    app.include_router(router)
    app.include_router(accounts_router)
    app.include_router(stream_router)
    install_brief(app, brief)  # without a config: development cookies (not Secure) and no identity lookup
    check_routes(app, guards=[signed_in])
    app.state.hub = hub or ViewHub()
    app.state.gatekeeper = gatekeeper or Gatekeeper([])
    app.state.metrics = metrics or ProjectionMetrics()
    app.add_middleware(HttpMetricsMiddleware, metrics=app.state.metrics)
    app.add_exception_handler(DBAPIError, database_unavailable)
    app.add_exception_handler(OSError, database_unavailable)
    if reader is not None:
        app.state.view_reader = reader
    return app
