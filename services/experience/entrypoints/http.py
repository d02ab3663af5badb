"""The HTTP API of the write side: `POST /v1/events`, `DELETE /v1/customers/{id}`, probes and metrics."""

import asyncio
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
import structlog
from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import Headers

from contracts import topics
from contracts.auth import Scope
from contracts.catalog import CUSTOMER_ERASED, CustomerEvent
from contracts.limits import RateLimiter
from contracts.views import ErasureConfirmation
from services.experience.adapters.metrics import CONTENT_TYPE, ExperienceMetrics
from services.experience.adapters.ports import EventStore, EventStoreUnavailableError, IdentityDirectory
from services.experience.domain import binary_mode
from services.experience.domain.append import AppendResult
from services.experience.domain.identities import IdentityHasher, InvalidIdentityError
from services.experience.domain.tracing import valid_traceparent
from services.experience.entrypoints.auth import (
    Admin,
    Authenticator,
    PersonalDataReader,
    Writer,
    announce,
    check_routes,
)
from services.experience.entrypoints.observed import ObservedRequests
from services.experience.entrypoints.readiness import OK, Readiness
from services.experience.entrypoints.refusals import RequestError
from services.experience.handlers.record_events import EventRecorder, FieldError, InvalidEventsError, validate_all

log = structlog.get_logger(__name__)

SINGLE_TYPES = {"application/cloudevents+json", "application/json"}
BATCH_TYPE = "application/cloudevents-batch+json"
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
RETRY_AFTER = {"retry-after": "1"}  # seconds: a dropped connection is replaced at once, a restart takes a few


@dataclass(frozen=True, slots=True)
class Limits:
    max_body_bytes: int = 1024 * 1024
    max_batch_events: int = 1000


class IdentityQuery(BaseModel):
    """An identifier a customer gave (an email, a phone number, a loyalty card), sent in a body, never a URL."""

    model_config = ConfigDict(extra="forbid")
    kind: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_.-]+$")]
    value: Annotated[str, Field(min_length=1, max_length=320)]


@dataclass(frozen=True, slots=True)
class IdentityLookup:
    """What `POST /v1/identities/lookup` needs: the link table and the key the identities were hashed with."""

    directory: IdentityDirectory
    hasher: IdentityHasher


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing early on a declared or streamed size over `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"the body is larger than {limit} bytes", reason="too_large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"the body is larger than {limit} bytes", reason="too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def documents_of(media_type: str, body: bytes, limits: Limits) -> list[Any]:
    """The JSON documents a request carries: one event, or the elements of a batch."""
    if media_type not in SINGLE_TYPES and media_type != BATCH_TYPE:
        raise RequestError(415, f"send {BATCH_TYPE} or one of {sorted(SINGLE_TYPES)}", reason="unsupported_media_type")
    try:
        decoded = orjson.loads(body)  # refuses bytes that are not UTF-8 as well
    except orjson.JSONDecodeError as error:
        raise RequestError(400, f"the body is not JSON in UTF-8: {error}", reason="invalid_json") from None
    if media_type == BATCH_TYPE and not isinstance(decoded, list):
        raise RequestError(400, "a batch must be a JSON array of events", reason="invalid_batch")
    documents = decoded if isinstance(decoded, list) else [decoded]  # an array as application/json is a batch
    if not documents:
        raise RequestError(400, "a batch must hold at least one event", reason="invalid_batch")
    if len(documents) > limits.max_batch_events:
        raise RequestError(413, f"a batch holds at most {limits.max_batch_events} events", reason="too_large")
    return documents


def binary_documents(headers: Headers, body: bytes) -> list[Any]:
    """The one event a binary-mode request carries; an unreadable attribute is refused as an invalid field is."""
    try:
        attributes = binary_mode.http_attributes(headers.items())
        return [binary_mode.document(attributes, headers.get("content-type"), body)]
    except binary_mode.BinaryModeError as error:
        if error.reason == "invalid_json":  # as in structured mode: a body that is not JSON is a bad request
            raise RequestError(400, error.message, reason="invalid_json") from None
        raise InvalidEventsError([FieldError(0, error.path, error.message)], {0: error.reason}) from None


_ERASURES = uuid.UUID("7a1e3f4c-2b7d-5c1e-9f0a-6d5b4c3a2e10")  # namespace of DELETE's deterministic event ids


def erasure_event_id(customer_id: str) -> str:
    """The same id for every DELETE of one customer, so a repeated request is a duplicate, not a second erasure."""
    return f"erasure-{uuid.uuid5(_ERASURES, customer_id)}"


def erasure_document(customer_id: str, reason: str, now: datetime) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": erasure_event_id(customer_id),
        "source": "urn:rapport:experience:http",
        "type": CUSTOMER_ERASED,
        "time": now.isoformat(),
        "data": {"customer_id": customer_id, "reason": reason},
    }


def accepted_body(result: AppendResult, events: list[CustomerEvent]) -> dict[str, Any]:
    """The 202 body; a batch holding erasures also confirms what each erasure did."""
    body: dict[str, Any] = {
        "accepted": result.accepted, "duplicates": result.duplicates, "position": result.position,
        "positions": result.customers,  # per customer: the `min_position` to read that customer's view with
    }  # fmt: skip
    if any(e.type == CUSTOMER_ERASED for e in events):
        body["erasures"] = [
            ErasureConfirmation(
                customer_id=e.customer_id, redacted_events=e.redacted_events, identities_removed=e.identities_removed
            ).model_dump(mode="json")
            for e in result.erasures
        ]
    return body


def _error(error: FieldError) -> dict[str, Any]:
    body: dict[str, Any] = {"index": error.index, "path": error.path, "message": error.message}
    if error.reason is not None:
        body["reason"] = error.reason
    return body


def _json(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


def _event_id(documents: list[Any], index: int) -> str | None:
    """The id a refused document claims, for the log; only when it is a plain string of sane length."""
    document = documents[index] if index < len(documents) else None
    event_id = document.get("id") if isinstance(document, dict) else None
    return event_id if isinstance(event_id, str) and len(event_id) <= 256 else None


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
        response = _json({"errors": [{"message": error.message}]}, status_code=error.status)
        response.headers.update(error.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_parameters(request: Request, error: RequestValidationError) -> Response:
        metrics.rejected.labels("validation_failed").inc()
        errors = [{"path": ".".join(str(part) for part in e["loc"]), "message": e["msg"]} for e in error.errors()]
        return _json({"errors": errors}, status_code=422)

    def refused(invalid: InvalidEventsError, documents: list[Any]) -> Response:
        metrics.count_rejected(invalid.reasons.values())
        for index, reason in sorted(invalid.reasons.items())[:100]:  # one line per refused event, bounded
            log.info("events.rejected", reason=reason, index=index, event_id=_event_id(documents, index))
        return _json({"errors": [_error(e) for e in invalid.errors]}, status_code=422)

    async def answer(events: list[CustomerEvent], documents: list[Any], traceparent: str | None) -> Response:
        try:
            result = await recorder.record(events, traceparent)
        except InvalidEventsError as invalid:
            return refused(invalid, documents)
        except EventStoreUnavailableError as error:
            log.warning("http.store_unavailable", error=str(error))
            raise RequestError(503, "the event store is unavailable; retry later", headers=RETRY_AFTER) from None
        return _json(accepted_body(result, events), status_code=202)

    @app.post("/v1/events", status_code=202, description=EVENTS_DESCRIPTION)
    async def record_events(request: Request, caller: Writer) -> Response:
        content_type = request.headers.get("content-type")
        body = await read_body(request, limits.max_body_bytes)
        binary = binary_mode.is_binary(content_type, request.headers.keys(), binary_mode.HTTP_PREFIX)
        documents: list[Any] = []
        try:
            if binary:
                documents = binary_documents(request.headers, body)
            else:
                documents = documents_of(binary_mode.media_type(content_type), body, limits)
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
            log.warning("http.store_unavailable", error=str(error))
            raise RequestError(503, "the event store is unavailable; retry later", headers=RETRY_AFTER) from None
        headers = {"Rapport-Last-Position": str(page.last_position), "Rapport-Head": str(page.head),
                   "Rapport-Count": str(page.count)}  # fmt: skip
        return Response(page.body, media_type=EVENT_LOG_TYPE, headers=headers)

    @app.post("/v1/identities/lookup")
    async def lookup_identity(query: IdentityQuery, caller: PersonalDataReader) -> Response:
        """The customer a linked identity names: 200 `{"customer_id"}`, or 404 when none is linked to it (never
        linked, unlinked, or the customer erased). The identifier is hashed as intake hashes it and never logged."""
        if identities is None:
            raise RequestError(503, "identity lookup is not configured here")
        try:
            key = identities.hasher.key_of(query.kind, query.value)
        except InvalidIdentityError as error:
            raise RequestError(422, str(error), reason="validation_failed") from None
        try:
            customer_id = await identities.directory.customer_of(key)
        except EventStoreUnavailableError as error:
            log.warning("http.store_unavailable", error=str(error))
            raise RequestError(503, "the event store is unavailable; retry later", headers=RETRY_AFTER) from None
        if customer_id is None:
            return _json({"errors": [{"message": f"no customer is linked to that {query.kind}"}]}, status_code=404)
        return _json({"customer_id": customer_id})

    @app.get("/healthz")
    async def alive() -> dict[str, str]:
        """Liveness: the process answers. Nothing else is checked, so a database outage restarts nothing."""
        return {"status": "alive"}

    @app.get("/readyz")
    async def ready() -> Response:
        """Readiness: 200 when PostgreSQL answers at the migration head and the broker answers; else 503."""
        found = await readiness.check()
        if all(state == OK for state in found.values()):
            return _json({"status": "ready", **found})
        return _json({"status": "unavailable", **found}, status_code=503)

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
