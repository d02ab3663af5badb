"""Who may call which route: bearer API keys with scopes (contracts.auth), per-key rate limits, open routes.

Every route is either in OPEN_ROUTES (with the reason it may be open) or in ROUTE_SCOPES with the scope it needs,
enforced by the `Writer` / `Admin` dependency on the route. `check_routes` refuses to build an app whose router
holds a route in neither table, and the tests call every route in ROUTE_SCOPES without a key and with a key that
lacks the scope; a route added without protection fails both.
"""

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from contracts.auth import ApiKey, Scope, find_key
from contracts.limits import RateLimiter
from services.experience.entrypoints.refusals import RequestError

log = structlog.get_logger(__name__)

# Open on purpose. Probes must work without credentials (kubelet, compose healthchecks) and answer only
# "alive"/"ready" and which dependency is not; metrics are counts by type, reason, route and status, never a
# customer id, scraped by Prometheus from inside the cluster (keep /metrics off the public ingress). The OpenAPI
# description is the public interface, the same as contracts/ publishes.
OPEN_ROUTES: dict[str, str] = {
    "/healthz": "liveness probe",
    "/readyz": "readiness probe",
    "/metrics": "Prometheus scrape, no personal data",
    "/openapi.json": "interface description",
    "/docs": "interface description",
    "/docs/oauth2-redirect": "interface description",
    "/redoc": "interface description",
}

# What each protected route needs. A POST whose batch holds a cx.customer.erased.v1 needs `admin` as well.
ROUTE_SCOPES: dict[tuple[str, str], Scope] = {
    ("POST", "/v1/events"): Scope.EVENTS_WRITE,
    ("DELETE", "/v1/customers/{customer_id}"): Scope.ADMIN,
    ("GET", "/v1/events"): Scope.ADMIN,  # the whole history, redacted where erased: for rebuilds
    ("POST", "/v1/identities/lookup"): Scope.PII_READ,  # an email or phone in, a customer id out: personal data
}

_ANONYMOUS = ApiKey("anonymous-development", "", frozenset(Scope))


class Authenticator:
    """Checks a request's bearer key against the configured ones, then its scope, then its rate limit.

    No configured keys means authentication is off (development only; settings refuse it in production):
    every request acts as one anonymous caller holding every scope, still rate limited.
    """

    def __init__(self, keys: list[ApiKey], limiter: RateLimiter, clock: Callable[[], float] = time.monotonic) -> None:
        self._keys = keys
        self._limiter = limiter
        self._clock = clock
        self.enabled = bool(keys)

    def caller(self, authorization: str | None, scope: Scope) -> ApiKey:
        key = self._identify(authorization) if self.enabled else _ANONYMOUS
        if scope not in key.scopes:
            log.warning("auth.forbidden", key=key.name, needs=scope.value)
            raise RequestError(403, f"the key {key.name!r} lacks the scope {scope.value}", reason="forbidden")
        wait = self._limiter.wait_before(key.name, self._clock())
        if wait:
            raise RequestError(
                429,
                f"rate limit of the key {key.name!r} reached",
                reason="rate_limited",
                headers={"Retry-After": str(wait)},
            )
        return key

    def _identify(self, authorization: str | None) -> ApiKey:
        scheme, _, presented = (authorization or "").partition(" ")
        presented = presented.strip()
        key = find_key(self._keys, presented) if scheme.lower() == "bearer" and presented else None
        if key is None:
            # never log what was presented: a typo'd key is still most of a key
            raise RequestError(
                401,
                "send a valid API key as `Authorization: Bearer <key>`",
                reason="unauthorized",
                headers={"WWW-Authenticate": 'Bearer realm="rapport"'},
            )
        return key


def require(scope: Scope) -> Callable[[Request], Awaitable[ApiKey]]:
    """A dependency answering 401/403/429 unless the request's key holds `scope` and is within its limit."""

    async def caller(request: Request) -> ApiKey:  # async: no thread hop, and the buckets stay single-threaded
        authenticator: Authenticator = request.app.state.authenticator
        return authenticator.caller(request.headers.get("authorization"), scope)

    return caller


Writer = Annotated[ApiKey, Depends(require(Scope.EVENTS_WRITE))]
Admin = Annotated[ApiKey, Depends(require(Scope.ADMIN))]
PersonalDataReader = Annotated[ApiKey, Depends(require(Scope.PII_READ))]


def route_keys(routes: Iterable[BaseRoute], prefix: str = "") -> list[tuple[str, str]]:
    """(method, full path) of every API route, HEAD and OPTIONS aside, looking inside included routers: FastAPI
    0.16x keeps an included router as one entry of `app.routes` (its `original_router` holds the routes), older
    versions copy them in."""
    found: list[tuple[str, str]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            methods = sorted((route.methods or set()) - {"HEAD", "OPTIONS"})
            found.extend((method, prefix + route.path) for method in methods)
        elif (included := getattr(route, "original_router", None)) is not None:
            context_prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            found.extend(route_keys(included.routes, prefix + context_prefix))
    return found


def check_routes(app: FastAPI) -> None:
    """Refuse to build an app with a route that is neither open on purpose nor given a scope."""
    unknown = [
        f"{method} {path}"
        for method, path in route_keys(app.routes)
        if path not in OPEN_ROUTES and (method, path) not in ROUTE_SCOPES
    ]
    if unknown:
        raise RuntimeError(f"routes without a scope in ROUTE_SCOPES or a reason in OPEN_ROUTES: {unknown}")


def announce(authenticator: Authenticator) -> None:
    if not authenticator.enabled:
        log.warning(
            "auth.disabled",
            message="NO API KEYS CONFIGURED: every request is accepted without authentication. Development only; "
            "set RAPPORT_EXPERIENCE_API_KEYS (production refuses to start without it).",
        )
