"""When to restart a part of `rapport dev` that failed: pure arithmetic on the times it is given, no clock."""

from dataclasses import dataclass


@dataclass
class RestartPolicy:
    """Waits `first` seconds after a failure, doubling with each failure in a row up to `ceiling`. A part that
    then ran `settled_after` seconds counts as mended, so a crash a day later waits `first` again rather than
    inheriting yesterday's backoff."""

    first: float = 1.0
    ceiling: float = 30.0
    settled_after: float = 60.0
    failures_in_a_row: int = 0
    started_at: float | None = None

    def started(self, now: float) -> None:
        self.started_at = now

    def delay_after_failure(self, now: float) -> float:
        if self.started_at is not None and now - self.started_at >= self.settled_after:
            self.failures_in_a_row = 0
        delay: float = min(self.first * 2.0**self.failures_in_a_row, self.ceiling)
        self.failures_in_a_row += 1
        return delay


@dataclass
class HealthVerdict:
    """Counts consecutive 503s from /healthz; one answer is noise, `limit` in a row is a part that only a
    restart mends (a projection whose consumer stopped while its process lives on)."""

    limit: int = 3
    failed_in_a_row: int = 0

    def heard(self, status: int | None) -> bool:
        """Record one check (None: no answer, as while a part starts); True when the part should be restarted."""
        if status == 503:
            self.failed_in_a_row += 1
        elif status is not None:
            self.failed_in_a_row = 0
        return self.failed_in_a_row >= self.limit
