"""What a frontline reader sees in a view after a few concrete stories."""

from datetime import timedelta
from typing import Any

import orjson

from services.projection.domain import CustomerState, FoldRules, StoredEvent, fold, render_view
from services.projection.domain.state import CANDIDATE_LIMIT, PreferenceState
from tests.unit.projection.factories import BASE, event


def view_of(*events: StoredEvent, rules: FoldRules | None = None) -> dict[str, Any]:
    state = CustomerState("c-1")
    fold(state, list(events), rules or FoldRules())
    return render_view(state)


def test_a_stated_preference_beats_a_later_observed_one() -> None:
    view = view_of(
        event("c-1", 1, "preference", minutes=0, preferences={"channel": "email"}, source="stated"),
        event("c-1", 2, "preference", minutes=60, preferences={"channel": "phone"}, source="observed"),
    )
    assert view["preferences"]["channel"]["value"] == "email"
    assert view["preferences"]["channel"]["source"] == "stated"


def test_the_latest_stated_preference_wins_even_when_it_arrives_first() -> None:
    view = view_of(
        event("c-1", 1, "preference", minutes=90, preferences={"tone": "formal"}, event_id="e-late"),
        event("c-1", 2, "preference", minutes=10, preferences={"tone": "casual"}),
    )
    assert view["preferences"]["tone"]["value"] == "formal"
    assert view["preferences"]["tone"]["event_id"] == "e-late"


def test_observed_preferences_follow_the_latest_observation() -> None:
    view = view_of(
        event("c-1", 1, "preference", minutes=0, preferences={"channel": "web"}, source="observed"),
        event("c-1", 2, "preference", minutes=5, preferences={"channel": "app"}, source="observed"),
    )
    assert view["preferences"]["channel"]["value"] == "app"


def test_fold_state_from_before_several_candidates_were_kept_still_loads() -> None:
    email = {"value": "email", "stated": True, "at_us": 1, "event_id": "e-old"}
    web = {"value": "web", "stated": False, "at_us": 2, "event_id": "e-seen", "expires_us": None}
    one_per_name = {"customer_id": "c-1", "stated": {"channel": email}, "observed": {"channel": web}}
    older_still = {"customer_id": "c-1", "preferences": {"channel": email, "tone": {**web, "value": "casual"}}}
    for document in (one_per_name, older_still):
        state = CustomerState.from_json(document)
        assert state.stated == {"channel": [PreferenceState(**email)]}
        phone = {"channel": "phone"}
        fold(state, [event("c-1", 1, "preference", preferences=phone, expires_at=BASE.isoformat())], FoldRules())
        channel = render_view(state)["preferences"]["channel"]
        assert (channel["value"], channel["fallback"]["value"]) == ("phone", "email")


def test_temporary_preferences_each_lapsing_sooner_are_kept_up_to_a_bound_keeping_the_oldest() -> None:
    count = CANDIDATE_LIMIT + 2
    ends = [None, *((BASE + timedelta(days=count - n)).isoformat() for n in range(1, count))]
    state = CustomerState("c-1")
    events = [event("c-1", n + 1, "preference", minutes=n, preferences={"tone": n}, expires_at=ends[n])
              for n in range(count)]  # fmt: skip
    fold(state, events, FoldRules())
    kept = [p.value for p in state.stated["tone"]]
    assert len(kept) == CANDIDATE_LIMIT
    assert kept[0] == count - 1 and kept[-1] == 0  # the one in force now, and the one that never lapses


def test_touchpoints_are_counted_by_channel_and_feeling() -> None:
    view = view_of(
        event("c-1", 1, channel="store", sentiment=0.8),
        event("c-1", 2, channel="phone", sentiment=-0.9),
        event("c-1", 3, channel="store", rating={"scale": "nps", "value": 5}),
        event("c-1", 4, channel="email"),
    )
    experience = view["experience"]
    assert experience["by_channel"] == {"email": 1, "phone": 1, "store": 2}
    feelings = (experience["positive"], experience["negative"], experience["neutral"])
    assert (experience["touchpoints"], feelings) == (4, (1, 1, 2))
    assert view["version"] == 4


def test_recent_is_bounded_and_newest_first_by_event_time() -> None:
    times = [30, 10, 50, 40, 20]
    events = [event("c-1", position, minutes=minutes) for position, minutes in enumerate(times, 1)]
    view = view_of(*events, rules=FoldRules(recent_limit=3))
    assert [r["time"][11:16] for r in view["recent"]] == ["00:50", "00:40", "00:30"]


def test_one_bad_experience_outweighs_a_good_one() -> None:
    view = view_of(event("c-1", 1, sentiment=0.5), event("c-1", 2, sentiment=-0.5))
    # weights 1 and 4: (0.5 - 4 * 0.5) / 5 = -0.3
    assert view["experience"]["score"] == -30.0


def test_ratings_stand_in_for_a_missing_sentiment() -> None:
    view = view_of(event("c-1", 1, rating={"scale": "stars", "value": 5}))
    assert view["experience"]["positive"] == 1
    assert view["experience"]["score"] == 100.0


def test_older_experiences_fade_with_the_half_life() -> None:
    # A complaint 90 days before a compliment weighs 4 * 1/2 = 2 against 1: (1 - 2) / 3 = -33.3
    later = 90 * 24 * 60
    view = view_of(event("c-1", 1, minutes=0, sentiment=-1.0), event("c-1", 2, minutes=later, sentiment=1.0))
    assert view["experience"]["score"] == -33.3


def test_a_redelivered_event_is_not_counted_twice() -> None:
    state = CustomerState("c-1")
    first = event("c-1", 1)
    fold(state, [first], FoldRules())
    assert fold(state, [first, first], FoldRules()).applied == 0
    assert render_view(state)["experience"]["touchpoints"] == 1


def test_the_account_follows_the_latest_touchpoint_that_names_one() -> None:
    view = view_of(
        event("c-1", 1, minutes=20, account_id="a-new"),
        event("c-1", 2, minutes=10, account_id="a-old"),
        event("c-1", 3, minutes=30),
    )
    assert view["account_id"] == "a-new"


def test_a_sentiment_of_minus_zero_gives_the_view_a_sentiment_of_zero_gives() -> None:
    # The relay hands new events over as Python wrote them (-0.0); the store reads them back from jsonb (0.0).
    minus = view_of(event("c-1", 1, sentiment=-0.0, event_id="e-1"))
    plus = view_of(event("c-1", 1, sentiment=0.0, event_id="e-1"))
    assert orjson.dumps(minus) == orjson.dumps(plus)
    assert b'"sentiment":0.0' in orjson.dumps(minus["recent"])
