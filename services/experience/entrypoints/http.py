"""The HTTP API of the write side: `POST /v1/events`, `DELETE /v1/customers/{id}`, probes and metrics."""

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from contracts import topics
from contracts.auth import Scope
from contracts.catalog import CUSTOMER_ERASED, CustomerEvent
from contracts.limits import RateLimiter
from services.common.tracing import valid_traceparent
from services.experience.adapters.metrics import CONTENT_TYPE, ExperienceMetrics
from services.experience.adapters.ports import EventStore, EventStoreUnavailableError
from services.experience.entrypoints.answers import (
    accepted_body,
    claimed_event_id,
    field_error,
    json_response,
    store_unavailable,
)
from services.experience.entrypoints.auth import (
    Admin,
    Authenticator,
    PersonalDataReader,
    Writer,
    announce,
    check_routes,
)
from services.experience.entrypoints.erasures import erasure_document
from services.experience.entrypoints.event_bodies import Limits, request_documents
from services.experience.entrypoints.identity_lookup import IdentityLookup, IdentityQuery
from services.experience.entrypoints.observed import ObservedRequests
from services.experience.entrypoints.readiness import OK, Readiness
from services.experience.entrypoints.refusals import RequestError
from services.experience.handlers.record_events import EventRecorder, InvalidEventsError, validate_all

__all__ = ["IdentityLookup", "Limits", "create_api"]  # Limits and IdentityLookup: imported from here by tests/browser

log = structlog.get_logger(__name__)

EVENT_LOG_TYPE = "application/x-ndjson"
MAX_LOG_PAGE = 20_000  # events a page at most: a few MB, read by PostgreSQL in one statement
MAX_LOG_SHARDS = 64
EVENTS_DESCRIPTION = """Record one event or a batch (all or nothing).

CloudEvents structured mode: `application/cloudevents+json` (or `application/json`) with the whole event as the
body; a batch as `application/cloudevents-batch+json`, a JSON array. Binary mode (the CloudEvents HTTP binding):
the attributes in `ce-*` headers (`ce-specversion`, `ce-id`, `ce-source`, `ce-type`, `ce-time`, optional
`ce-subject`, `ce-dataschema` and extensions such as `ce-traceparent`, values percent-encoded), `data` as the body
and `Content-Type: application/json` as its `datacontenttype`. Both modes are validated alike: 422 names each
field, with index 0 for a single event."""


def create_api(
    recorder: EventRecorder,
    store: EventStore,
    limits: Limits,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    *,
    authenticator: Authenticator | None = None,
    readiness: Readiness | None = None,
    relay_name: str = topics.EVENTS,
    identities: IdentityLookup | None = None,
) -> FastAPI:
    """The ASGI app. Without an authenticator every request is anonymous (development, tests of other things)."""
    metrics: ExperienceMetrics = recorder.metrics
    app = FastAPI(title="Rapport experience service", version="1", lifespan=lifespan)
    app.state.authenticator = authenticator or Authenticator([], RateLimiter(1e9, 1_000_000_000))
    announce(app.state.authenticator)
    readiness = readiness or Readiness(store)

    @app.exception_handler(RequestError)
    async def refuse(request: Request, error: RequestError) -> Response:
        if error.reason is not None:
            metrics.rejected.labels(error.reason).inc()
            log.info("http.refused", reason=error.reason, status=error.status, path=request.url.path)
        response = json_response({"errors": [{"message": error.message}]}, status_code=error.status)
        response.headers.update(error.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_parameters(request: Request, error: RequestValidationError) -> Response:
        metrics.rejected.labels("validation_failed").inc()
        errors = [{"path": ".".join(str(part) for part in e["loc"]), "message": e["msg"]} for e in error.errors()]
        return json_response({"errors": errors}, status_code=422)

    def refused(invalid: InvalidEventsError, documents: list[Any]) -> Response:
        metrics.count_rejected(invalid.reasons.values())
        for index, reason in sorted(invalid.reasons.items())[:100]:  # one line per refused event, bounded
            log.info("events.rejected", reason=reason, index=index, event_id=claimed_event_id(documents, index))
        return json_response({"errors": [field_error(e) for e in invalid.errors]}, status_code=422)

    async def answer(events: list[CustomerEvent], documents: list[Any], traceparent: str | None) -> Response:
        try:
            result = await recorder.record(events, traceparent)
        except InvalidEventsError as invalid:
            return refused(invalid, documents)
        except EventStoreUnavailableError as error:
            raise store_unavailable(error) from None
        return json_response(accepted_body(result, events), status_code=202)

    @app.post("/v1/events", status_code=202, description=EVENTS_DESCRIPTION)
    async def record_events(request: Request, caller: Writer) -> Response:
        documents: list[Any] = []
        try:
            documents = await request_documents(request, limits)
            events = validate_all(documents)
        except InvalidEventsError as invalid:
            return refused(invalid, documents)
        if Scope.ADMIN not in caller.scopes and any(e.type == CUSTOMER_ERASED for e in events):
            raise RequestError(403, f"erasure needs the scope {Scope.ADMIN.value}", reason="forbidden")
        return await answer(events, documents, valid_traceparent(request.headers.get("traceparent")))

    @app.delete("/v1/customers/{customer_id}", status_code=202)
    async def erase_customer(
        request: Request,
        caller: Admin,
        customer_id: Annotated[str, Path(min_length=1, max_length=128)],
        reason: Annotated[str, Query(min_length=1, max_length=256)] = "customer_request",
    ) -> Response:
        """Erase a customer (right to be forgotten): stores `cx.customer.erased.v1` and answers as POST does.

        Repeating the request answers 202 with the erasure event among the duplicates and no new confirmation.
        """
        documents = [erasure_document(customer_id, reason, datetime.now(UTC))]
        try:
            events = validate_all(documents)
        except InvalidEventsError as invalid:
            return refused(invalid, documents)
        return await answer(events, documents, valid_traceparent(request.headers.get("traceparent")))

    @app.get("/v1/events")
    async def event_log(
        caller: Admin,
        after: Annotated[int, Query(ge=0, description="The position to read after.")] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_LOG_PAGE)] = 5000,
        shard: Annotated[int, Query(ge=0, lt=MAX_LOG_SHARDS, description="Only this shard's customers.")] = 0,
        shards: Annotated[int, Query(ge=1, le=MAX_LOG_SHARDS, description="How many shards there are.")] = 1,
    ) -> Response:
        """The event log for rebuilding views: stored events after `after`, oldest first, one canonical document
        (the value the relay publishes on cx.events.v1, redacted where erased) per line.

        `Rapport-Last-Position` is where the next page starts, `Rapport-Head` the newest stored position. With
        `shards` > 1, only the events of the customers in `shard` (disjoint shards, every customer in one), so
        several processes can rebuild side by side; an empty page means none of them up to `Rapport-Head`.
        """
        if shard >= shards:
            raise RequestError(422, f"shard must be below shards ({shards})", reason="validation_failed")
        try:
            page = await store.read_log(after, limit, shard, shards)
        except EventStoreUnavailableError as error:
            raise store_unavailable(error) from None
        headers = {"Rapport-Last-Position": str(page.last_position), "Rapport-Head": str(page.head),
                   "Rapport-Count": str(page.count)}  # fmt: skip
        return Response(page.body, media_type=EVENT_LOG_TYPE, headers=headers)

    @app.post("/v1/identities/lookup")
    async def lookup_identity(query: IdentityQuery, caller: PersonalDataReader) -> Response:
        """The customer a linked identity names: 200 `{"customer_id"}`, or 404 when none is linked to it (never
        linked, unlinked, or the customer erased). The identifier is hashed as intake hashes it and never logged."""
        if identities is None:
            raise RequestError(503, "identity lookup is not configured here")
        if (customer_id := await identities.customer_of(query)) is None:
            unknown = {"errors": [{"message": f"no customer is linked to that {query.kind}"}]}
            return json_response(unknown, status_code=404)
        return json_response({"customer_id": customer_id})

    @app.get("/healthz")
    async def alive() -> dict[str, str]:
        """Liveness: the process answers. Nothing else is checked, so a database outage restarts nothing."""
        return {"status": "alive"}

    @app.get("/readyz")
    async def ready() -> Response:
        """Readiness: 200 when PostgreSQL answers at the migration head and the broker answers; else 503."""
        found = await readiness.check()
        if all(state == OK for state in found.values()):
            return json_response({"status": "ready", **found})
        return json_response({"status": "unavailable", **found}, status_code=503)

    @app.get("/metrics")
    async def prometheus() -> Response:
        try:
            async with asyncio.timeout(1.0):
                metrics.relay_backlog.set(await store.relay_backlog(relay_name))
        except (EventStoreUnavailableError, TimeoutError):
            pass  # the gauge keeps its last value; readiness reports the outage
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    check_routes(app)
    app.add_middleware(ObservedRequests, metrics=metrics)
    return app
