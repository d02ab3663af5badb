"""What the write side answers: the 202 for stored events, 422 field errors, and 503 while the store is away."""

from typing import Any

import orjson
import structlog
from fastapi.responses import Response

from contracts.catalog import CUSTOMER_ERASED, CustomerEvent
from contracts.views import ErasureConfirmation
from services.experience.domain.append import AppendResult
from services.experience.entrypoints.refusals import RequestError
from services.experience.handlers.record_events import FieldError

log = structlog.get_logger(__name__)

RETRY_AFTER = {"retry-after": "1"}  # seconds: a dropped connection is replaced at once, a restart takes a few


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


def store_unavailable(error: Exception) -> RequestError:
    """The 503 to raise when the event store cannot be reached; the client retries after a second."""
    log.warning("http.store_unavailable", error=str(error))
    return RequestError(503, "the event store is unavailable; retry later", headers=RETRY_AFTER)


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


def field_error(error: FieldError) -> dict[str, Any]:
    body: dict[str, Any] = {"index": error.index, "path": error.path, "message": error.message}
    if error.reason is not None:
        body["reason"] = error.reason
    return body


def claimed_event_id(documents: list[Any], index: int) -> str | None:
    """The id a refused document claims, for the log; only when it is a plain string of sane length."""
    document = documents[index] if index < len(documents) else None
    event_id = document.get("id") if isinstance(document, dict) else None
    return event_id if isinstance(event_id, str) and len(event_id) <= 256 else None
