"""The HTTP API of the write side: `POST /v1/events`, `DELETE /v1/customers/{id}`, liveness and readiness."""

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import Response

from contracts.catalog import CUSTOMER_ERASED, CustomerEvent
from contracts.views import ErasureConfirmation
from services.experience.adapters.ports import EventStore, EventStoreUnavailableError
from services.experience.domain.append import AppendResult
from services.experience.handlers.record_events import EventRecorder, FieldError, InvalidEventsError, validate_all

log = structlog.get_logger(__name__)

SINGLE_TYPES = {"application/cloudevents+json", "application/json"}
BATCH_TYPE = "application/cloudevents-batch+json"


@dataclass(frozen=True, slots=True)
class Limits:
    max_body_bytes: int = 1024 * 1024
    max_batch_events: int = 1000


class RequestError(Exception):
    """A request refused before validation: the status code and a message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing early on a declared or streamed size over `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def documents_of(media_type: str, body: bytes, limits: Limits) -> list[Any]:
    """The JSON documents a request carries: one event, or the elements of a batch."""
    if media_type not in SINGLE_TYPES and media_type != BATCH_TYPE:
        raise RequestError(415, f"send {BATCH_TYPE} or one of {sorted(SINGLE_TYPES)}")
    try:
        decoded = orjson.loads(body)  # refuses bytes that are not UTF-8 as well
    except orjson.JSONDecodeError as error:
        raise RequestError(400, f"the body is not JSON in UTF-8: {error}") from None
    if media_type == BATCH_TYPE and not isinstance(decoded, list):
        raise RequestError(400, "a batch must be a JSON array of events")
    documents = decoded if isinstance(decoded, list) else [decoded]  # an array as application/json is a batch
    if not documents:
        raise RequestError(400, "a batch must hold at least one event")
    if len(documents) > limits.max_batch_events:
        raise RequestError(413, f"a batch holds at most {limits.max_batch_events} events")
    return documents


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
    body: dict[str, Any] = {"accepted": result.accepted, "duplicates": result.duplicates, "position": result.position}
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


def create_api(
    recorder: EventRecorder,
    store: EventStore,
    limits: Limits,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    app = FastAPI(title="Rapport experience service", version="1", lifespan=lifespan)

    @app.exception_handler(RequestError)
    async def refuse(request: Request, error: RequestError) -> Response:
        return _json({"errors": [{"message": error.message}]}, status_code=error.status)

    async def answer(events: list[CustomerEvent]) -> Response:
        try:
            result = await recorder.record(events)
        except InvalidEventsError as invalid:
            return _json({"errors": [_error(e) for e in invalid.errors]}, status_code=422)
        except EventStoreUnavailableError as error:
            log.warning("http.store_unavailable", error=str(error))
            raise RequestError(503, "the event store is unavailable; retry later") from None
        return _json(accepted_body(result, events), status_code=202)

    @app.post("/v1/events", status_code=202)
    async def record_events(request: Request) -> Response:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await read_body(request, limits.max_body_bytes)
        documents = documents_of(media_type, body, limits)
        try:
            events = validate_all(documents)
        except InvalidEventsError as invalid:
            return _json({"errors": [_error(e) for e in invalid.errors]}, status_code=422)
        return await answer(events)

    @app.delete("/v1/customers/{customer_id}", status_code=202)
    async def erase_customer(customer_id: str, reason: str = "customer_request") -> Response:
        """Erase a customer (right to be forgotten): stores `cx.customer.erased.v1` and answers as POST does.

        Repeating the request answers 202 with the erasure event among the duplicates and no new confirmation.
        """
        try:
            events = validate_all([erasure_document(customer_id, reason, datetime.now(UTC))])
        except InvalidEventsError as invalid:
            return _json({"errors": [_error(e) for e in invalid.errors]}, status_code=422)
        return await answer(events)

    @app.get("/healthz")
    async def alive() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz")
    async def ready() -> Response:
        try:
            await store.ping()
        except EventStoreUnavailableError:
            return _json({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return _json({"status": "ready"})

    return app
