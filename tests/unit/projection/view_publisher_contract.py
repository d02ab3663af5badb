"""What a subscriber of a view topic sees once a ViewPublisher has published; run against the fake and a broker.

Subclasses provide a `topic` fixture: a fresh compacted topic, publishers onto it, and a subscriber's reading of
it as compaction leaves it (the last record per key). Ids are random, so a shared broker answers these too.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from contracts.canonical import HEADER_TRACEPARENT
from services.projection.adapters.ports import ViewPublisher
from services.projection.domain import CustomerState, FoldRules, fold, render_view

from .factories import event

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
PERSONAL = {"name_to_use": "Ana", "accessibility": "large print", "loyalty_nickname": "Anita"}  # the last: an extra
SHARED = {"channel": "email", "tone": "warm"}


@dataclass(frozen=True)
class Seen:
    """One record as a subscriber reads it: the value (None: a tombstone) and its headers."""

    value: bytes | None
    headers: dict[str, bytes] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        assert self.value is not None, "a tombstone, not a view"
        document: dict[str, Any] = orjson.loads(self.value)
        return document


class Topic(Protocol):
    def publisher(self, personal_data: bool = False) -> ViewPublisher:
        """A publisher onto this topic; `personal_data` as the deployment setting of that name."""

    async def latest(self, records: int) -> dict[str, Seen]:
        """The last record per key, once the topic holds `records` records in all."""


def new_id() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


def view_of(customer_id: str, touchpoints: int = 1, preferences: dict[str, str] | None = None) -> dict[str, Any]:
    """The customer's view after their stated `preferences` (if any) and `touchpoints` touchpoints; event ids are
    random, so two calls give two different views."""
    events = [event(customer_id, 1, "preference", preferences=preferences)] if preferences else []
    events += [event(customer_id, len(events) + n, minutes=n) for n in range(1, touchpoints + 1)]
    state = CustomerState(customer_id)
    fold(state, events, FoldRules())
    return render_view(state, FoldRules())


class ViewPublisherContract:
    async def test_a_subscriber_sees_the_latest_view_of_each_key(self, topic: Topic) -> None:
        ana, bob = new_id(), new_id()
        latest_of_ana, bobs = view_of(ana, 3), view_of(bob, 1)
        publisher = topic.publisher()
        await publisher.publish([view_of(ana, 1), bobs])
        await publisher.publish([latest_of_ana])

        seen = await topic.latest(3)

        assert set(seen) == {ana, bob}
        assert seen[ana].view() == latest_of_ana
        assert seen[bob].view() == bobs

    async def test_a_view_carries_the_traceparent_given_for_its_key(self, topic: Topic) -> None:
        ana, bob = new_id(), new_id()
        await topic.publisher().publish([view_of(ana), view_of(bob)], traceparents={ana: TRACEPARENT})

        seen = await topic.latest(2)

        assert seen[ana].headers.get(HEADER_TRACEPARENT) == TRACEPARENT.encode()
        assert HEADER_TRACEPARENT not in seen[bob].headers

    async def test_an_erased_key_ends_in_a_tombstone(self, topic: Topic) -> None:
        ana, bob = new_id(), new_id()
        bobs = view_of(bob)
        publisher = topic.publisher()
        await publisher.publish([view_of(ana), bobs])
        await publisher.publish_tombstones([ana])

        seen = await topic.latest(3)

        assert seen[ana].value is None
        assert seen[bob].view() == bobs

    async def test_personal_fields_stay_off_the_topic_by_default(self, topic: Topic) -> None:
        ana = new_id()
        await topic.publisher().publish([view_of(ana, preferences={**PERSONAL, **SHARED})])

        published = (await topic.latest(1))[ana].view()

        assert set(published["preferences"]) == set(SHARED)
        assert published["version"] == 2

    async def test_a_deployment_may_opt_in_to_the_whole_view(self, topic: Topic) -> None:
        ana = new_id()
        view = view_of(ana, preferences={**PERSONAL, **SHARED})
        await topic.publisher(personal_data=True).publish([view])

        assert (await topic.latest(1))[ana].view() == view

    async def test_the_given_serialised_view_is_the_value_as_it_is(self, topic: Topic) -> None:
        ana = new_id()
        view = view_of(ana, 2, preferences=SHARED)
        serialised = orjson.dumps(view, option=orjson.OPT_INDENT_2)  # other bytes than the publisher would make
        await topic.publisher().publish([view], serialised=[serialised])

        assert (await topic.latest(1))[ana].value == serialised

    async def test_a_serialised_view_with_personal_fields_is_still_redacted(self, topic: Topic) -> None:
        ana = new_id()
        view = view_of(ana, preferences={**PERSONAL, **SHARED})
        await topic.publisher().publish([view], serialised=[orjson.dumps(view)])

        assert set((await topic.latest(1))[ana].view()["preferences"]) == set(SHARED)
