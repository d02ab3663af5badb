"""Who may read what: bearer API keys with scopes (contracts.auth), per-key rate limits and stream caps.

Every route is either in OPEN_ROUTES (with the reason it may be open) or needs `views:read` through the `Viewer`
dependency, which yields a `Reader`. Each route passes what it answers through `reader.redact`, the one place
personal fields are removed for readers without `pii:read`. `check_routes` refuses to build an app with an API
route that is neither open nor depends on the `Viewer`, and the tests call every route from the app's own list.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, FastAPI, HTTPException, Request

from contracts.auth import ApiKey, Scope
from contracts.limits import RateLimiter
from services.common.api_keys import KeyCheck, Refusal, api_routes
from services.projection.domain.redaction import Document, redact

log = structlog.get_logger(__name__)

# Open on purpose. Probes must work without credentials (kubelet, compose health checks) and say only whether the
# process is alive or ready and, if not, which dependency is missing. Metrics are counts by partition, route and
# status, never a customer id; Prometheus scrapes them from inside the cluster (keep /metrics off the public
# ingress). The OpenAPI description is the public interface, the same as contracts/ publishes.
OPEN_ROUTES: dict[str, str] = {
    "/healthz": "liveness probe",
    "/readyz": "readiness probe",
    "/metrics": "Prometheus scrape, no personal data",
    "/openapi.json": "interface description",
    "/docs": "interface description",
    "/docs/oauth2-redirect": "interface description",
    "/redoc": "interface description",
    # The brief's own door: the sign-in form (no customer data), exchanging a key for a session, ending one.
    "/brief/": "the brief's sign-in page or, with a session, its find form",
    "/brief/sign-in": "exchanges an API key for a session cookie",
    "/brief/sign-out": "ends the session it is sent with",
}


@dataclass(frozen=True, slots=True)
class Reader:
    """The caller of a view route: their key's name and scopes, and what they may see."""

    name: str
    scopes: frozenset[Scope]

    @property
    def sees_personal_data(self) -> bool:
        return Scope.PII_READ in self.scopes

    def redact(self, document: Document) -> Document:
        """`document` as this reader may see it: without notes, handlers, attributes or name_to_use unless the
        key holds pii:read."""
        return document if self.sees_personal_data else redact(document)


class Gatekeeper(KeyCheck):
    """The projection's key check (see services/common/api_keys.py), which also counts each key's open streams."""

    def __init__(
        self, keys: list[ApiKey], limiter: RateLimiter | None = None, max_streams: int = 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        super().__init__(keys, limiter or RateLimiter(200.0, 400), clock)
        self._max_streams = max_streams
        self._streams: dict[str, int] = {}

    def admit_request(self, authorization: str | None, scope: Scope) -> Reader:
        try:
            return self.admit_key(self.identify(authorization), scope)
        except Refusal as refusal:
            raise HTTPException(refusal.status, refusal.message, headers=refusal.headers) from None

    def admit_key(self, key: ApiKey, scope: Scope) -> Reader:
        """The scope check and rate limit for a key already known (a brief session's)."""
        try:
            self.admit(key, scope)
        except Refusal as refusal:
            raise HTTPException(refusal.status, refusal.message, headers=refusal.headers) from None
        return Reader(key.name, key.scopes)

    def open_stream(self, reader: Reader) -> None:
        """Count a live stream against the key's cap, or answer 429 (a stream holds memory and a connection)."""
        open_now = self._streams.get(reader.name, 0)
        if open_now >= self._max_streams:
            raise HTTPException(
                429, f"the key {reader.name!r} has {open_now} streams open, the most allowed",
                headers={"Retry-After": "5"},
            )  # fmt: skip
        self._streams[reader.name] = open_now + 1

    def close_stream(self, reader: Reader) -> None:
        left = self._streams.get(reader.name, 0) - 1
        if left > 0:
            self._streams[reader.name] = left
        else:
            self._streams.pop(reader.name, None)

    def streams(self, reader: Reader) -> int:
        return self._streams.get(reader.name, 0)


async def viewer(request: Request) -> Reader:
    """401/403/429 unless the request's key holds views:read and is within its limit; async: no thread hop, and
    the buckets stay single-threaded."""
    gatekeeper: Gatekeeper = request.app.state.gatekeeper
    return gatekeeper.admit_request(request.headers.get("authorization"), Scope.VIEWS_READ)


Viewer = Annotated[Reader, Depends(viewer)]


def check_routes(app: FastAPI, guards: Iterable[Callable[..., object]] = ()) -> None:
    """Refuse to build an app with an API route that is neither open on purpose nor guarded by the Viewer (or one
    of `guards`, such as the brief's session check, which applies the same scopes and limits)."""
    accepted = {viewer, *guards}
    unguarded = [
        path for path, route in api_routes(app.routes)
        if path not in OPEN_ROUTES and not any(d.call in accepted for d in route.dependant.dependencies)
    ]  # fmt: skip
    if unguarded:
        raise RuntimeError(f"routes neither open (OPEN_ROUTES) nor guarded by the Viewer dependency: {unguarded}")


def announce(gatekeeper: Gatekeeper) -> None:
    if not gatekeeper.enabled:
        log.warning(
            "auth.disabled",
            message="NO API KEYS CONFIGURED: every request is accepted without authentication and sees personal "
            "data. Development only; set RAPPORT_PROJECTION_API_KEYS (production refuses to start without it).",
        )
