"""Apply a batch of one customer's stored events to their state, exactly once each, whatever the batching."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contracts.event_types import (
    ACCOUNT_MEMBERSHIP_CHANGED,
    CONSENT_CHANGED,
    CUSTOMER_ERASED,
    IDENTITY_LINKED,
    IDENTITY_UNLINKED,
    PREFERENCE_STATED,
    TOUCHPOINT_RECORDED,
)
from services.projection.domain.events import StoredEvent, parse_micros
from services.projection.domain.rules import FoldRules as FoldRules  # re-exported: callers found it here first
from services.projection.domain.state import CustomerState, DecisionState, PreferenceState, keep_candidate
from services.projection.domain.touchpoints import fold_touchpoint


@dataclass(slots=True)
class FoldResult:
    applied: int = 0
    timeline: list[dict[str, Any]] = field(default_factory=list)  # contracts.TimelineEntry documents
    accounts_changed: set[str] = field(default_factory=set)  # accounts whose membership of this customer changed


# How many sequences may wait above a gap: one still open after this many later events will not be filled.
LATER_SEQUENCE_LIMIT = 1000


def fold(state: CustomerState, events: list[StoredEvent], rules: FoldRules) -> FoldResult:
    """Apply, in position order, every event not applied before; re-deliveries are skipped exactly.

    What was applied is told by the customer's sequence (the store numbers each customer's events 1, 2, 3, ...),
    not by position: a partition usually brings a customer's events in position order, but after a broker lost
    its data the relay's re-send can bring an older event after newer ones, and that event must still count.
    The fold is order-independent, so applying it late gives the view it would have had."""
    result = FoldResult()
    for event in sorted(events, key=_position):
        if applied_before(state, event):
            continue
        _apply(state, event, rules, result)
    return result


def applied_before(state: CustomerState, event: StoredEvent) -> bool:
    sequence = event.sequence
    if sequence <= 0:  # a record from before sequences were published: position order is all there is
        return event.position <= state.position
    return sequence <= state.sequence or sequence in state.later_sequences


def _mark_applied(state: CustomerState, sequence: int) -> None:
    if sequence <= 0:
        return
    later = state.later_sequences
    if sequence == state.sequence + 1:
        state.sequence = sequence
    else:
        later.append(sequence)
        later.sort()
        if len(later) > LATER_SEQUENCE_LIMIT:  # give the oldest gap up rather than grow without end
            state.sequence = later.pop(0)
    while later and later[0] <= state.sequence + 1:
        state.sequence = max(state.sequence, later.pop(0))


def _position(event: StoredEvent) -> int:
    return event.position


def _apply(state: CustomerState, event: StoredEvent, rules: FoldRules, result: FoldResult) -> None:
    state.version += 1
    if event.position > state.position:
        state.position = event.position
    _mark_applied(state, event.sequence)
    if state.updated_us is None or event.time_us > state.updated_us:
        state.updated_us = event.time_us
    fold_one = FOLD_BY_TYPE.get(event.type)
    if fold_one is not None:
        fold_one(state, event, rules, result)
    # Any other type changes nothing but still counts as seen: it is ignored on purpose (IGNORED_TYPES), or newer
    # than this build, from an experience service upgraded first. Refusing it would stall every customer behind
    # it on the partition; once this build knows the type, a rebuild folds it.
    result.applied += 1


EventFold = Callable[[CustomerState, StoredEvent, FoldRules, FoldResult], None]


def _touchpoint(state: CustomerState, event: StoredEvent, rules: FoldRules, result: FoldResult) -> None:
    result.timeline.append(fold_touchpoint(state, event, rules))


def _preferences(state: CustomerState, event: StoredEvent, rules: FoldRules, result: FoldResult) -> None:
    fold_preferences(state, event)


def _consent(state: CustomerState, event: StoredEvent, rules: FoldRules, result: FoldResult) -> None:
    fold_consent(state, event)


def _membership(state: CustomerState, event: StoredEvent, rules: FoldRules, result: FoldResult) -> None:
    if fold_membership(state, event):
        result.accounts_changed.add(str(event.data["account_id"]))


FOLD_BY_TYPE: dict[str, EventFold] = {
    TOUCHPOINT_RECORDED: _touchpoint,
    PREFERENCE_STATED: _preferences,
    CONSENT_CHANGED: _consent,
    ACCOUNT_MEMBERSHIP_CHANGED: _membership,
}

# Catalogued types that advance a view's version and position but change nothing in it. Every catalogued type
# is here or in FOLD_BY_TYPE (a unit test holds it), so a new type cannot go unfolded without someone deciding.
IGNORED_TYPES = frozenset(
    {
        IDENTITY_LINKED,  # identities are resolved on intake; a view shows no identifier
        IDENTITY_UNLINKED,
        CUSTOMER_ERASED,  # the handlers forget the customer instead of folding this
    }
)


def fold_preferences(state: CustomerState, event: StoredEvent) -> None:
    """Keep the stated and the observed candidates per name that may be in force at some moment (a newer one may
    lapse before an older one); which one shows is decided on render and, against a clock, on read."""
    data = event.data
    stated = data.get("source", "stated") == "stated"
    kept = state.stated if stated else state.observed
    expires_us = parse_micros(data.get("expires_at"))
    for name, value in (data.get("preferences") or {}).items():
        candidate = PreferenceState(value, stated, event.time_us, event.event_id, expires_us)
        candidates = kept.get(name)
        if candidates is None:
            kept[name] = [candidate]
        else:
            keep_candidate(candidates, candidate)


def consent_key(purpose: str, channel: str | None) -> str:
    return purpose if channel is None else f"{purpose}/{channel}"


def fold_consent(state: CustomerState, event: StoredEvent) -> None:
    data = event.data
    key = consent_key(str(data.get("purpose")), data.get("channel"))
    candidate = DecisionState(event.time_us, event.event_id, bool(data.get("granted")), position=event.position)
    current = state.consent.get(key)
    if current is None or candidate.rank() > current.rank():
        state.consent[key] = candidate


def fold_membership(state: CustomerState, event: StoredEvent) -> bool:
    """Record the latest membership decision per account; True when it changed what the state holds."""
    data = event.data
    account_id = str(data.get("account_id"))
    candidate = DecisionState(
        event.time_us, event.event_id, bool(data.get("member")), str(data.get("role", "other")), event.position
    )
    current = state.accounts.get(account_id)
    if current is None or candidate.rank() > current.rank():
        state.accounts[account_id] = candidate
        return True
    return False
