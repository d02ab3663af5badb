"""What appending a batch decides: which events are new, which are duplicates, and each new one's sequence."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A validated event on its way into the store; `envelope` is the CloudEvent as JSON-ready data."""

    event_id: str
    customer_id: str
    type: str
    source: str
    occurred_at: datetime
    envelope: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Numbered:
    """A new event with its 1-based place among its customer's events."""

    event: NewEvent
    sequence: int


@dataclass(frozen=True, slots=True)
class AppendPlan:
    new: list[Numbered]
    duplicates: list[str]  # in batch order; an id repeated inside the batch counts once as new


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What the caller is told: ids stored now, ids already known, and the highest position of the batch."""

    accepted: list[str]
    duplicates: list[str]
    position: int


def plan_append(
    batch: Sequence[NewEvent], stored_ids: Mapping[str, int], last_sequences: Mapping[str, int]
) -> AppendPlan:
    """Number the events not stored yet, per customer, continuing after each customer's last sequence."""
    seen: set[str] = set()
    next_sequence = dict(last_sequences)
    new: list[Numbered] = []
    duplicates: list[str] = []
    for event in batch:
        if event.event_id in stored_ids or event.event_id in seen:
            duplicates.append(event.event_id)
            continue
        seen.add(event.event_id)
        sequence = next_sequence.get(event.customer_id, 0) + 1
        next_sequence[event.customer_id] = sequence
        new.append(Numbered(event, sequence))
    return AppendPlan(new=new, duplicates=duplicates)


def batch_position(batch: Sequence[NewEvent], stored_ids: Mapping[str, int], new_positions: Mapping[str, int]) -> int:
    """The highest position among the batch's events, counting duplicates at the position they already hold."""
    positions = (new_positions.get(e.event_id) or stored_ids.get(e.event_id) or 0 for e in batch)
    return max(positions, default=0)
