"""Whether this replica should get traffic: PostgreSQL answers, its schema is at our head, the broker answers."""

import asyncio
import time
from collections.abc import Callable

from services.experience.adapters.ports import (
    BrokerUnavailableError,
    EventStore,
    EventStoreUnavailableError,
    RecordProducer,
)

OK = "ok"


class Readiness:
    """Each check has a short timeout; the broker's answer is reused for `broker_cache_s`, so probes every few
    seconds from several places cost the cluster one metadata request per interval at most."""

    def __init__(
        self,
        store: EventStore,
        producer: RecordProducer | None = None,
        head_revision: str | None = None,
        older_revisions: frozenset[str] = frozenset(),
        *,
        timeout_s: float = 2.0,
        broker_cache_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._producer = producer
        self._head = head_revision
        self._older = older_revisions
        self._timeout_s = timeout_s
        self._broker_cache_s = broker_cache_s
        self._clock = clock
        self._broker: tuple[float, str] | None = None  # when checked, what was found

    async def check(self) -> dict[str, str]:
        """`ok` or what is wrong, per dependency."""
        database, migrations = await self._database()
        found = {"database": database, "migrations": migrations}
        if self._producer is not None:
            found["broker"] = await self._broker_state(self._producer)
        return found

    async def _database(self) -> tuple[str, str]:
        try:
            async with asyncio.timeout(self._timeout_s):
                version = await self._store.schema_version()
        except (EventStoreUnavailableError, TimeoutError):
            return "unreachable", "unknown"
        # Behind means: nothing applied, or a revision this code knows as older than its head. A revision this code
        # does not know is a newer one (a rolling deploy migrated first): still ready, the schema only grows.
        if self._head is not None and (version is None or version in self._older):
            return OK, f"at {version or 'none'}, expected {self._head}: run `python -m services.experience migrate`"
        return OK, OK

    async def _broker_state(self, producer: RecordProducer) -> str:
        now = self._clock()
        if self._broker is not None and now - self._broker[0] < self._broker_cache_s:
            return self._broker[1]
        try:
            await producer.ping(self._timeout_s)
            state = OK
        except BrokerUnavailableError:
            state = "unreachable"
        self._broker = (now, state)
        return state
