"""What every EventStore must do with identities and erasure; run against the fake and against PostgreSQL.

Subclasses provide a `store` fixture. Most tests drive the store through the append use case, as the service does;
the last ones hold the unit of work itself to its word. Stored documents are inspected through `read_from`, as the
relay sees them.
"""

import asyncio
from typing import Any

import orjson
import pytest

from contracts import parse_event
from contracts.event_types import IDENTITY_LINKED, IDENTITY_UNLINKED, TOUCHPOINT_RECORDED
from services.experience.adapters.migrate import revisions
from services.experience.adapters.ports import EventStore, RelayFencedError
from services.experience.domain.admission import LinkChange
from services.experience.domain.append import AppendResult, Erasure, NewEvent, Numbered
from services.experience.handlers.append_events import append_events
from services.experience.handlers.record_events import to_new_event

from .events import (
    email,
    erasure,
    every_type,
    identity_linked,
    identity_unlinked,
    new_id,
    personal_preference,
    touchpoint,
    touchpoint_by,
)
from .fakes import IDENTITIES


def new(*documents: dict[str, Any]) -> list[NewEvent]:
    return [to_new_event(parse_event(d), IDENTITIES) for d in documents]


async def append(store: EventStore, *documents: dict[str, Any], all_or_nothing: bool = True) -> AppendResult:
    return await append_events(store, new(*documents), all_or_nothing=all_or_nothing)


async def documents(store: EventStore, customer_id: str | None = None) -> list[dict[str, Any]]:
    stored = [orjson.loads(e.document) for e in await store.read_from(0, 100_000)]
    return [d for d in stored if customer_id is None or d["subject"] == customer_id]


class EventStoreContract:
    async def test_every_event_type_is_stored_and_read_back_in_order(self, store: EventStore) -> None:
        customer = new_id("c")
        batch = every_type(customer)

        result = await append(store, *batch)

        assert result.accepted == [e["id"] for e in batch] and result.refusals == []
        stored = await documents(store, customer)
        assert [d["type"] for d in stored] == [e["type"] for e in batch]
        assert [d["sequence"] for d in stored] == list(range(1, 8))

    async def test_an_identity_named_touchpoint_is_stored_as_the_linked_customers(self, store: EventStore) -> None:
        customer, address = new_id("c"), email()
        await append(store, identity_linked(customer, "email", address))

        result = await append(store, touchpoint_by("email", address.upper(), note="asked about sizes"))

        (linked, touched) = await documents(store, customer)
        assert result.accepted == [touched["id"]]
        assert touched["subject"] == touched["data"]["customer_id"] == customer
        assert "identity" not in touched["data"]
        assert linked["data"]["identity"] == IDENTITIES.key_of("email", address).as_stored()
        assert address not in orjson.dumps(await documents(store)).decode()

    async def test_an_unknown_identity_stores_nothing_or_only_the_rest(self, store: EventStore) -> None:
        good, unknown = touchpoint(), touchpoint_by("loyalty_card", new_id("LC"))

        refused = await append(store, good, unknown)
        partial = await append(store, good, unknown, all_or_nothing=False)

        assert refused.accepted == [] and [(r.index, r.reason) for r in refused.refusals] == [(1, "unknown_identity")]
        assert partial.accepted == [good["id"]] and [r.index for r in partial.refusals] == [1]
        assert [d["id"] for d in await documents(store)] == [good["id"]]

    async def test_a_link_in_a_batch_serves_the_touchpoints_after_it(self, store: EventStore) -> None:
        customer, card = new_id("c"), new_id("LC")

        result = await append(
            store, identity_linked(customer, "loyalty_card", card), touchpoint_by("loyalty_card", card)
        )

        assert len(result.accepted) == 2
        assert [d["subject"] for d in await documents(store)] == [customer, customer]

    async def test_an_identity_belongs_to_one_customer_until_unlinked(self, store: EventStore) -> None:
        ana, bob, phone = new_id("c"), new_id("c"), "+34 600 111 222"
        await append(store, identity_linked(ana, "phone", phone), touchpoint_by("phone", phone))

        taken = await append(store, identity_linked(bob, "phone", "+34600111222"))
        await append(store, identity_unlinked(ana, "phone", phone))
        unknown = await append(store, touchpoint_by("phone", phone))
        moved = await append(store, identity_linked(bob, "phone", phone), touchpoint_by("phone", phone))

        assert [r.reason for r in taken.refusals] == ["identity_taken"]
        assert [r.reason for r in unknown.refusals] == ["unknown_identity"]
        assert len(moved.accepted) == 2
        assert [d["type"] for d in await documents(store, ana)] == [
            IDENTITY_LINKED,
            TOUCHPOINT_RECORDED,  # unlinking kept the history
            IDENTITY_UNLINKED,
        ]
        assert [d["type"] for d in await documents(store, bob)][-1] == TOUCHPOINT_RECORDED

    async def test_erasure_redacts_personal_fields_and_keeps_the_facts(self, store: EventStore) -> None:
        ana, bob, address = new_id("c"), new_id("c"), email()
        await append(
            store,
            identity_linked(ana, "email", address),
            touchpoint(ana, note="allergic to nuts", handled_by="Marta", attributes={"size": "M"}, case_id="case-9"),
            personal_preference(ana, "Anita"),
            touchpoint(bob, note="bob's note"),
        )
        before = await documents(store, ana)

        result = await append(store, erasure(ana))

        assert result.erasures == [Erasure(ana, redacted_events=3, identities_removed=1)]
        after = await documents(store, ana)
        text = orjson.dumps(after).decode()
        for personal in ("allergic", "Marta", "size", "Anita", "name_to_use", "value_hash", "note"):
            assert personal not in text
        facts = ("id", "type", "time", "position", "sequence")
        assert [{k: d[k] for k in facts} for d in after[:-1]] == [{k: d[k] for k in facts} for d in before]
        touched = after[1]["data"]
        # The case id is not personal: like the channel, it stays as a fact about a customer no longer named.
        assert touched == {
            "customer_id": ana,
            "channel": "store",
            "kind": "purchase",
            "sentiment": 0.5,
            "case_id": "case-9",
        }
        assert after[2]["data"]["preferences"] == {"channel": "email"}
        assert [d.get("redacted") for d in after] == [True, True, True, None]
        assert (await documents(store, bob))[0]["data"]["note"] == "bob's note"

    async def test_after_erasure_the_customer_and_their_identities_are_refused(self, store: EventStore) -> None:
        customer, address = new_id("c"), email()
        await append(store, identity_linked(customer, "email", address), erasure(customer))

        later = await append(store, touchpoint(customer), touchpoint_by("email", address), erasure(customer))

        assert [(r.index, r.path, r.reason) for r in later.refusals] == [
            (0, "data.customer_id", "customer_erased"),
            (1, "data.identity", "unknown_identity"),
            (2, "data.customer_id", "customer_erased"),
        ]
        assert len(await documents(store, customer)) == 2

    async def test_the_relay_backlog_is_what_was_stored_after_its_checkpoint(self, store: EventStore) -> None:
        await append(store, touchpoint(), touchpoint(), touchpoint())
        name = new_id("relay")
        before = await store.relay_backlog(name)
        async with store.leadership(name, "cluster-a") as checkpoint:
            await checkpoint.save((await store.read_from(0, 10))[1].position)

        assert (before, await store.relay_backlog(name)) == (3, 1)

    async def test_the_schema_is_at_the_head_this_code_ships(self, store: EventStore) -> None:
        assert await store.schema_version() == revisions()[0]

    async def test_a_traceparent_handed_over_with_the_event_is_kept_for_the_relay(self, store: EventStore) -> None:
        traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        await append_events(store, [to_new_event(parse_event(touchpoint()), IDENTITIES, traceparent)])

        (stored,) = await store.read_from(0, 10)

        assert stored.traceparent == traceparent
        assert orjson.loads(stored.document)["traceparent"] == traceparent

    async def test_the_unit_of_work_reads_what_earlier_batches_stored(self, store: EventStore) -> None:
        customer, address = new_id("c"), email()
        linked, erased = identity_linked(customer, "email", address), new_id("c")
        await append(store, linked, touchpoint(customer), touchpoint(erased), erasure(erased))
        asked = new(touchpoint_by("email", address), touchpoint(erased))

        async with store.appending() as batch:
            known = await batch.known([*new(linked), *asked])

        assert dict(known.stored_ids) == {linked["id"]: (await documents(store, customer))[0]["position"]}
        assert dict(known.links) == {IDENTITIES.key_of("email", address): customer}
        assert dict(known.last_sequences) == {customer: 2, erased: 2}
        assert set(known.erased) == {erased}

    async def test_a_unit_of_work_that_fails_stores_nothing(self, store: EventStore) -> None:
        customer, address = new_id("c"), email()
        (linked,) = new(identity_linked(customer, "email", address))
        head = await store.head()

        with pytest.raises(RuntimeError, match="the batch failed"):
            async with store.appending() as batch:
                positions = await batch.insert([Numbered(linked, customer, 1)])
                await batch.save_links({IDENTITIES.key_of("email", address): LinkChange(customer, linked.event_id)})
                assert list(positions) == [linked.event_id]
                raise RuntimeError("the batch failed")

        assert await store.head() == head and await documents(store, customer) == []
        async with store.appending() as batch:
            known = await batch.known([linked])
        assert (dict(known.stored_ids), dict(known.links)) == ({}, {})

    async def test_a_checkpoint_belongs_to_the_kafka_cluster_that_led_it_first(self, store: EventStore) -> None:
        name = new_id("relay")
        async with store.leadership(name, "cluster-a") as checkpoint:
            await checkpoint.save(7)

        with pytest.raises(RelayFencedError) as fenced:
            async with store.leadership(name, "cluster-b"):
                pass  # pragma: no cover - never reached

        assert (fenced.value.cluster_id, fenced.value.owner) == ("cluster-b", "cluster-a")
        async with store.leadership(name, "cluster-a") as checkpoint:
            assert await checkpoint.load() == 7

    async def test_a_leader_hears_of_every_append(self, store: EventStore) -> None:
        # The wake-up comes through the store (NOTIFY at commit in PostgreSQL), so a leader hears of another
        # replica's appends too, not only of what its own process hands it.
        wake = asyncio.Event()
        first = touchpoint()
        async with store.leadership(new_id("relay"), "cluster-a", wake):
            await append(store, first)
            await asyncio.wait_for(wake.wait(), timeout=30)

            wake.clear()  # as the relay does before each read
            await append(store, touchpoint())
            await asyncio.wait_for(wake.wait(), timeout=30)
