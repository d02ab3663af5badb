"""What every ViewReader answers about projected customers and accounts; run against the fake and PostgreSQL.

Subclasses provide a `reader` and a `seed` fixture: `seed` puts what the projection makes of some canonical
records where that reader reads. Ids are random, so a database that other tests share answers these too.
"""

import uuid
from datetime import datetime
from typing import Any, Protocol

from services.projection.adapters.ports import TimelineFilter, ViewReader

from .factories import record

Batch = dict[int, list[dict[str, Any]]]  # partition of cx.events.v1 -> its records, in offset order
AT_20, AT_40 = datetime.fromisoformat("2025-01-01T00:20:00+00:00"), datetime.fromisoformat("2025-01-01T00:40:00+00:00")


class Seed(Protocol):
    async def __call__(self, batch: Batch) -> None:
        """Project `batch` (one consumed batch) into what the reader under test reads."""


def new_id(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def cursor_of(entry: dict[str, Any]) -> tuple[datetime, int]:
    """Where the page after `entry` starts, as the API's cursor carries it."""
    return datetime.fromisoformat(entry["time"]), entry["position"]


async def pages(
    reader: ViewReader, customer_id: str, limit: int = 100, filters: TimelineFilter | None = None
) -> list[list[int]]:
    """Every page of the timeline as positions, each page starting after the last entry of the one before."""
    found, before = [], None
    while True:
        page = await reader.timeline(customer_id, before, limit, filters)
        found.append([entry["position"] for entry in page])
        if len(page) < limit:
            return found
        before = cursor_of(page[-1])


async def seed_timeline(seed: Seed) -> str:
    """A customer with seven touchpoints (two at the same time) and someone else's in between."""
    ana, other = new_id(), new_id()
    await seed({0: [
        record(ana, 1, minutes=0, channel="store", kind="purchase", sentiment=0.9),  # positive
        record(ana, 2, minutes=10, channel="web", kind="visit", sentiment=-0.8),  # negative
        record(ana, 3, minutes=20, channel="web", kind="complaint", sentiment=-0.9),  # negative
        record(ana, 4, minutes=20, channel="app", kind="complaint"),  # neutral, at the same time as 3
        record(other, 5, minutes=25, channel="web", kind="complaint", sentiment=-0.9),
        record(ana, 6, minutes=30, channel="web", kind="purchase", sentiment=0.5),  # positive
        record(ana, 7, minutes=40, channel="phone", kind="support_case", sentiment=-0.5),  # negative
        record(ana, 8, minutes=50, channel="web", kind="complaint", sentiment=0.1),  # neutral
    ]})  # fmt: skip
    return ana


class ViewReaderContract:
    async def test_a_projected_view_reads_back(self, reader: ViewReader, seed: Seed) -> None:
        ana = new_id()
        await seed({0: [
            record(ana, 1, "preference", preferences={"channel": "email"}),
            record(ana, 2, minutes=5, sentiment=0.8),
        ]})  # fmt: skip

        view = await reader.get_view(ana)

        assert view is not None
        assert (view["customer_id"], view["version"], view["position"]) == (ana, 2, 2)
        assert view["preferences"]["channel"]["value"] == "email"
        assert view["experience"]["positive"] == 1
        assert await reader.get_view(new_id()) is None

    async def test_a_view_has_applied_its_own_position(self, reader: ViewReader, seed: Seed) -> None:
        ana = new_id()
        await seed({0: [record(ana, 1), record(ana, 2)]})

        assert await reader.get_view_applied(ana, 2) == (await reader.get_view(ana), True)
        assert (await reader.get_view_applied(ana, 3))[1] is False
        assert await reader.get_view_applied(new_id(), 1) == (None, False)

    async def test_a_later_position_on_the_customers_partition_counts_as_applied(
        self, reader: ViewReader, seed: Seed
    ) -> None:
        ana, bob, carol = new_id(), new_id(), new_id()
        # One batch: ana's partition carried bob's position 2 after hers; carol's went on to 3 elsewhere.
        await seed({0: [record(ana, 1), record(bob, 2)], 1: [record(carol, 3)]})

        view, applied = await reader.get_view_applied(ana, 2)
        assert view is not None and view["position"] == 1 and applied is True
        assert (await reader.get_view_applied(ana, 3))[1] is False  # another partition's progress vouches for nothing

    async def test_the_timeline_is_newest_first_and_pages_without_gaps(self, reader: ViewReader, seed: Seed) -> None:
        ana = await seed_timeline(seed)

        assert await pages(reader, ana) == [[8, 7, 6, 4, 3, 2, 1]]
        # 4 and 3 share a time: the position tells them apart, so a page boundary between them loses neither
        assert await pages(reader, ana, limit=2) == [[8, 7], [6, 4], [3, 2], [1]]
        assert await pages(reader, ana, limit=4) == [[8, 7, 6, 4], [3, 2, 1]]
        assert await reader.timeline(new_id(), None, 10) == []

    async def test_a_timeline_entry_says_what_happened(self, reader: ViewReader, seed: Seed) -> None:
        ana = new_id()
        touchpoint = record(ana, 1, minutes=5, channel="web", kind="complaint", sentiment=-0.7, emotion="frustrated")
        await seed({0: [touchpoint]})

        (entry,) = await reader.timeline(ana, None, 10)

        assert entry["event_id"] == touchpoint["id"]
        assert (entry["channel"], entry["kind"], entry["sentiment"], entry["emotion"]) == (
            "web", "complaint", -0.7, "frustrated"
        )  # fmt: skip
        assert cursor_of(entry) == (datetime.fromisoformat(touchpoint["time"]), 1)

    async def test_filters_narrow_the_timeline_and_its_pages(self, reader: ViewReader, seed: Seed) -> None:
        ana = await seed_timeline(seed)

        assert await pages(reader, ana, filters=TimelineFilter(channel="web")) == [[8, 6, 3, 2]]
        assert await pages(reader, ana, filters=TimelineFilter(kind="complaint")) == [[8, 4, 3]]
        assert await pages(reader, ana, filters=TimelineFilter(feeling="negative")) == [[7, 3, 2]]
        assert await pages(reader, ana, filters=TimelineFilter(feeling="neutral")) == [[8, 4]]
        assert await pages(reader, ana, filters=TimelineFilter(channel="web", feeling="negative")) == [[3, 2]]
        assert await pages(reader, ana, filters=TimelineFilter(channel="chat")) == [[]]
        # since is inclusive, until exclusive
        assert await pages(reader, ana, filters=TimelineFilter(since=AT_20, until=AT_40)) == [[6, 4, 3]]
        assert await pages(reader, ana, filters=TimelineFilter(since=AT_40)) == [[8, 7]]
        assert await pages(reader, ana, limit=1, filters=TimelineFilter(kind="complaint")) == [[8], [4], [3], []]

    async def test_an_account_shows_its_buying_team(self, reader: ViewReader, seed: Seed) -> None:
        ana, bob, account = new_id(), new_id(), new_id("a")
        await seed({0: [
            record(ana, 1), record(bob, 2, sentiment=-0.6),
            record(ana, 3, "membership", account_id=account, role="decision_maker", member=True),
            record(bob, 4, "membership", account_id=account, role="purchasing", member=True),
        ]})  # fmt: skip

        view = await reader.get_account(account)

        assert view is not None and view["account_id"] == account
        assert {(m["customer_id"], m["role"]) for m in view["members"]} == {
            (ana, "decision_maker"),
            (bob, "purchasing"),
        }
        assert await reader.get_account(new_id("a")) is None

    async def test_an_erased_customer_is_gone_and_known_to_be(self, reader: ViewReader, seed: Seed) -> None:
        ana, bob = new_id(), new_id()
        await seed({0: [record(ana, 1), record(bob, 2)]})
        await seed({0: [record(ana, 3, "erased")]})

        assert await reader.get_view(ana) is None
        assert await reader.get_view_applied(ana, 1) == (None, False)
        assert await reader.timeline(ana, None, 10) == []
        assert await reader.is_erased(ana) is True
        assert await reader.is_erased(bob) is False
        assert await reader.get_view(bob) is not None

    async def test_a_reachable_store_answers_a_ping(self, reader: ViewReader) -> None:
        await reader.ping()  # readiness: raises only when storage cannot be reached
