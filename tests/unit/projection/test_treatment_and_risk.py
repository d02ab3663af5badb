"""The treatment guide, consent, the emotional record and loyalty, as a frontline reader sees them."""

from datetime import datetime, timedelta
from typing import Any

from services.projection.domain import CustomerState, FoldRules, StoredEvent, decide_contact, fold, render_view
from services.projection.domain.reading import account_as_of, view_as_of
from tests.unit.projection.factories import BASE, event

DAY = 24 * 60


def view_of(*events: StoredEvent, rules: FoldRules | None = None) -> dict[str, Any]:
    state = CustomerState("c-1")
    fold(state, list(events), rules or FoldRules())
    return render_view(state, rules)


def test_an_expired_stated_preference_gives_way_to_the_observed_one_at_read_time() -> None:
    view = view_of(
        event(
            "c-1", 1, "preference", preferences={"channel": "email"}, expires_at=(BASE + timedelta(days=30)).isoformat()
        ),
        event("c-1", 2, "preference", minutes=5, preferences={"channel": "phone"}, source="observed"),
    )
    assert view["preferences"]["channel"]["expires_at"].startswith("2025-01-31")
    assert view_as_of(view, BASE + timedelta(days=1))["preferences"]["channel"]["value"] == "email"
    later = view_as_of(view, BASE + timedelta(days=31))["preferences"]["channel"]
    assert (later["value"], later["source"]) == ("phone", "observed")


def test_an_expired_preference_without_a_fallback_goes() -> None:
    view = view_of(event("c-1", 1, "preference", preferences={"tone": "casual"}, expires_at=BASE.isoformat()))
    assert view_as_of(view, BASE + timedelta(seconds=1))["preferences"] == {}


def test_a_stated_preference_is_back_once_a_later_temporary_one_lapses_whatever_the_arrival_order() -> None:
    ends = BASE + timedelta(days=15)
    email = {"event_id": "e-email", "minutes": 0, "preferences": {"channel": "email"}}
    phone = {"event_id": "e-phone", "minutes": DAY, "preferences": {"channel": "phone"}, "expires_at": ends.isoformat()}
    chat = {"event_id": "e-chat", "minutes": 2 * DAY, "preferences": {"channel": "chat"}, "source": "observed"}
    for order in ([email, phone, chat], [chat, phone, email]):
        view = view_of(*(event("c-1", position, "preference", **spec) for position, spec in enumerate(order, 1)))
        during = view_as_of(view, ends - timedelta(days=1))["preferences"]["channel"]
        assert (during["value"], during["source"]) == ("phone", "stated")
        assert datetime.fromisoformat(during["expires_at"]) == ends
        after = view_as_of(view, ends)["preferences"]["channel"]
        assert (after["value"], after["source"], after["event_id"]) == ("email", "stated", "e-email")
        assert after["at"].startswith("2025-01-01") and after["expires_at"] is None
        assert after["fallback"]["value"] == "chat"
        answer = decide_contact(view, "service", "phone", ends + timedelta(days=1))
        assert answer["how"]["channel"] == "email" and "e-email" in answer["reasons"][1]
        team = account_as_of({"members": [{"customer_id": "c-1", "preferences": view["preferences"]}]}, ends)
        assert team["members"][0]["preferences"]["channel"]["value"] == "email"


def test_the_channel_used_most_is_back_once_an_observed_channel_lapses() -> None:
    ends = BASE + timedelta(days=3)
    visits = [event("c-1", p, channel="chat", minutes=p) for p in (1, 2)]
    seen = event("c-1", 3, "preference", preferences={"channel": "web"}, source="observed", expires_at=ends.isoformat())
    view = view_of(*visits, seen)
    assert view_as_of(view, BASE)["preferences"]["channel"]["value"] == "web"
    assert view_as_of(view, ends)["preferences"]["channel"]["value"] == "chat"


def test_the_channel_used_most_is_observed_unless_stated() -> None:
    visits = [event("c-1", p, channel=c, minutes=p) for p, c in enumerate(["chat", "web", "chat", "email"], 1)]
    marketing = [event("c-1", 5, channel="email", kind="marketing_message"), event("c-1", 6, channel="email",
                 kind="marketing_message")]  # fmt: skip
    observed = view_of(*visits, *marketing)["preferences"]["channel"]
    assert (observed["value"], observed["source"]) == ("chat", "observed")
    stated = view_of(*visits, event("c-1", 9, "preference", preferences={"channel": "phone"}))["preferences"]
    assert stated["channel"]["value"] == "phone"
    assert stated["channel"]["fallback"]["value"] == "chat"


def test_consent_withdrawn_then_regranted_allows_contact_again() -> None:
    granted = event("c-1", 1, "consent", purpose="marketing", channel="email", granted=True, minutes=0)
    withdrawn = event("c-1", 2, "consent", purpose="marketing", channel="email", granted=False, minutes=10)
    regranted = event("c-1", 3, "consent", purpose="marketing", channel="email", granted=True, minutes=20)
    assert not decide_contact(view_of(granted, withdrawn), "marketing", "email", BASE)["allowed"]
    answer = decide_contact(view_of(regranted, withdrawn, granted), "marketing", "email", BASE)
    assert answer["allowed"]
    assert regranted.event_id in answer["reasons"][0]


def test_without_consent_only_service_messages_are_allowed() -> None:
    view = view_of(event("c-1", 1))
    assert decide_contact(view, "service", "email", BASE)["allowed"]
    refused = decide_contact(view, "marketing", "email", BASE)
    assert not refused["allowed"]
    assert "no consent recorded" in refused["reasons"][0]


def test_the_most_specific_decision_decides_and_do_not_contact_overrides_all() -> None:
    all_marketing = event("c-1", 1, "consent", purpose="marketing", granted=True)
    no_sms_at_all = event("c-1", 2, "consent", purpose="any", channel="phone", granted=False)
    not_by_email = event("c-1", 3, "consent", purpose="marketing", channel="email", granted=False)
    view = view_of(all_marketing, no_sms_at_all, not_by_email)
    assert not decide_contact(view, "marketing", "email", BASE)["allowed"]
    assert decide_contact(view, "marketing", "phone", BASE)["allowed"]  # purpose beats any+channel
    assert not decide_contact(view, "research", "phone", BASE)["allowed"]
    everything = event("c-1", 4, "consent", purpose="any", granted=False)
    stop = view_of(all_marketing, everything)
    assert stop["consent"]["do_not_contact"]
    answer = decide_contact(stop, "service", None, BASE)
    assert not answer["allowed"] and everything.event_id in answer["reasons"][0]


def test_the_contact_answer_says_how_and_whether_the_channel_is_preferred() -> None:
    view = view_of(
        event("c-1", 1, "consent", purpose="marketing", granted=True),
        event("c-1", 2, "preference", preferences={"channel": "email", "tone": "formal", "contact_hours": "18:00-20:00",
                                                   "loyalty_tier": "gold"}),
    )  # fmt: skip
    answer = decide_contact(view, "marketing", "phone", BASE)
    assert answer["how"] == {"channel": "email", "contact_hours": "18:00-20:00", "tone": "formal"}
    assert any("they prefer email" in reason for reason in answer["reasons"])
    assert any("is their preferred" in r for r in decide_contact(view, "marketing", "email", BASE)["reasons"])


def test_one_complaint_outweighs_three_good_visits() -> None:
    visits = [event("c-1", p, kind="visit", sentiment=0.6, minutes=p) for p in (1, 2, 3)]
    complaint = event("c-1", 4, kind="complaint", sentiment=-0.6, outcome="unresolved", minutes=4, emotion="annoyed")
    view = view_of(*visits, complaint)
    assert view["experience"]["score"] < 0  # (3 * 0.6 - 4 * 0.6) / 7
    assert view["recent"][0]["emotion"] == "annoyed"
    [reason] = view["experience"]["risk_reasons"]
    assert reason["code"] == "unresolved_issue" and reason["event_ids"] == [complaint.event_id]


def test_an_issue_closes_only_with_a_later_resolution_of_the_same_case() -> None:
    opened = event("c-1", 1, kind="support_case", outcome="escalated", minutes=10, attributes={"case_id": "K-1"})
    earlier = event("c-1", 2, kind="support_case", outcome="resolved", minutes=5, attributes={"case_id": "K-1"})
    other = event("c-1", 3, kind="support_case", outcome="resolved", minutes=20, attributes={"case_id": "K-2"})
    assert view_of(opened, earlier, other)["experience"]["at_risk"]
    closed = event("c-1", 4, kind="complaint", outcome="resolved", minutes=30, attributes={"case_id": "K-1"})
    view = view_of(closed, opened, earlier, other)
    assert not view["experience"]["at_risk"] and view["experience"]["open_issues"] == []
    loose = event("c-1", 5, kind="complaint", outcome="pending", minutes=25)
    # Without a case id, only a later closing event of the same kind that has no case id either closes it.
    assert [i["event_id"] for i in view_of(loose, other, closed)["experience"]["open_issues"]] == [loose.event_id]


def test_a_case_is_named_by_case_id_or_by_an_older_events_attributes_case_id() -> None:
    opened = event("c-1", 1, kind="complaint", outcome="unresolved", minutes=10, attributes={"case_id": "K-1"})
    closed = event("c-1", 2, kind="support_case", outcome="resolved", minutes=20, case_id="K-1")
    other = event("c-1", 3, kind="complaint", minutes=30, case_id="K-2", attributes={"case_id": "K-1"})
    view = view_of(opened, closed, other)
    # The older event's attributes.case_id and the newer case_id are one case; case_id wins where both are given.
    assert [(i["event_id"], i["case_id"]) for i in view["experience"]["open_issues"]] == [(other.event_id, "K-2")]


def test_an_issue_recorded_without_an_outcome_is_open_until_a_later_one_of_its_kind_closes_it() -> None:
    complaint = event("c-1", 1, kind="complaint", sentiment=-0.4, minutes=10)  # no outcome: nobody closed it
    case = event("c-1", 2, kind="support_case", minutes=12)
    assert [i["event_id"] for i in view_of(complaint, case)["experience"]["open_issues"]] == [
        case.event_id, complaint.event_id,
    ]  # fmt: skip
    other_kind = event("c-1", 3, kind="support_case", outcome="resolved", minutes=30)
    assert [i["event_id"] for i in view_of(other_kind, complaint, case)["experience"]["open_issues"]] == [
        complaint.event_id
    ]
    earlier = event("c-1", 4, kind="complaint", outcome="resolved", minutes=5)
    assert view_of(complaint, earlier)["experience"]["at_risk"]  # resolved before it was raised: still open
    later = event("c-1", 5, kind="complaint", outcome="cancelled", minutes=40)
    view = view_of(later, complaint, case, other_kind)
    assert view["experience"]["open_issues"] == [] and not view["experience"]["at_risk"]


def test_three_negative_experiences_in_a_row_put_a_customer_at_risk() -> None:
    good = [event("c-1", p, sentiment=0.9, minutes=p) for p in (1, 2)]
    bad = [event("c-1", p, sentiment=-0.5, minutes=p) for p in (3, 4, 5)]
    codes = [r["code"] for r in view_of(*good, *bad)["experience"]["risk_reasons"]]
    assert "negative_run" in codes
    after = event("c-1", 6, sentiment=0.9, minutes=6)
    assert "negative_run" not in [r["code"] for r in view_of(*good, *bad, after)["experience"]["risk_reasons"]]


def test_a_falling_score_compares_recent_feelings_with_the_long_run() -> None:
    # A year of delight, then two bad weeks: the long memory still leans positive, the short one does not.
    happy = [event("c-1", p, sentiment=0.9, minutes=p * 30 * DAY) for p in range(1, 12)]
    bad = [event("c-1", 20, sentiment=-0.4, minutes=365 * DAY), event("c-1", 21, sentiment=0.1, minutes=366 * DAY)]
    view = view_of(*happy, *bad)
    experience = view["experience"]
    assert experience["score"] - experience["recent_score"] >= 30
    [reason] = [r for r in experience["risk_reasons"] if r["code"] == "falling_score"]
    assert reason["event_ids"] == [bad[0].event_id]
    assert "falling_score" not in [r["code"] for r in view_of(*happy)["experience"]["risk_reasons"]]


def test_loyalty_counts_distinct_days_returns_and_purchases() -> None:
    minutes = [0, 60, DAY, 3 * DAY, 3 * DAY + 5, 400 * DAY]
    view = view_of(*[event("c-1", p, minutes=m, kind="purchase" if p < 3 else "visit") for p, m in
                     enumerate(minutes, 1)])  # fmt: skip
    loyalty = view["loyalty"]
    assert (loyalty["active_days"], loyalty["returns"], loyalty["purchases"]) == (4, 3, 2)
    assert loyalty["last_seen_at"].startswith("2026-02-05")
    assert view_as_of(view, BASE + timedelta(days=402))["loyalty"]["recency_days"] == 2.0


def test_memberships_follow_the_latest_decision() -> None:
    view = view_of(
        event("c-1", 1, "membership", account_id="a-1", role="technical", member=True, minutes=0),
        event("c-1", 2, "membership", account_id="a-2", role="decision_maker", member=True, minutes=5),
        event("c-1", 3, "membership", account_id="a-1", role="technical", member=False, minutes=3),
    )
    assert view["accounts"] == {"a-2": "decision_maker"}
