"""The view is the same whatever the batching, arrival order within a batch, re-deliveries or late events."""

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.projection.domain import CustomerState, FoldRules, StoredEvent, fold, render_view
from tests.unit.projection.factories import event

RULES = FoldRules(recent_limit=3, negativity_bias=4.0, half_life_days=90.0)
CUSTOMER = "c-prop"

ratings = st.one_of(
    st.none(),
    st.builds(lambda v: {"scale": "nps", "value": v}, st.integers(0, 10)),
    st.builds(lambda v: {"scale": "stars", "value": v}, st.integers(1, 5)),
)
touchpoints = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(["store", "web", "phone"]),
        "sentiment": st.one_of(st.none(), st.floats(-1, 1, allow_nan=False)),
        "rating": ratings,
        "account_id": st.one_of(st.none(), st.sampled_from(["a-1", "a-2"])),
    }
)
preferences = st.fixed_dictionaries(
    {
        "preferences": st.dictionaries(st.sampled_from(["channel", "tone"]), st.sampled_from(["x", "y"]), min_size=1),
        "source": st.sampled_from(["stated", "observed"]),
    }
)
# Minutes spread over ~3 years, in any order relative to position: late events are the normal case.
bodies = st.tuples(
    st.integers(0, 1_500_000),
    st.one_of(touchpoints.map(lambda d: ("touchpoint", d)), preferences.map(lambda d: ("preference", d))),
)


def _events(specs: list[tuple[int, tuple[str, dict[str, Any]]]]) -> list[StoredEvent]:
    return [
        event(CUSTOMER, position, kind, minutes=minutes, event_id=f"e-{position}", **data)
        for position, (minutes, (kind, data)) in enumerate(specs, start=1)
    ]


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[StoredEvent], list[list[StoredEvent]]]:
    """All events and how they arrive: in order, with replays of earlier stretches, in shuffled batches."""
    events = _events(draw(st.lists(bodies, min_size=1, max_size=25)))
    stream: list[StoredEvent] = []
    for index, item in enumerate(events):
        stream.append(item)
        if draw(st.integers(0, 4)) == 0:  # a re-delivery: some earlier stretch comes again
            start = draw(st.integers(0, index))
            stream.extend(events[start : index + 1])
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(stream) - 1)), max_size=8)))
    batches = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True) if stream[a:b]]
    batches = [draw(st.permutations(batch)) for batch in batches]
    if draw(st.booleans()):  # a whole batch replayed, as after a restart from a stale offset
        batches.append(list(draw(st.sampled_from(batches))))
    return events, batches


def _without_score(view: dict[str, Any]) -> tuple[dict[str, Any], float]:
    experience = dict(view["experience"])
    score = experience.pop("score")
    return {**view, "experience": experience}, score


@settings(max_examples=300, deadline=None)
@given(deliveries())
def test_any_batching_and_redelivery_yields_the_view_of_one_ordered_fold(
    case: tuple[list[StoredEvent], list[list[StoredEvent]]],
) -> None:
    events, batches = case
    reference = CustomerState(CUSTOMER)
    expected_timeline = fold(reference, events, RULES).timeline
    state = CustomerState(CUSTOMER)
    timeline: list[dict[str, Any]] = []
    for batch in batches:
        # Through JSON between batches, as the state travels through PostgreSQL.
        state = CustomerState.from_json(state.to_json())
        timeline.extend(fold(state, batch, RULES).timeline)

    view, score = _without_score(render_view(state))
    expected_view, expected_score = _without_score(render_view(reference))
    assert view == expected_view
    assert math.isclose(score, expected_score, abs_tol=0.11)  # float sums differ in the last bits, then round
    assert sorted(timeline, key=lambda e: e["position"]) == expected_timeline
    assert view["version"] == len(events)
    assert view["position"] == len(events)


@settings(max_examples=200, deadline=None)
@given(st.lists(bodies, min_size=1, max_size=20), st.randoms())
def test_time_order_of_arrival_does_not_change_the_view(specs: list[Any], random: Any) -> None:
    """The same events given positions in another order (late events) count and score the same."""
    events = _events(specs)
    shuffled = list(specs)
    random.shuffle(shuffled)
    other = _events(shuffled)
    first, second = CustomerState(CUSTOMER), CustomerState(CUSTOMER)
    fold(first, events, RULES)
    fold(second, other, RULES)
    a, b = render_view(first), render_view(second)
    assert a["updated_at"] == b["updated_at"]
    assert a["preferences"].keys() == b["preferences"].keys()
    counted = ("touchpoints", "positive", "negative", "neutral", "by_channel", "first_touch_at")
    for key in (*counted, "last_touch_at"):
        assert a["experience"][key] == b["experience"][key]
    assert math.isclose(a["experience"]["score"], b["experience"]["score"], abs_tol=0.11)
