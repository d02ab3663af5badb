"""Restarts the parts of `rapport dev` that fail: a child that exits, or one whose /healthz keeps answering 503."""

import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from services.cli.restart_policy import HealthVerdict, RestartPolicy


class Part(Protocol):
    """A process the supervisor can watch and start again (a service child or the broker)."""

    name: str

    @property
    def health_url(self) -> str | None: ...

    @property
    def log_path(self) -> Path | None: ...

    @property
    def pid(self) -> int | None: ...

    def start(self) -> None: ...

    def alive(self) -> bool: ...

    def exit_code(self) -> int | None: ...

    def stop(self) -> None: ...


def healthz_status(url: str) -> int | None:
    """The status /healthz answers, or None when nothing answers (a part still starting)."""
    try:
        return httpx.get(url, timeout=2.0).status_code
    except httpx.HTTPError:
        return None


def how_it_ended(code: int | None) -> str:
    if code is None:  # stopped by dev itself (a wedged broker), its exit already reaped
        return "was stopped"
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


@dataclass
class _Watch:
    part: Part
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    health: HealthVerdict = field(default_factory=HealthVerdict)
    restart_at: float | None = None


class Supervisor:
    """Call `tick` from the thread that started the parts (children die with that thread, see lifeline)."""

    def __init__(
        self,
        parts: Sequence[Part],
        say: Callable[[str], None],
        on_started: Callable[[], None],
        *,
        health_every: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        probe: Callable[[str], int | None] = healthz_status,
    ) -> None:
        self.say, self.on_started, self.health_every = say, on_started, health_every
        self.clock, self.probe = clock, probe
        now = clock()
        self._watches = [_Watch(part) for part in parts]
        for watch in self._watches:
            watch.policy.started(now)
        self._next_health_check = now + health_every

    def tick(self) -> None:
        now = self.clock()
        check_health = now >= self._next_health_check
        if check_health:
            self._next_health_check = now + self.health_every
        for watch in self._watches:
            if watch.restart_at is not None:
                if now >= watch.restart_at:
                    self._restart(watch)
            elif not watch.part.alive():
                self._plan_restart(watch, now, how_it_ended(watch.part.exit_code()))
            elif check_health and self._unhealthy(watch):
                watch.part.stop()  # alive but useless: its consumer stopped, and only a new process mends that
                self._plan_restart(watch, now, f"answered 503 on /healthz {watch.health.limit} times in a row")

    def _unhealthy(self, watch: _Watch) -> bool:
        url = watch.part.health_url
        return url is not None and watch.health.heard(self.probe(url))

    def _plan_restart(self, watch: _Watch, now: float, why: str) -> None:
        delay = watch.policy.delay_after_failure(now)
        watch.restart_at = now + delay
        watch.health = HealthVerdict(watch.health.limit)
        log = f"; see {watch.part.log_path}" if watch.part.log_path else ""
        self.say(f"[yellow]{watch.part.name} {why}; restarting it in {delay:g} s{log}[/yellow]")

    def _restart(self, watch: _Watch) -> None:
        watch.restart_at = None
        try:
            watch.part.start()
        except Exception as error:  # a failed start is one more failure, retried after a longer wait
            self._plan_restart(watch, self.clock(), f"did not start ({error})")
            return
        watch.policy.started(self.clock())
        self.say(f"{watch.part.name} restarted (pid {watch.part.pid})")
        self.on_started()
