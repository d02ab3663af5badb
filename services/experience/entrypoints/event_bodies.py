"""What a `POST /v1/events` request carries: its body read within the limits, turned into event documents."""

from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from starlette.datastructures import Headers

from services.experience.domain import binary_mode
from services.experience.entrypoints.refusals import RequestError
from services.experience.handlers.record_events import FieldError, InvalidEventsError

SINGLE_TYPES = {"application/cloudevents+json", "application/json"}
BATCH_TYPE = "application/cloudevents-batch+json"


@dataclass(frozen=True, slots=True)
class Limits:
    max_body_bytes: int = 1024 * 1024
    max_batch_events: int = 1000


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


async def request_documents(request: Request, limits: Limits) -> list[Any]:
    """The documents of a request in either CloudEvents mode: binary (`ce-*` headers) or structured."""
    content_type = request.headers.get("content-type")
    body = await read_body(request, limits.max_body_bytes)
    if binary_mode.is_binary(content_type, request.headers.keys(), binary_mode.HTTP_PREFIX):
        return binary_documents(request.headers, body)
    return documents_of(binary_mode.media_type(content_type), body, limits)
