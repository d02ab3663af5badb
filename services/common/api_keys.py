"""A request's API key, checked the same way in both services: which configured key it is, whether that key
holds the scope the route needs, and whether it is within its rate limit. Each service turns a `Refusal` into
its own answer (the experience's error body, the projection's and the brief's).

No configured keys means authentication is off (development and tests only; settings refuse it in production):
every request acts as one anonymous caller holding every scope, still rate limited.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import structlog
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from contracts.auth import ApiKey, Scope, find_key
from contracts.limits import RateLimiter

log = structlog.get_logger(__name__)

ANONYMOUS = ApiKey("anonymous-development", "", frozenset(Scope))


@dataclass(frozen=True)
class Refusal(Exception):
    """Why a request may not go on: 401 (no valid key), 403 (the key lacks the scope) or 429 (over its limit)."""

    status: int
    message: str
    reason: str
    headers: dict[str, str] = field(default_factory=dict)


class KeyCheck:
    def __init__(self, keys: list[ApiKey], limiter: RateLimiter, clock: Callable[[], float] = time.monotonic) -> None:
        self._keys = keys
        self._limiter = limiter
        self._clock = clock
        self.enabled = bool(keys)

    def identify(self, authorization: str | None) -> ApiKey:
        """The key an `Authorization: Bearer <key>` header presents (anonymous while keys are off)."""
        if not self.enabled:
            return ANONYMOUS
        scheme, _, presented = (authorization or "").partition(" ")
        presented = presented.strip()
        key = find_key(self._keys, presented) if scheme.lower() == "bearer" and presented else None
        if key is None:
            # never log what was presented: a mistyped key is still most of a key
            raise Refusal(
                401, "send a valid API key as `Authorization: Bearer <key>`", "unauthorized",
                {"WWW-Authenticate": 'Bearer realm="rapport"'},
            )  # fmt: skip
        return key

    def key_for(self, presented: str) -> ApiKey | None:
        """The configured key `presented` is (the brief's sign-in), or None; anyone is anonymous when keys are off."""
        if not self.enabled:
            return ANONYMOUS
        return find_key(self._keys, presented.strip()) if presented.strip() else None

    def admit(self, key: ApiKey, scope: Scope) -> None:
        """Refuse unless `key` holds `scope` and is within its rate limit (which this call spends)."""
        if scope not in key.scopes:
            log.warning("auth.forbidden", key=key.name, needs=scope.value)
            raise Refusal(
                403, f"the key {key.name!r} lacks the scope {scope.value}", "forbidden",
                {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope.value}"'},
            )  # fmt: skip
        wait = self._limiter.wait_before(key.name, self._clock())
        if wait:
            raise Refusal(
                429, f"rate limit of the key {key.name!r} reached", "rate_limited", {"Retry-After": str(wait)}
            )


def api_routes(routes: Iterable[BaseRoute], prefix: str = "") -> list[tuple[str, APIRoute]]:
    """(full path, route) of every API route, looking inside included routers: FastAPI 0.16x keeps an included
    router as one entry of `app.routes` (its `original_router` holds the routes), older versions copy them in."""
    found: list[tuple[str, APIRoute]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        elif (included := getattr(route, "original_router", None)) is not None:
            context_prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            found.extend(api_routes(included.routes, prefix + context_prefix))
    return found
