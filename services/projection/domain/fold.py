"""Apply a batch of one customer's stored events to their state, exactly once each, whatever the batching."""

from dataclasses import dataclass, field
from typing import Any

from services.projection.domain.events import (
    ACCOUNT_MEMBERSHIP_CHANGED,
    CONSENT_CHANGED,
    PREFERENCE_STATED,
    TOUCHPOINT_RECORDED,
    StoredEvent,
    parse_micros,
)
from services.projection.domain.state import CustomerState, DecisionState, PreferenceState, keep_candidate
from services.projection.domain.touchpoints import fold_touchpoint


@dataclass(frozen=True, slots=True)
class FoldRules:
    """The tunable parts of the fold; passed in so the domain never reads settings."""

    recent_limit: int = 10
    negativity_bias: float = 4.0
    half_life_days: float = 90.0
    negative_run: int = 3  # this many latest scored touchpoints all negative: at risk
    falling_half_life_days: float = 14.0  # the short memory the falling-score signal compares with the long one
    falling_drop: float = 30.0  # points the short score must be below the long one
    falling_min_scored: int = 4  # fewer scored touchpoints say too little to call a trend
    contract_limit: int = 5
    issue_limit: int = 10
    case_limit: int = 32


@dataclass(slots=True)
class FoldResult:
    applied: int = 0
    timeline: list[dict[str, Any]] = field(default_factory=list)  # contracts.TimelineEntry documents
    accounts_changed: set[str] = field(default_factory=set)  # accounts whose membership of this customer changed


def fold(state: CustomerState, events: list[StoredEvent], rules: FoldRules) -> FoldResult:
    """Apply, in position order, every event newer than the state; re-deliveries are skipped exactly."""
    result = FoldResult()
    # Kafka keeps a customer's events in position order on one partition, so anything at or below the last
    # applied position has been applied before (a re-delivery or a replay after the broker lost its data).
    for event in sorted(events, key=_position):
        if event.position <= state.position:
            continue
        _apply(state, event, rules, result)
    return result


def _position(event: StoredEvent) -> int:
    return event.position


def _apply(state: CustomerState, event: StoredEvent, rules: FoldRules, result: FoldResult) -> None:
    state.version += 1
    state.position = event.position
    state.sequence = event.sequence
    if state.updated_us is None or event.time_us > state.updated_us:
        state.updated_us = event.time_us
    kind = event.type
    if kind == TOUCHPOINT_RECORDED:
        result.timeline.append(fold_touchpoint(state, event, rules))
    elif kind == PREFERENCE_STATED:
        fold_preferences(state, event)
    elif kind == CONSENT_CHANGED:
        fold_consent(state, event)
    elif kind == ACCOUNT_MEMBERSHIP_CHANGED:
        if fold_membership(state, event):
            result.accounts_changed.add(str(event.data["account_id"]))
    # Other types (identities) still advance version and position: the view has seen them, they change nothing.
    result.applied += 1


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
