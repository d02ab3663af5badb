"""Keeps `rapport dev`'s broker usable: it starts with its topics, and gets them back whenever it forgets them.

The embedded broker holds everything in memory, so a restarted broker has no topics at all, and the services,
which reconnect by themselves, would wait forever for topics nobody creates."""

import asyncio
from pathlib import Path

from services.cli.embedded import EmbeddedBroker, create_topics, missing_topics

Topics = dict[str, tuple[int, dict[str, str]]]
# What Tansu logs when its in-memory store wedged a partition: after a restart, produce requests racing for a
# partition's first offset can leave it refusing every later produce with ObjectStore(AlreadyExists), for good.
WEDGED = b"AlreadyExists"


class BrokerPart:
    """The broker as the supervisor sees it: a part that can die and be started again on the same port."""

    name = "broker"
    health_url: str | None = None

    def __init__(self, broker: EmbeddedBroker, topics: Topics) -> None:
        self.broker = broker
        self.topics = topics
        self._log_read = 0  # how far this process's log was searched for WEDGED

    @property
    def log_path(self) -> Path | None:
        return self.broker.log_path

    @property
    def pid(self) -> int | None:
        return self.broker.pid

    def start(self) -> None:
        self.broker.stop()  # reaps a dead process, so its exit code is not mistaken for the new one's
        self._log_read = self._log_size()  # a wedge the last process logged is not this one's
        self.broker.start()
        # At once, before a reconnecting service can ask for a topic under the broker's defaults.
        asyncio.run(create_topics(self.broker.bootstrap, self.topics))

    def alive(self) -> bool:
        return self.broker.alive()

    def wedged(self) -> bool:
        """Whether the running broker logged that it refuses produce for good; only a new process mends that
        (its memory starts empty, and the relay sends again what the topic lost)."""
        path = self.broker.log_path
        if path is None or not self.alive() or self._log_size() <= self._log_read:
            return False
        start = max(0, self._log_read - len(WEDGED))  # a match split across two reads is still found
        with open(path, "rb") as log:
            log.seek(start)
            fresh = log.read()
        self._log_read = start + len(fresh)
        return WEDGED in fresh

    def _log_size(self) -> int:
        path = self.broker.log_path
        return path.stat().st_size if path is not None and path.exists() else 0

    def exit_code(self) -> int | None:
        return self.broker.exit_code()

    def stop(self) -> None:
        self.broker.stop()


class TopicWatch:
    """Looks every `every` seconds for topics the running broker lacks and creates them with their settings."""

    def __init__(self, part: BrokerPart, every: float = 5.0) -> None:
        self.part = part
        self.every = every
        self._next_look = 0.0

    def tick(self, now: float) -> list[str]:
        """The topics created again (empty when nothing was missing, or the broker could not be asked)."""
        if now < self._next_look or not self.part.alive():
            return []
        self._next_look = now + self.every
        try:
            return asyncio.run(self._restore())
        except Exception:  # the broker may be dying or restarting; the next look tries again
            return []

    async def _restore(self) -> list[str]:
        bootstrap = self.part.broker.bootstrap
        missing = await asyncio.wait_for(missing_topics(bootstrap, self.part.topics), timeout=10)
        if missing:
            wanted = {name: self.part.topics[name] for name in missing}
            await asyncio.wait_for(create_topics(bootstrap, wanted), timeout=10)
        return missing
