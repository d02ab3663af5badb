"""Shutting down never waits forever on a part that hangs (a Kafka client stuck in a group join, say)."""

import asyncio

from structlog.testing import capture_logs

from services.experience.bootstrap import _within


async def test_a_step_that_hangs_is_given_up_after_its_bound() -> None:
    never = asyncio.Event()

    with capture_logs() as logs:
        await asyncio.wait_for(_within(0.05, "intake consumer", never.wait()), timeout=5)

    assert [(e["event"], e["part"]) for e in logs] == [("shutdown.step_timed_out", "intake consumer")]


async def test_a_step_that_finishes_is_awaited_whole() -> None:
    done: list[str] = []

    async def stop() -> None:
        await asyncio.sleep(0.01)
        done.append("stopped")

    await _within(1.0, "producer", stop())

    assert done == ["stopped"]
