"""The fold-state cache hands a state out only for the stored version and table it was put with."""

from services.projection.adapters.state_cache import StateCache
from services.projection.domain import CustomerState


def state(customer_id: str, version: int) -> CustomerState:
    return CustomerState(customer_id, version=version, position=100 + version)


def test_a_state_is_handed_out_only_for_its_version_and_table() -> None:
    cache = StateCache(10)
    ana = state("c-ana", 7)
    cache.put([ana], table=1)

    assert cache.get("c-ana", 7, 1) is ana
    assert cache.get("c-ana", 8, 1) is None  # another worker stored a newer one
    assert cache.get("c-ana", 7, 2) is None  # a rebuild swapped the table
    assert cache.get("c-zoe", 7, 1) is None
    assert (cache.hits, cache.misses) == (1, 3)


def test_the_least_recently_used_go_first_and_nothing_is_kept_without_capacity() -> None:
    cache = StateCache(2)
    cache.put([state("a", 1), state("b", 1)], table=1)
    cache.get("a", 1, 1)
    cache.put([state("c", 1)], table=1)

    assert cache.get("b", 1, 1) is None
    assert cache.get("a", 1, 1) is not None and cache.get("c", 1, 1) is not None
    assert len(cache) == 2

    none = StateCache(0)
    none.put([state("a", 1)], table=1)
    assert len(none) == 0


def test_forget_and_clear() -> None:
    cache = StateCache(10)
    cache.put([state("a", 1), state("b", 1)], table=1)
    cache.forget(["a"])
    assert cache.get("a", 1, 1) is None
    cache.clear()
    assert len(cache) == 0


async def test_a_worker_that_will_not_stop_is_given_up_on() -> None:
    import asyncio

    from services.projection.bootstrap import Worker
    from services.projection.entrypoints.consumer import ConsumerStatus

    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue  # as a client stuck in its group's leave would

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(Worker(task, ConsumerStatus()).stop(timeout_s=0.05), timeout=5)
    assert not task.done()
    released.set()
    task.cancel()
    await asyncio.wait({task}, timeout=5)
