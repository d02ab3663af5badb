"""Liveness (would only a restart help?), readiness (is this process fit to serve?), the /metrics scrape and HTTP
request counts by route template."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.projection.adapters.metrics import ProjectionMetrics

Check = Callable[[], Awaitable[None]]  # raises when the thing it checks is not there


class ConsumerStoppedError(RuntimeError):
    """The process's consumer worker has ended by itself (it runs until stopped): nothing in the process restarts it."""


async def run_checks(checks: dict[str, Check], timeout_s: float) -> dict[str, str]:
    """`ok` or `failed: <the failure's type>` per check; the name only: messages may carry URLs or hosts."""
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), timeout_s)
            results[name] = "ok"
        except Exception as error:  # any failure means not ok, whatever the cause
            results[name] = f"failed: {type(error).__name__}"
    return results


class CachedCheck:
    """A check asked at most once per `ttl_s` (the broker: a probe every few seconds must not open a connection
    each time); the last verdict, failure included, is reused in between."""

    def __init__(self, check: Check, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._check, self._ttl_s, self._clock = check, ttl_s, clock
        self._checked_at: float | None = None
        self._error: Exception | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> None:
        async with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self._ttl_s:
                try:
                    await self._check()
                    self._error = None
                except Exception as error:  # any failure to reach it means not ready, whatever the cause
                    self._error = error
                self._checked_at = self._clock()
        if self._error is not None:
            raise self._error


class Liveness:
    """Alive unless a check fails that only a restart mends (a crashed consumer). Never the database or the broker:
    they come back by themselves, and restarting every pod while they are away would help nobody."""

    def __init__(self, checks: dict[str, Check], timeout_s: float = 1.0) -> None:
        self._checks, self._timeout_s = checks, timeout_s

    async def report(self) -> tuple[bool, dict[str, Any]]:
        results = await run_checks(self._checks, self._timeout_s)
        if all(result == "ok" for result in results.values()):
            return True, {"status": "ok"}
        return False, {"status": "failed", "checks": results}


class Readiness:
    """Ready when every check passes and, for a process running a consumer, the lag is within `max_lag`.

    A lag bound of 0 turns the lag check off. An unknown lag (the consumer has not yet joined its group or
    seen its partitions' ends) counts as caught up: a worker waiting for a rebalance must not stop reads. A
    stopped consumer's lag says nothing (it stays as it was), so a crash is the `consumer` check's to report.
    """

    def __init__(
        self, checks: dict[str, Check], lag: Callable[[], int | None] | None = None, max_lag: int = 0,
        timeout_s: float = 3.0,
    ) -> None:  # fmt: skip
        self._checks, self._lag, self._max_lag, self._timeout_s = checks, lag, max_lag, timeout_s

    async def report(self) -> tuple[bool, dict[str, Any]]:
        results = await run_checks(self._checks, self._timeout_s)
        body: dict[str, Any] = {"checks": results}
        ready = all(result == "ok" for result in results.values())
        if self._lag is not None:
            lag = self._lag()
            body["lag"] = lag
            if self._max_lag and lag is not None and lag > self._max_lag:
                ready = False
                results["consumer_lag"] = f"failed: {lag} records behind, more than {self._max_lag}"
            else:
                results["consumer_lag"] = "ok"
        return ready, {"status": "ready" if ready else "not ready", **body}


class HttpMetricsMiddleware:
    """Counts each HTTP response by route template (never the path: it holds customer ids) and status."""

    def __init__(self, app: ASGIApp, metrics: ProjectionMetrics) -> None:
        self._app, self._metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                self._metrics.http_requests.labels(template, str(message["status"])).inc()
            await send(message)

        await self._app(scope, receive, counting_send)
