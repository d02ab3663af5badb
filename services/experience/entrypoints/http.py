"""The HTTP API of the write side: `POST /v1/events`, plus liveness and readiness probes."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import Response

from services.experience.adapters.ports import EventStore, EventStoreUnavailableError
from services.experience.handlers.record_events import EventRecorder, InvalidEventsError, validate_all

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

    @app.post("/v1/events", status_code=202)
    async def record_events(request: Request) -> Response:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await read_body(request, limits.max_body_bytes)
        documents = documents_of(media_type, body, limits)
        try:
            result = await recorder.record(validate_all(documents))
        except InvalidEventsError as invalid:
            errors = [{"index": e.index, "path": e.path, "message": e.message} for e in invalid.errors]
            return _json({"errors": errors}, status_code=422)
        except EventStoreUnavailableError as error:
            log.warning("http.store_unavailable", error=str(error))
            raise RequestError(503, "the event store is unavailable; retry later") from None
        body_out = {"accepted": result.accepted, "duplicates": result.duplicates, "position": result.position}
        return _json(body_out, status_code=202)

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
