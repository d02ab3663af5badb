"""Per-key request limits every Rapport API applies alike: token buckets, and how long to wait (Retry-After).

Pure: the caller passes the time (a monotonic clock reading in seconds), so tests need no sleeping.
"""

import math
from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    """Holds up to `burst` tokens, refilled at `rate` per second; each request takes one."""

    rate: float
    burst: int
    tokens: float = field(default=-1.0)
    updated: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = float(self.burst)

    def take(self, now: float) -> float:
        """0 when the request may go (a token is taken); otherwise the seconds until one will be there."""
        if now > self.updated:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    """One bucket per caller name (an API key's name), created on first use; callers are few and configured."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = burst
        self._buckets: dict[str, TokenBucket] = {}

    def wait_before(self, caller: str, now: float) -> int:
        """0 when `caller` may go now; otherwise whole seconds to wait (at least 1), for `Retry-After`."""
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = self._buckets[caller] = TokenBucket(self._rate, self._burst, updated=now)
        wait = bucket.take(now)
        return 0 if wait == 0 else max(1, math.ceil(wait))
