"""Per request, not per event: count it by route template and status, and name its trace in every log line."""

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.tracing import trace_id
from services.experience.adapters.metrics import ExperienceMetrics

_UNMATCHED = "unmatched"  # any path no route knows: one label value, however many paths scanners try


class ObservedRequests:
    """A plain ASGI middleware (no BaseHTTPMiddleware: that one copies the body stream and costs more)."""

    def __init__(self, app: ASGIApp, metrics: ExperienceMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        structlog.contextvars.clear_contextvars()
        trace = trace_id(_header(scope, b"traceparent"))
        if trace is not None:
            structlog.contextvars.bind_contextvars(trace_id=trace)
        try:
            await self._app(scope, receive, observed)
        finally:
            route = getattr(scope.get("route"), "path", _UNMATCHED)
            self._metrics.http_requests.labels(route, str(status)).inc()
            structlog.contextvars.clear_contextvars()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
