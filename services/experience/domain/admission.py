"""Decide a batch in order: duplicates, identity resolution, links, erasures, refusals and sequence numbers.

Everything the decision needs from the store is read once per batch (`Known`), under the append lock; each
event then sees the effect of the ones before it in the same batch (a link made at index 2 resolves a
touchpoint at index 5; an erasure at index 3 refuses the customer's events after it).

A link to an identity already linked to someone else is refused, not moved: a typo upstream would otherwise
route one person's touchpoints to another. Moving is an explicit unlink then link (the same batch may hold both).
"""

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from typing import Any

from contracts.event_types import CUSTOMER_ERASED, IDENTITY_LINKED, IDENTITY_UNLINKED, TOUCHPOINT_RECORDED
from services.experience.domain.append import NewEvent, Numbered, Refusal
from services.experience.domain.identities import IdentityKey

UNKNOWN_IDENTITY = "unknown_identity"
IDENTITY_MISMATCH = "identity_mismatch"
IDENTITY_TAKEN = "identity_taken"
IDENTITY_NOT_LINKED = "identity_not_linked"
CUSTOMER_ERASED_REASON = "customer_erased"


@dataclass(frozen=True, slots=True)
class Known:
    """What the store holds about one batch's event ids, identities and customers."""

    stored_ids: Mapping[str, int] = field(default_factory=dict)
    links: Mapping[IdentityKey, str] = field(default_factory=dict)
    last_sequences: Mapping[str, int] = field(default_factory=dict)
    erased: Set[str] = frozenset()


@dataclass(frozen=True, slots=True)
class LinkChange:
    """The last word of a batch on one identity: linked to `customer_id`, or unlinked (None), by `event_id`."""

    customer_id: str | None
    event_id: str


@dataclass(frozen=True, slots=True)
class AppendPlan:
    new: list[Numbered]
    duplicates: list[str]  # in batch order; an id repeated inside the batch counts once as new
    refusals: list[Refusal]
    links: dict[IdentityKey, LinkChange]
    erasures: dict[str, str]  # customer erased by this batch -> the erasure event's id


def plan_append(batch: Sequence[NewEvent], known: Known) -> AppendPlan:
    return _Planner(known).plan(batch)


def resolved(event: NewEvent, customer_id: str) -> NewEvent:
    """The touchpoint as stored once its identity is resolved: customer id in data and subject."""
    if event.customer_id == customer_id:
        return event
    envelope: dict[str, Any] = dict(event.envelope)
    envelope["data"] = {**envelope["data"], "customer_id": customer_id}
    envelope["subject"] = customer_id
    return replace(event, customer_id=customer_id, envelope=envelope)


def _identity_words(identity: IdentityKey) -> str:
    return "loyalty card" if identity.kind == "loyalty_card" else identity.kind


class _Planner:
    def __init__(self, known: Known) -> None:
        self._stored = known.stored_ids
        self._links = dict(known.links)
        self._erased = set(known.erased)
        self._next_sequence = dict(known.last_sequences)
        self._seen: set[str] = set()
        self._plan = AppendPlan(new=[], duplicates=[], refusals=[], links={}, erasures={})

    def plan(self, batch: Sequence[NewEvent]) -> AppendPlan:
        for index, event in enumerate(batch):
            if event.event_id in self._stored or event.event_id in self._seen:
                self._plan.duplicates.append(event.event_id)
                continue
            outcome = self._admit(index, event)
            if isinstance(outcome, Refusal):
                self._plan.refusals.append(outcome)
            else:
                self._seen.add(event.event_id)
                self._plan.new.append(outcome)
        return self._plan

    def _admit(self, index: int, event: NewEvent) -> Numbered | Refusal:
        customer = event.customer_id
        if event.type == TOUCHPOINT_RECORDED and event.identity is not None:
            found = self._resolve(index, event.identity, customer)
            if isinstance(found, Refusal):
                return found
            customer, event = found, resolved(event, found)
        assert customer is not None, "only a touchpoint may name its customer by identity"
        if customer in self._erased:
            return Refusal(index, "data.customer_id", CUSTOMER_ERASED_REASON, f"customer {customer!r} was erased")
        refusal = self._apply(index, event, customer)
        if refusal is not None:
            return refusal
        sequence = self._next_sequence.get(customer, 0) + 1
        self._next_sequence[customer] = sequence
        return Numbered(event, customer, sequence)

    def _resolve(self, index: int, identity: IdentityKey, named: str | None) -> str | Refusal:
        linked = self._links.get(identity)
        words = _identity_words(identity)
        if linked is None:
            message = (
                f"no customer is linked to this {words}; link it first (cx.identity.linked.v1) or send customer_id"
            )
            return Refusal(index, "data.identity", UNKNOWN_IDENTITY, message)
        if named is not None and named != linked:
            message = f"this {words} is linked to another customer than data.customer_id {named!r}"
            return Refusal(index, "data.identity", IDENTITY_MISMATCH, message)
        return linked

    def _apply(self, index: int, event: NewEvent, customer: str) -> Refusal | None:
        """The effect of a link, unlink or erasure on the batch's working state; a refusal if it cannot be."""
        identity = event.identity
        if event.type == IDENTITY_LINKED and identity is not None:
            if self._links.get(identity, customer) != customer:
                message = (
                    f"this {_identity_words(identity)} is already linked to another customer; unlink it there first"
                )
                return Refusal(index, "data.identity", IDENTITY_TAKEN, message)
            self._link(identity, customer, event.event_id)
        elif event.type == IDENTITY_UNLINKED and identity is not None:
            if self._links.get(identity) != customer:
                message = f"this {_identity_words(identity)} is not linked to customer {customer!r}"
                return Refusal(index, "data.identity", IDENTITY_NOT_LINKED, message)
            self._link(identity, None, event.event_id)
        elif event.type == CUSTOMER_ERASED:
            self._erase(customer, event.event_id)
        return None

    def _link(self, identity: IdentityKey, customer: str | None, event_id: str) -> None:
        if customer is None:
            self._links.pop(identity, None)
        else:
            self._links[identity] = customer
        self._plan.links[identity] = LinkChange(customer, event_id)

    def _erase(self, customer: str, event_id: str) -> None:
        # The store deletes every link of the customer; forget the ones this batch knows of, so a later
        # touchpoint naming one of them is an unknown identity, as it will be in every later batch.
        for identity in [i for i, c in self._links.items() if c == customer]:
            del self._links[identity]
        self._erased.add(customer)
        self._plan.erasures[customer] = event_id
