"""Who may call which route: bearer API keys with scopes (contracts.auth), per-key rate limits, open routes.

Every route is either in OPEN_ROUTES (with the reason it may be open) or in ROUTE_SCOPES with the scope it needs,
enforced by the `Writer` / `Admin` dependency on the route. `check_routes` refuses to build an app whose router
holds a route in neither table, and the tests call every route in ROUTE_SCOPES without a key and with a key that
lacks the scope; a route added without protection fails both.
"""

from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated

import structlog
from fastapi import Depends, FastAPI, Request
from starlette.routing import BaseRoute

from contracts.auth import ApiKey, Scope
from services.common.api_keys import KeyCheck, Refusal, api_routes
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


class Authenticator(KeyCheck):
    """The experience's key check (see services/common/api_keys.py); refusals answer as every error here does."""

    def caller(self, authorization: str | None, scope: Scope) -> ApiKey:
        try:
            key = self.identify(authorization)
            self.admit(key, scope)
        except Refusal as refusal:
            raise RequestError(
                refusal.status, refusal.message, reason=refusal.reason, headers=refusal.headers
            ) from None
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


def route_keys(routes: Iterable[BaseRoute]) -> list[tuple[str, str]]:
    """(method, full path) of every API route, HEAD and OPTIONS aside."""
    return [
        (method, path)
        for path, route in api_routes(routes)
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"})
    ]


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
