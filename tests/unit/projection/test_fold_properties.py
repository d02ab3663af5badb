"""The view is the same whatever the batching, arrival order within a batch, re-deliveries or late events."""

import math
from datetime import timedelta
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from services.projection.domain import CustomerState, FoldRules, StoredEvent, fold, render_view
from services.projection.domain.reading import view_as_of
from services.projection.domain.state import CANDIDATE_LIMIT, NEVER
from tests.unit.projection.factories import BASE, event

RULES = FoldRules(recent_limit=3, negativity_bias=4.0, half_life_days=90.0, issue_limit=2, contract_limit=2)
CUSTOMER = "c-prop"

ratings = st.one_of(
    st.none(),
    st.builds(lambda v: {"scale": "nps", "value": v}, st.integers(0, 10)),
    st.builds(lambda v: {"scale": "stars", "value": v}, st.integers(1, 5)),
)
touchpoints = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(["store", "web", "phone", "field_sales"]),
        "kind": st.sampled_from(["purchase", "complaint", "support_case", "meeting", "contract_renewal"]),
        "sentiment": st.one_of(st.none(), st.floats(-1, 1, allow_nan=False)),
        "rating": ratings,
        "account_id": st.one_of(st.none(), st.sampled_from(["a-1", "a-2"])),
        "outcome": st.sampled_from([None, "resolved", "cancelled", "unresolved", "pending", "escalated", "other"]),
        "emotion": st.sampled_from([None, "relieved", "annoyed"]),
        # The case id as a field and as older events carried it, in attributes (case_id wins where both are).
        "case_id": st.sampled_from([None, "K-1", "K-2"]),
        "attributes": st.sampled_from([None, {"case_id": "K-1"}, {"case_id": "K-2"}, {"store": "s-12"}]),
    }
)
preferences = st.fixed_dictionaries(
    {
        "preferences": st.dictionaries(st.sampled_from(["channel", "tone"]), st.sampled_from(["x", "y"]), min_size=1),
        "source": st.sampled_from(["stated", "observed"]),
        "expires_at": st.sampled_from([None, BASE.isoformat(), "2030-01-01T00:00:00+00:00"]),
    }
)
consents = st.fixed_dictionaries(
    {"purpose": st.sampled_from(["any", "marketing"]), "channel": st.sampled_from([None, "email"]),
     "granted": st.booleans()}
)  # fmt: skip
memberships = st.fixed_dictionaries(
    {"account_id": st.sampled_from(["a-1", "a-2"]), "role": st.sampled_from(["decision_maker", "user"]),
     "member": st.booleans()}
)  # fmt: skip
bodies_of_any_type = st.one_of(
    touchpoints.map(lambda d: ("touchpoint", d)),
    preferences.map(lambda d: ("preference", d)),
    consents.map(lambda d: ("consent", d)),
    memberships.map(lambda d: ("membership", d)),
)
# Minutes spread over ~3 years, in any order relative to position: late events are the normal case.
bodies = st.tuples(st.integers(0, 1_500_000), bodies_of_any_type)


def _events(specs: list[tuple[int, tuple[str, dict[str, Any]]]], ids: list[int] | None = None) -> list[StoredEvent]:
    """Events at positions 1..n; `ids` keeps each event's id when the same events get other positions."""
    return [
        event(
            CUSTOMER, position, type_, minutes=minutes, event_id=f"e-{ids[position - 1] if ids else position}", **data
        )
        for position, (minutes, (type_, data)) in enumerate(specs, start=1)
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


def _comparable(view: dict[str, Any]) -> tuple[dict[str, Any], float, float]:
    """The view without its float scores (sums differ in the last bits) and what is judged from them."""
    experience = dict(view["experience"])
    score, recent = experience.pop("score"), experience.pop("recent_score")
    experience["risk_reasons"] = [r for r in experience["risk_reasons"] if r["code"] != "falling_score"]
    experience.pop("at_risk")
    return {**view, "experience": experience}, score, recent


def _assert_same(view: dict[str, Any], expected: dict[str, Any]) -> None:
    a, score, recent = _comparable(view)
    b, expected_score, expected_recent = _comparable(expected)
    assert a == b
    assert math.isclose(score, expected_score, abs_tol=0.11)
    assert math.isclose(recent, expected_recent, abs_tol=0.11)


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
        state = CustomerState.from_json(orjson.loads(orjson.dumps(state.to_json())))
        timeline.extend(fold(state, batch, RULES).timeline)

    _assert_same(render_view(state, RULES), render_view(reference, RULES))
    assert sorted(timeline, key=lambda e: e["position"]) == expected_timeline
    view = render_view(state, RULES)
    assert view["version"] == len(events)
    assert view["position"] == len(events)


@settings(max_examples=300, deadline=None)
@given(deliveries(), st.randoms())
def test_batches_in_any_order_yield_the_view_of_one_ordered_fold(
    case: tuple[list[StoredEvent], list[list[StoredEvent]]], random: Any
) -> None:
    # After a broker lost its data the relay sends everything again, behind what was appended meanwhile: older
    # events then arrive after newer ones and must still count, once.
    events, batches = case
    reference = CustomerState(CUSTOMER)
    fold(reference, events, RULES)
    random.shuffle(batches)
    state = CustomerState(CUSTOMER)
    for batch in batches:
        state = CustomerState.from_json(orjson.loads(orjson.dumps(state.to_json())))
        fold(state, batch, RULES)

    _assert_same(render_view(state, RULES), render_view(reference, RULES))
    assert (state.version, state.sequence, state.later_sequences) == (len(events), len(events), [])


@settings(max_examples=300, deadline=None)
@given(st.lists(bodies, min_size=1, max_size=20, unique_by=lambda body: body[0]), st.randoms())
def test_time_order_of_arrival_does_not_change_the_view(specs: list[Any], random: Any) -> None:
    """The same events given positions in another order (late events) make the same view: every rule ranks
    by event time, and (distinct times here) positions never break a tie."""
    order = list(range(len(specs)))
    random.shuffle(order)
    first, second = CustomerState(CUSTOMER), CustomerState(CUSTOMER)
    fold(first, _events(specs, list(range(len(specs)))), RULES)
    fold(second, _events([specs[i] for i in order], order), RULES)
    _assert_same(render_view(first, RULES), render_view(second, RULES))
    for at in (BASE, BASE.replace(year=2031)):
        assert (
            view_as_of(render_view(first, RULES), at)["preferences"]
            == view_as_of(render_view(second, RULES), at)["preferences"]
        )


candidates = st.tuples(st.integers(0, 30), st.sampled_from([None, 1, 2, 3, 4]), st.sampled_from(["stated", "observed"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(candidates, min_size=1, max_size=CANDIDATE_LIMIT), st.randoms())
def test_the_kept_preference_candidates_are_those_no_newer_one_outlasts(specs: list[Any], random: Any) -> None:
    """Whatever the arrival order, per source exactly the candidates that no newer one outlasts are kept."""
    order = list(range(len(specs)))
    random.shuffle(order)
    state = CustomerState(CUSTOMER)
    for position, index in enumerate(order, start=1):
        minutes, days, source = specs[index]
        expires_at = None if days is None else (BASE + timedelta(days=days)).isoformat()
        data = {"preferences": {"channel": index}, "source": source, "expires_at": expires_at}
        fold(state, [event(CUSTOMER, position, "preference", minutes=minutes, event_id=f"e-{index}", **data)], RULES)

    for source, kept in (("stated", state.stated), ("observed", state.observed)):
        mine = [(m, f"e-{i}", NEVER if d is None else d) for i, (m, d, s) in enumerate(specs) if s == source]
        standing = [c for c in mine if not any(o[:2] > c[:2] and o[2] >= c[2] for o in mine)]
        expected = [event_id for _, event_id, _ in sorted(standing, reverse=True)]
        assert [p.event_id for p in kept.get("channel", [])] == expected
        lasts = [p.lasts_until() for p in kept.get("channel", [])]
        assert lasts == sorted(set(lasts))  # newest first, each lasting longer than the one before
