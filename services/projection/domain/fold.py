"""Apply a batch of one customer's stored events to their state, exactly once each, whatever the batching."""

from dataclasses import dataclass, field
from typing import Any

from services.projection.domain import scoring
from services.projection.domain.events import PREFERENCE_STATED, TOUCHPOINT_RECORDED, StoredEvent, iso
from services.projection.domain.state import CustomerState, PreferenceState, RecentState


@dataclass(frozen=True, slots=True)
class FoldRules:
    """The tunable parts of the fold; passed in so the domain never reads settings."""

    recent_limit: int = 10
    negativity_bias: float = 4.0
    half_life_days: float = 90.0


@dataclass(slots=True)
class FoldResult:
    applied: int = 0
    timeline: list[dict[str, Any]] = field(default_factory=list)  # contracts.TimelineEntry documents


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
    if event.type == TOUCHPOINT_RECORDED:
        result.timeline.append(fold_touchpoint(state, event, rules))
    elif event.type == PREFERENCE_STATED:
        fold_preferences(state, event)
    # Other types still advance version and position: the view has seen them, they just change nothing yet.
    result.applied += 1


def fold_preferences(state: CustomerState, event: StoredEvent) -> None:
    data = event.data
    stated = data.get("source", "stated") == "stated"
    for name, value in (data.get("preferences") or {}).items():
        candidate = PreferenceState(value=value, stated=stated, at_us=event.time_us, event_id=event.event_id)
        current = state.preferences.get(name)
        if current is None or candidate.rank() > current.rank():
            state.preferences[name] = candidate


def fold_touchpoint(state: CustomerState, event: StoredEvent, rules: FoldRules) -> dict[str, Any]:
    """Count the touchpoint, fold it into the score and recent list; return its timeline entry."""
    data = event.data
    channel = str(data.get("channel", "other"))
    sentiment = scoring.touchpoint_sentiment(data)
    feeling = scoring.feeling(sentiment)
    _count(state, event, channel, feeling)
    _follow_account(state, event, data.get("account_id"))
    if sentiment is not None:
        _score(state, event.time_us, sentiment, rules)
    kind = str(data.get("kind", "other"))
    entry = RecentState(event.event_id, event.time_us, event.position, channel, kind, sentiment, feeling)
    _remember_recent(state, entry, rules.recent_limit)
    return {
        "event_id": event.event_id, "position": event.position, "time": iso(event.time_us),
        "channel": channel, "kind": entry.kind, "sentiment": sentiment, "feeling": feeling,
        "emotion": data.get("emotion"), "outcome": data.get("outcome"), "rating": data.get("rating"),
        "handled_by": data.get("handled_by"), "note": data.get("note"),
    }  # fmt: skip


def _count(state: CustomerState, event: StoredEvent, channel: str, feeling: str) -> None:
    state.touchpoints += 1
    if feeling == "positive":
        state.positive += 1
    elif feeling == "negative":
        state.negative += 1
    else:
        state.neutral += 1
    state.by_channel[channel] = state.by_channel.get(channel, 0) + 1
    if state.first_touch_us is None or event.time_us < state.first_touch_us:
        state.first_touch_us = event.time_us
    if state.last_touch_us is None or event.time_us > state.last_touch_us:
        state.last_touch_us = event.time_us


def _follow_account(state: CustomerState, event: StoredEvent, account_id: Any) -> None:
    # The latest touchpoint naming an account wins, by (time, position): late events cannot flip it back.
    if not account_id:
        return
    rank = (event.time_us, event.position)
    if state.account_rank is None or rank > state.account_rank:
        state.account_id = str(account_id)
        state.account_rank = rank


def _score(state: CustomerState, time_us: int, sentiment: float, rules: FoldRules) -> None:
    if state.score_ref_us is None:
        state.score_ref_us = time_us
    elif time_us > state.score_ref_us:
        factor = scoring.decay(state.score_ref_us, time_us, rules.half_life_days)
        state.weighted_sentiment *= factor
        state.weight_total *= factor
        state.score_ref_us = time_us
    weight = scoring.bias(sentiment, rules.negativity_bias) * scoring.decay(
        time_us, state.score_ref_us, rules.half_life_days
    )
    state.weighted_sentiment += weight * sentiment
    state.weight_total += weight


def _remember_recent(state: CustomerState, entry: RecentState, limit: int) -> None:
    # Top `limit` by (time, position): a set's top-k is the same whatever order its members arrived in.
    recent = state.recent
    key = (entry.time_us, entry.position)
    if len(recent) >= limit and key < (recent[-1].time_us, recent[-1].position):
        return
    index = 0
    while index < len(recent) and (recent[index].time_us, recent[index].position) > key:
        index += 1
    recent.insert(index, entry)
    del recent[limit:]
