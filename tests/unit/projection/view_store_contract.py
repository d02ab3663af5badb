"""What every ViewStore and its BatchTransaction must do; run against the fake and against PostgreSQL.

Subclasses provide a `store` fixture. Ids are random, so a store that other tests share answers these too.
"""

import uuid
from typing import Any

import orjson
import pytest

from services.projection.adapters.documents import compress, encode_state
from services.projection.adapters.ports import ViewRows, ViewStore
from services.projection.adapters.state_cache import StateCache
from services.projection.domain import CustomerState, FoldRules, fold, render_view

from .factories import event


class Bang(Exception):
    """Raised inside a transaction block to make it roll back."""


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def rows_of(customer_id: str, positions: range) -> tuple[ViewRows, dict[str, Any]]:
    """The stored row of a customer with one touchpoint at each position, and the view it holds."""
    state = CustomerState(customer_id)
    fold(state, [event(customer_id, p, minutes=p) for p in positions], FoldRules())
    view = render_view(state, FoldRules())
    rows = ViewRows()
    rows.add(customer_id, state.version, state.position, view["updated_at"], compress(orjson.dumps(view)),
             encode_state(state), 0)  # fmt: skip
    return rows, view


async def unpublished(store: ViewStore, *customer_ids: str) -> dict[str, int]:
    """Customer id -> the position of their view waiting for the view topic, among `customer_ids`."""
    async with store.transaction() as tx:
        return {
            v["customer_id"]: v["position"]
            for v in await tx.lock_unpublished(10_000)
            if v["customer_id"] in customer_ids
        }


async def save_member(
    store: ViewStore, account_id: str, customer_id: str, role: str, position: int, versions: range
) -> None:
    """The customer's view at `versions`, and their membership of the account as of `position`, in one commit."""
    async with store.transaction() as tx:
        await tx.save_views(rows_of(customer_id, versions)[0])
        await tx.save_memberships([
            {"account_id": account_id, "customer_id": customer_id, "role": role, "member": True, "position": position}
        ])  # fmt: skip


class ViewStoreContract:
    async def test_saved_views_and_states_read_back(self, store: ViewStore) -> None:
        ana = new_id("c")
        rows, view = rows_of(ana, range(1, 4))
        async with store.transaction() as tx:
            await tx.save_views(rows)

        async with store.transaction() as tx:
            states = await tx.load_states([ana, new_id("c")])
            cached, _ = await tx.load_states_through([ana], StateCache(10))

        assert list(states) == [ana] and (states[ana].position, states[ana].version) == (3, 3)
        assert cached[ana].position == 3
        assert render_view(states[ana], FoldRules()) == view
        assert await unpublished(store, ana) == {ana: 3}

    async def test_an_older_view_never_replaces_a_newer_one(self, store: ViewStore) -> None:
        ana = new_id("c")
        async with store.transaction() as tx:
            await tx.save_views(rows_of(ana, range(1, 6))[0])
        async with store.transaction() as tx:
            await tx.save_views(rows_of(ana, range(1, 3))[0])

        async with store.transaction() as tx:
            assert (await tx.load_states([ana]))[ana].position == 5

    async def test_offsets_are_saved_and_read_per_group_and_topic(self, store: ViewStore) -> None:
        group, topic = new_id("g"), new_id("t")
        async with store.transaction() as tx:
            await tx.save_offsets(group, topic, {0: 5, 1: 7}, {0: 3})
        async with store.transaction() as tx:
            await tx.save_offsets(group, topic, {1: 2}, {1: 1})  # lower after a broker lost its data: still taken

        assert await store.stored_offsets(group, topic) == {0: 5, 1: 2}
        assert await store.stored_offsets(new_id("g"), topic) == {}

    async def test_each_partitions_last_position_is_kept_with_its_offset_when_known(self, store: ViewStore) -> None:
        group, topic = new_id("g"), new_id("t")
        async with store.transaction() as tx:
            await tx.save_offsets(group, topic, {0: 5, 1: 7}, {0: 9, 1: 4}, {0: 9, 1: 4})
        async with store.transaction() as tx:
            # After a broker lost its data, the log is read again: the last record's position goes down too.
            await tx.save_offsets(group, topic, {0: 3, 1: 8}, {0: 2, 1: 6}, {0: 2})

        assert await store.last_positions(group, topic) == {0: 2}  # partition 1's last record was undecodable
        assert await store.stored_offsets(group, topic) == {0: 3, 1: 8}

    async def test_a_transaction_that_raises_leaves_nothing_behind(self, store: ViewStore) -> None:
        ana, group, topic = new_id("c"), new_id("g"), new_id("t")
        with pytest.raises(Bang):
            async with store.transaction() as tx:
                await tx.save_views(rows_of(ana, range(1, 3))[0])
                await tx.save_offsets(group, topic, {0: 2}, {0: 2})
                await tx.erase({new_id("c"): 1})
                raise Bang

        async with store.transaction() as tx:
            assert await tx.load_states([ana]) == {}
        assert await store.stored_offsets(group, topic) == {}
        assert await unpublished(store, ana) == {}

    async def test_erase_removes_the_view_and_records_the_erasure(self, store: ViewStore) -> None:
        ana, bob, account = new_id("c"), new_id("c"), new_id("a")
        await save_member(store, account, ana, "other", 1, range(1, 3))
        async with store.transaction() as tx:
            left = await tx.erase({ana: 3})

        async with store.transaction() as tx:
            assert await tx.erased_among([ana, bob]) == {ana}
            assert await tx.load_states([ana]) == {}
            assert ana in await tx.lock_unpublished_tombstones(10_000)
            members = await tx.load_members([account])
        assert left == {account}
        assert [(m.customer_id, m.member) for m in members[account]] == [(ana, False)]
        assert await unpublished(store, ana) == {}

    async def test_a_published_tombstone_is_no_longer_pending(self, store: ViewStore) -> None:
        ana = new_id("c")
        async with store.transaction() as tx:
            await tx.erase({ana: 1})
        await store.mark_published({}, tombstones=[ana])

        async with store.transaction() as tx:
            assert ana not in await tx.lock_unpublished_tombstones(10_000)

    async def test_a_view_marked_published_is_no_longer_pending(self, store: ViewStore) -> None:
        ana, bob = new_id("c"), new_id("c")
        async with store.transaction() as tx:
            await tx.save_views(rows_of(ana, range(1, 3))[0])
            await tx.save_views(rows_of(bob, range(1, 3))[0])
            await tx.mark_published({ana: 2})
        await store.mark_published({bob: 1})  # an older position than stored: bob's view is still pending

        assert await unpublished(store, ana, bob) == {bob: 2}

    async def test_a_changed_account_view_gets_a_new_revision_until_published(self, store: ViewStore) -> None:
        account = new_id("a")
        first, second = (
            {"account_id": account, "version": 1, "position": 1},
            {"account_id": account, "version": 2, "position": 2},
        )
        async with store.transaction() as tx:
            assert await tx.save_account_views([first]) == {account: 1}
            assert await tx.save_account_views([first]) == {}  # unchanged: nothing worth publishing
            assert await tx.save_account_views([second]) == {account: 2}
        async with store.transaction() as tx:
            assert await tx.lock_accounts_to_publish([account]) == [(second, 2)]
            await tx.mark_accounts_published({account: 2})

        async with store.transaction() as tx:
            assert await tx.lock_accounts_to_publish([account]) == []
            assert account not in [view["account_id"] for view, _ in await tx.lock_unpublished_accounts(10_000)]

    async def test_members_come_with_their_views(self, store: ViewStore) -> None:
        ana, account = new_id("c"), new_id("a")
        await save_member(store, account, ana, "decision_maker", 2, range(1, 4))

        async with store.transaction() as tx:
            (member,) = (await tx.load_members([account]))[account]
        assert (member.customer_id, member.role, member.member, member.membership_position) == (
            ana, "decision_maker", True, 2
        )  # fmt: skip
        assert (member.version, member.position) == (3, 3)
