"""What an append decides about duplicates and sequence numbers, without a database."""

from datetime import UTC, datetime

from contracts.event_types import TOUCHPOINT_RECORDED
from services.experience.domain.admission import Known, plan_append
from services.experience.domain.append import NewEvent, batch_position


def event(event_id: str, customer_id: str) -> NewEvent:
    return NewEvent(event_id, customer_id, TOUCHPOINT_RECORDED, "urn:t", datetime.now(UTC), {})


def test_new_events_are_numbered_per_customer_after_their_last_sequence() -> None:
    batch = [event("a", "c1"), event("b", "c2"), event("c", "c1")]

    plan = plan_append(batch, Known(last_sequences={"c1": 4}))

    assert [(n.event.event_id, n.customer_id, n.sequence) for n in plan.new] == [
        ("a", "c1", 5),
        ("b", "c2", 1),
        ("c", "c1", 6),
    ]
    assert plan.duplicates == [] and plan.refusals == []


def test_stored_and_repeated_ids_are_duplicates_and_take_no_sequence() -> None:
    batch = [event("old", "c1"), event("x", "c1"), event("x", "c1"), event("y", "c1")]

    plan = plan_append(batch, Known(stored_ids={"old": 3}, last_sequences={"c1": 1}))

    assert [(n.event.event_id, n.sequence) for n in plan.new] == [("x", 2), ("y", 3)]
    assert plan.duplicates == ["old", "x"]


def test_batch_position_counts_duplicates_at_their_stored_position() -> None:
    assert batch_position(["old", "new"], stored_ids={"old": 90}, new_positions={"new": 12}) == 90
    assert batch_position(["old", "new"], stored_ids={"old": 9}, new_positions={"new": 12}) == 12
