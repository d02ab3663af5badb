"""What appending a batch decides: which events are new, which are duplicates, and each new one's sequence.

The deciding itself (identities, erasure) lives in `admission`; this module holds the shapes it works on.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.experience.domain.identities import IdentityKey


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A validated event on its way into the store; `envelope` is the CloudEvent as JSON-ready data.

    `customer_id` is None only for a touchpoint that names its customer by `identity`; the append resolves it.
    `identity` is the hashed identity a link/unlink is about, or the one a touchpoint names.
    """

    event_id: str
    customer_id: str | None
    type: str
    source: str
    occurred_at: datetime
    envelope: Mapping[str, Any]
    identity: IdentityKey | None = None


@dataclass(frozen=True, slots=True)
class Numbered:
    """A new event, its customer resolved, with its 1-based place among its customer's events."""

    event: NewEvent
    customer_id: str
    sequence: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why one event of a batch cannot be stored; `reason` is the dead-letter reason, `path` the field."""

    index: int
    path: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Erasure:
    """What erasing one customer did: how many stored events lost personal fields, how many links went."""

    customer_id: str
    redacted_events: int
    identities_removed: int


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What the caller is told: ids stored now, ids already known, the highest position of the batch,
    the events refused (nothing was stored if the append was all or nothing) and the erasures done."""

    accepted: list[str]
    duplicates: list[str]
    position: int
    refusals: list[Refusal] = field(default_factory=list)
    erasures: list[Erasure] = field(default_factory=list)
    # Each customer's highest position in the batch: what `?min_position=` should wait for when reading that
    # customer's view (the batch's highest position may belong to another customer, on another partition).
    customers: dict[str, int] = field(default_factory=dict)


def customer_positions(
    new: Iterable[Numbered], new_positions: Mapping[str, int], events: Iterable[NewEvent],
    duplicates: Iterable[str], stored_ids: Mapping[str, int],
) -> dict[str, int]:  # fmt: skip
    """The highest position per customer among the batch's new events and the duplicates naming their customer
    (a duplicate named by identity alone is left out: its customer is not looked up again)."""
    highest: dict[str, int] = {}
    again = set(duplicates)
    pairs = [(n.customer_id, new_positions.get(n.event.event_id, 0)) for n in new]
    pairs += [(e.customer_id, stored_ids.get(e.event_id, 0)) for e in events if e.event_id in again and e.customer_id]
    for customer_id, position in pairs:
        if customer_id is not None and position > highest.get(customer_id, 0):
            highest[customer_id] = position
    return highest


def batch_position(event_ids: Iterable[str], stored_ids: Mapping[str, int], new_positions: Mapping[str, int]) -> int:
    """The highest position among the batch's events, counting duplicates at the position they already hold."""
    positions = (new_positions.get(e) or stored_ids.get(e) or 0 for e in event_ids)
    return max(positions, default=0)
