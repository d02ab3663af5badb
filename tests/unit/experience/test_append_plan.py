"""What an append decides, without a database."""

from datetime import UTC, datetime

from services.experience.domain.append import NewEvent, batch_position, plan_append


def event(event_id: str, customer_id: str) -> NewEvent:
    return NewEvent(event_id, customer_id, "cx.touchpoint.recorded.v1", "urn:t", datetime.now(UTC), {})


def test_new_events_are_numbered_per_customer_after_their_last_sequence() -> None:
    batch = [event("a", "c1"), event("b", "c2"), event("c", "c1")]

    plan = plan_append(batch, stored_ids={}, last_sequences={"c1": 4})

    assert [(n.event.event_id, n.sequence) for n in plan.new] == [("a", 5), ("b", 1), ("c", 6)]
    assert plan.duplicates == []


def test_stored_and_repeated_ids_are_duplicates_and_take_no_sequence() -> None:
    batch = [event("old", "c1"), event("x", "c1"), event("x", "c1"), event("y", "c1")]

    plan = plan_append(batch, stored_ids={"old": 3}, last_sequences={"c1": 1})

    assert [(n.event.event_id, n.sequence) for n in plan.new] == [("x", 2), ("y", 3)]
    assert plan.duplicates == ["old", "x"]


def test_batch_position_counts_duplicates_at_their_stored_position() -> None:
    batch = [event("old", "c1"), event("new", "c2")]

    assert batch_position(batch, stored_ids={"old": 90}, new_positions={"new": 12}) == 90
    assert batch_position(batch, stored_ids={"old": 9}, new_positions={"new": 12}) == 12
