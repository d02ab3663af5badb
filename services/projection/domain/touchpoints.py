"""Fold one touchpoint: counts, loyalty, the score, the recent lists and open issues, all order-independent."""

from typing import Any

from services.projection.domain import scoring
from services.projection.domain.events import StoredEvent, iso
from services.projection.domain.issues import ISSUE_KINDS, track_issue
from services.projection.domain.rules import FoldRules
from services.projection.domain.state import ChannelUse, CustomerState, RecentState, keep_latest

US_PER_DAY = 86_400_000_000
NOT_CHOSEN_BY_CUSTOMER = "marketing_message"  # our message on a channel says nothing about what they prefer


def is_contract_related(kind: str, channel: str) -> bool:
    """Renewals, and meetings with field sales (where B2B contracts are negotiated)."""
    return kind == "contract_renewal" or (kind == "meeting" and channel == "field_sales")


def fold_touchpoint(state: CustomerState, event: StoredEvent, rules: FoldRules) -> dict[str, Any]:
    """Count the touchpoint, fold it into the score and the recent lists; return its timeline entry."""
    data = event.data
    channel = str(data.get("channel", "other"))
    kind = str(data.get("kind", "other"))
    sentiment = scoring.touchpoint_sentiment(data)
    feeling = scoring.feeling(sentiment)
    emotion, outcome, account_id = data.get("emotion"), data.get("outcome"), data.get("account_id")
    _count(state, event, channel, kind, feeling)
    _follow_account(state, event, account_id)
    time = iso(event.time_us)
    entry = RecentState(
        event.event_id, event.time_us, event.position, channel, kind, sentiment, feeling, emotion, outcome,
        str(account_id) if account_id else None, time,
    )  # fmt: skip
    keep_latest(state.recent, entry, rules.recent_limit)
    if sentiment is not None:
        _score(state, event.time_us, sentiment, rules)
        keep_latest(state.scored_recent, entry, rules.negative_run)
    case_id = case_of(data)
    if kind in ISSUE_KINDS:
        track_issue(state, entry, case_id, rules.issue_limit, rules.case_limit)
    if is_contract_related(kind, channel):
        keep_latest(state.contracts, entry, rules.contract_limit)
    return {
        "event_id": event.event_id, "position": event.position, "time": time,
        "channel": channel, "kind": kind, "sentiment": sentiment, "feeling": feeling,
        "emotion": emotion, "outcome": outcome, "rating": data.get("rating"), "case_id": case_id,
        "handled_by": data.get("handled_by"), "note": data.get("note"), "attributes": data.get("attributes"),
    }  # fmt: skip


def case_of(data: dict[str, Any]) -> str | None:
    """The touchpoint's case: `case_id`, else `attributes.case_id`, where events carried it before the field."""
    case_id = data.get("case_id")
    if case_id is None:
        attributes = data.get("attributes")
        case_id = attributes.get("case_id") if isinstance(attributes, dict) else None
    return None if case_id is None else str(case_id)


def _count(state: CustomerState, event: StoredEvent, channel: str, kind: str, feeling: str) -> None:
    state.touchpoints += 1
    if feeling == "positive":
        state.positive += 1
    elif feeling == "negative":
        state.negative += 1
    else:
        state.neutral += 1
    if kind == "purchase":
        state.purchases += 1
    state.by_channel[channel] = state.by_channel.get(channel, 0) + 1
    if kind != NOT_CHOSEN_BY_CUSTOMER:
        _use_channel(state, channel, event)
    time_us = event.time_us
    if state.first_touch_us is None or time_us < state.first_touch_us:
        state.first_touch_us = time_us
    if state.last_touch_us is None or time_us > state.last_touch_us:
        state.last_touch_us = time_us
    _mark_day(state, time_us // US_PER_DAY)


def _use_channel(state: CustomerState, channel: str, event: StoredEvent) -> None:
    use = state.channel_use.get(channel)
    if use is None:
        state.channel_use[channel] = ChannelUse(1, event.time_us, event.event_id)
        return
    use.count += 1
    time_us = event.time_us
    if time_us > use.last_us or (time_us == use.last_us and event.event_id > use.event_id):
        use.last_us, use.event_id = time_us, event.event_id


def _mark_day(state: CustomerState, day: int) -> None:
    # A bit set is a union: the same days whatever order they came in.
    if state.day_base is None:
        state.day_base, state.day_bits = day, 1
    elif day < state.day_base:
        state.day_bits = (state.day_bits << (state.day_base - day)) | 1
        state.day_base = day
    else:
        state.day_bits |= 1 << (day - state.day_base)


def _follow_account(state: CustomerState, event: StoredEvent, account_id: Any) -> None:
    # The latest touchpoint naming an account wins, by (time, position): late events cannot flip it back.
    if not account_id:
        return
    rank = (event.time_us, event.position)
    if state.account_rank is None or rank > state.account_rank:
        state.account_id = str(account_id)
        state.account_rank = rank


def _score(state: CustomerState, time_us: int, sentiment: float, rules: FoldRules) -> None:
    long_life, short_life = rules.half_life_days, rules.falling_half_life_days
    if state.score_ref_us is None:
        state.score_ref_us = time_us
    elif time_us > state.score_ref_us:
        factor = scoring.decay(state.score_ref_us, time_us, long_life)
        short = scoring.decay(state.score_ref_us, time_us, short_life)
        state.weighted_sentiment *= factor
        state.weight_total *= factor
        state.short_weighted_sentiment *= short
        state.short_weight_total *= short
        state.score_ref_us = time_us
    bias = scoring.bias(sentiment, rules.negativity_bias)
    weight = bias * scoring.decay(time_us, state.score_ref_us, long_life)
    short_weight = bias * scoring.decay(time_us, state.score_ref_us, short_life)
    state.weighted_sentiment += weight * sentiment
    state.weight_total += weight
    state.short_weighted_sentiment += short_weight * sentiment
    state.short_weight_total += short_weight
    state.scored += 1
