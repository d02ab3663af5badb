"""How a batch is decided in order: identities resolved, links kept one customer each, erased customers refused."""

from dataclasses import replace
from datetime import UTC, datetime

from contracts.event_types import CUSTOMER_ERASED, IDENTITY_LINKED, IDENTITY_UNLINKED, TOUCHPOINT_RECORDED
from services.experience.domain.admission import Known, LinkChange, plan_append
from services.experience.domain.append import NewEvent
from services.experience.domain.identities import IdentityKey

EMAIL = IdentityKey("email", "h-ana")
CARD = IdentityKey("loyalty_card", "h-card")


def event(event_id: str, type_: str, customer: str | None, identity: IdentityKey | None = None) -> NewEvent:
    data = {} if customer is None else {"customer_id": customer}
    envelope = {"id": event_id, "type": type_, "data": {**data, "channel": "store"}}
    return NewEvent(event_id, customer, type_, "urn:t", datetime(2025, 1, 1, tzinfo=UTC), envelope, identity)


def touch(event_id: str, customer: str | None = None, identity: IdentityKey | None = None) -> NewEvent:
    return event(event_id, TOUCHPOINT_RECORDED, customer, identity)


def link(event_id: str, customer: str, identity: IdentityKey = EMAIL) -> NewEvent:
    return event(event_id, IDENTITY_LINKED, customer, identity)


def unlink(event_id: str, customer: str, identity: IdentityKey = EMAIL) -> NewEvent:
    return event(event_id, IDENTITY_UNLINKED, customer, identity)


def erase(event_id: str, customer: str) -> NewEvent:
    return event(event_id, CUSTOMER_ERASED, customer)


def test_a_touchpoint_named_by_identity_is_stored_as_its_customers() -> None:
    plan = plan_append([touch("t1", identity=EMAIL)], Known(links={EMAIL: "c-ana"}, last_sequences={"c-ana": 3}))

    (numbered,) = plan.new
    assert (numbered.customer_id, numbered.sequence) == ("c-ana", 4)
    assert numbered.event.envelope["subject"] == "c-ana"
    assert numbered.event.envelope["data"] == {"customer_id": "c-ana", "channel": "store"}


def test_a_link_earlier_in_the_batch_resolves_a_later_touchpoint_and_an_unknown_identity_is_refused() -> None:
    plan = plan_append([touch("t0", identity=CARD), link("l1", "c-ana"), touch("t2", identity=EMAIL)], Known())

    assert [n.event.event_id for n in plan.new] == ["l1", "t2"]
    assert plan.new[1].customer_id == "c-ana"
    (refusal,) = plan.refusals
    assert (refusal.index, refusal.path, refusal.reason) == (0, "data.identity", "unknown_identity")
    assert "no customer is linked to this loyalty card" in refusal.message
    assert plan.links == {EMAIL: LinkChange("c-ana", "l1")}


def test_an_identity_linked_to_someone_else_is_refused_until_unlinked_there() -> None:
    known = Known(links={EMAIL: "c-ana"})

    taken = plan_append([link("l1", "c-bob")], known)
    moved = plan_append([unlink("u1", "c-ana"), link("l2", "c-bob"), link("l3", "c-bob")], known)

    assert [r.reason for r in taken.refusals] == ["identity_taken"] and taken.new == []
    assert moved.refusals == []  # linking again to the same customer is harmless
    assert moved.links == {EMAIL: LinkChange("c-bob", "l3")}


def test_after_an_unlink_the_identity_is_unknown_and_an_unlink_of_nothing_is_refused() -> None:
    plan = plan_append(
        [unlink("u1", "c-ana"), touch("t1", identity=EMAIL), unlink("u2", "c-ana")], Known(links={EMAIL: "c-ana"})
    )

    assert [(r.index, r.reason) for r in plan.refusals] == [(1, "unknown_identity"), (2, "identity_not_linked")]
    assert plan.links == {EMAIL: LinkChange(None, "u1")}


def test_a_touchpoint_naming_both_must_name_the_same_customer() -> None:
    plan = plan_append([touch("t1", "c-bob", EMAIL), touch("t2", "c-ana", EMAIL)], Known(links={EMAIL: "c-ana"}))

    assert [(r.index, r.reason) for r in plan.refusals] == [(0, "identity_mismatch")]
    assert plan.new[0].customer_id == "c-ana"


def test_after_an_erasure_nothing_more_is_accepted_for_the_customer_not_even_by_identity() -> None:
    batch = [touch("t1", "c-ana"), erase("x1", "c-ana"), touch("t2", "c-ana"), touch("t3", identity=EMAIL)]

    plan = plan_append(batch, Known(links={EMAIL: "c-ana"}))

    assert [n.event.event_id for n in plan.new] == ["t1", "x1"]
    assert plan.erasures == {"c-ana": "x1"}
    assert [(r.index, r.path, r.reason) for r in plan.refusals] == [
        (2, "data.customer_id", "customer_erased"),
        (3, "data.identity", "unknown_identity"),
    ]
    assert plan.refusals[0].message == "customer 'c-ana' was erased"


def test_an_erased_customer_is_refused_in_later_batches_but_a_resent_event_is_still_a_duplicate() -> None:
    known = Known(stored_ids={"t1": 7}, erased={"c-ana"})

    plan = plan_append([touch("t1", "c-ana"), touch("t2", "c-ana"), erase("x2", "c-ana")], known)

    assert plan.duplicates == ["t1"]
    assert [r.reason for r in plan.refusals] == ["customer_erased", "customer_erased"]


def test_a_refused_event_leaves_no_trace_in_the_numbering() -> None:
    plan = plan_append([touch("t1", identity=EMAIL), touch("t2", "c-ana"), replace(touch("t1", "c-ana"))], Known())

    assert [(n.event.event_id, n.sequence) for n in plan.new] == [("t2", 1), ("t1", 2)]
