"""The batch use case over in-memory ports: what a consumed batch stores, publishes and leaves alone."""

from typing import Any

import orjson
import pytest

from services.projection.adapters.state_cache import StateCache
from services.projection.domain import AccountRules, FoldRules
from services.projection.handlers.project_batch import ProjectBatch
from services.projection.handlers.republish_pending import republish_pending
from tests.unit.projection.factories import record
from tests.unit.projection.fakes import FakeRecord, FakeViewPublisher, FakeViewStore

GROUP, TOPIC = "projection", "cx.events.v1"


def records(*values: dict[str, Any], first_offset: int = 0) -> list[FakeRecord]:
    return [FakeRecord(first_offset + n, orjson.dumps(value)) for n, value in enumerate(values)]


class Worker:
    """A ProjectBatch wired to fakes, with what it wrote and published in reach."""

    def __init__(self) -> None:
        self.store, self.views, self.accounts = FakeViewStore(), FakeViewPublisher(), FakeViewPublisher()
        self.project = ProjectBatch(
            self.store, self.views, FoldRules(), GROUP, TOPIC, account_publisher=self.accounts,
            account_rules=AccountRules(),
        )  # fmt: skip


@pytest.fixture
def worker() -> Worker:
    return Worker()


async def test_views_are_written_and_published_once_per_changed_customer(worker: Worker) -> None:
    batch = {
        0: records(record("ana", 1), record("ana", 2, minutes=5)),
        1: records(record("bob", 3, channel="web", kind="visit")),
    }

    outcome = await worker.project(batch)

    assert (outcome.records, outcome.applied, outcome.views, outcome.customers) == (3, 3, 2, 2)
    assert len(worker.views.published) == 1
    assert {v["customer_id"]: v["position"] for v in worker.views.views()} == {"ana": 2, "bob": 3}
    assert {c: v["version"] for c, v in worker.store.tables.views.items()} == {"ana": 2, "bob": 1}
    assert await worker.store.stored_offsets(GROUP, TOPIC) == {0: 2, 1: 1}
    assert len(worker.store.tables.timeline) == 3


async def test_a_redelivered_batch_applies_nothing_and_publishes_nothing(worker: Worker) -> None:
    batch = {0: records(record("ana", 1), record("ana", 2))}
    await worker.project(batch)
    stored = worker.store.tables.views["ana"]

    again = await worker.project(batch)

    assert (again.applied, again.views, again.duplicates) == (0, 0, 2)
    assert len(worker.views.published) == 1
    assert worker.store.tables.views["ana"] == stored


async def test_an_erasure_deletes_the_view_and_publishes_a_tombstone(worker: Worker) -> None:
    await worker.project({0: records(record("ana", 1))})

    outcome = await worker.project({0: records(record("ana", 2, "erased"), first_offset=1)})
    late = await worker.project({0: records(record("ana", 3), first_offset=2)})

    assert outcome.erased == 1 and worker.views.tombstones == [["ana"]]
    assert "ana" not in worker.store.tables.views and worker.store.tables.timeline == {}
    assert late.applied == 0 and len(worker.views.published) == 1  # forgotten for good: nothing comes back


async def test_a_failed_transaction_publishes_nothing_and_the_retry_does(worker: Worker) -> None:
    batch = {0: records(record("ana", 1))}
    worker.store.fail_next_commit = True

    with pytest.raises(ConnectionError):
        await worker.project(batch)

    assert worker.views.published == [] and worker.store.tables.views == {}
    assert await worker.store.stored_offsets(GROUP, TOPIC) == {}
    retried = await worker.project(batch)
    assert retried.applied == 1 and [v["customer_id"] for v in worker.views.views()] == ["ana"]


async def test_undecodable_records_are_counted_and_skipped(worker: Worker) -> None:
    batch = {0: [FakeRecord(0, b"{not json"), FakeRecord(1, None), *records(record("ana", 1), first_offset=2)]}

    outcome = await worker.project(batch)

    assert (outcome.undecodable, outcome.applied, outcome.views) == (2, 1, 1)
    assert await worker.store.stored_offsets(GROUP, TOPIC) == {0: 3}  # past the bad records, never stuck on them


async def test_a_members_changed_view_rolls_up_into_the_account(worker: Worker) -> None:
    joined = record("ana", 1, "membership", account_id="a-1", role="decision_maker", member=True)
    await worker.project({0: records(joined)})

    outcome = await worker.project({0: records(record("ana", 2, sentiment=-0.9, kind="complaint"), first_offset=1)})

    assert outcome.accounts == 1
    (first,), (second,) = worker.accounts.published
    assert first["account_id"] == second["account_id"] == "a-1"
    assert [m["customer_id"] for m in second["members"]] == ["ana"] and second["position"] == 2
    assert worker.store.tables.accounts["a-1"][1:] == (2, 2)  # the second revision, marked published


async def test_views_committed_but_never_published_go_out_at_the_next_start(worker: Worker) -> None:
    await worker.project({0: records(record("ana", 1))})
    await worker.project.flush_marks()
    worker.views.down = True
    with pytest.raises(ConnectionError):
        await worker.project({0: records(record("bob", 2), first_offset=1)})
    worker.views.down = False

    republished = await republish_pending(worker.store, worker.views, worker.accounts)

    assert republished == 1 and [v["customer_id"] for v in worker.views.views()] == ["ana", "bob"]
    assert await republish_pending(worker.store, worker.views, worker.accounts) == 0


async def test_a_state_cache_changes_nothing_but_the_reads() -> None:
    cached, plain, cache = Worker(), Worker(), StateCache(10)
    cached.project = ProjectBatch(cached.store, cached.views, FoldRules(), GROUP, TOPIC, state_cache=cache)
    batches = [{0: records(record("ana", p, minutes=p), first_offset=p)} for p in (1, 2, 3)]

    for batch in batches:
        await cached.project(batch)
        await plain.project(batch)

    assert cached.views.views() == plain.views.views()
    assert cached.store.tables.states == plain.store.tables.states
    assert cache.hits == 2


async def test_an_older_event_arriving_after_newer_ones_still_counts_once(worker: Worker) -> None:
    # The broker lost event 3 before it was read; the relay sent event 4 first, then the whole store again.
    first, lost, newer = [record("ana", 1), record("ana", 2)], record("ana", 3), record("ana", 4, minutes=9)
    await worker.project({0: records(*first)})
    await worker.project({0: records(newer, first_offset=0)})
    await worker.project({0: records(*first, lost, newer, first_offset=1)})

    view = worker.store.tables.views["ana"]
    assert (view["version"], view["position"], view["experience"]["touchpoints"]) == (4, 4, 4)
    assert len(worker.store.tables.timeline) == 4
