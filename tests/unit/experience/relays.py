"""A relay running in a test's background, a wait until it has done something, and the positions it published."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import orjson

from services.experience.handlers.relay import EventRelay

from .fakes import FakeProducer


@contextlib.asynccontextmanager
async def running(relay: EventRelay) -> AsyncIterator[EventRelay]:
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - the relays run in other tasks; polling what they did is the test
            await asyncio.sleep(0.01)


def published(producer: FakeProducer, topic: str = "events") -> list[int]:
    """The positions of the events sent to `topic`, in the order they were sent."""
    return [orjson.loads(r.value or b"")["position"] for r in producer.sent.get(topic, [])]
