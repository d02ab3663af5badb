"""Events accepted once stay valid forever: producers upgrade on their own schedule."""

import json
from pathlib import Path

import pytest

from contracts import EVENT_TYPES, EventParseError, parse_event

EXAMPLES = Path(__file__).parent / "examples"


@pytest.mark.parametrize("event", json.loads((EXAMPLES / "spine-v1.json").read_text()), ids=lambda e: e["id"])
def test_events_the_spine_accepted_still_validate(event: dict) -> None:
    assert parse_event(event).id == event["id"]


def envelope(event_type: str, data: dict) -> dict:
    return {
        "specversion": "1.0",
        "id": f"x-{event_type}",
        "source": "crm",
        "type": event_type,
        "time": "2026-06-01T09:00:00Z",
        "data": data,
    }


NEW_TYPES = {
    "cx.consent.changed.v1": {"customer_id": "c-1", "purpose": "marketing", "channel": "email", "granted": False},
    "cx.identity.linked.v1": {"customer_id": "c-1", "identity": {"kind": "email", "value": "ana@example.org"}},
    "cx.identity.unlinked.v1": {"customer_id": "c-1", "identity": {"kind": "loyalty_card", "value": "LC-1"}},
    "cx.account.membership.changed.v1": {
        "customer_id": "c-1",
        "account_id": "acct-1",
        "role": "purchasing",
        "member": True,
    },
    "cx.customer.erased.v1": {"customer_id": "c-1"},
}


def test_every_type_in_the_design_is_known() -> None:
    assert set(EVENT_TYPES) == {"cx.touchpoint.recorded.v1", "cx.preference.stated.v1", *NEW_TYPES}


@pytest.mark.parametrize("event_type", sorted(NEW_TYPES))
def test_new_event_types_validate(event_type: str) -> None:
    assert parse_event(envelope(event_type, NEW_TYPES[event_type])).customer_id == "c-1"


def test_a_touchpoint_may_name_its_customer_by_identity() -> None:
    event = parse_event(
        envelope(
            "cx.touchpoint.recorded.v1",
            {"identity": {"kind": "loyalty_card", "value": "LC-8812"}, "channel": "store", "kind": "purchase"},
        )
    )
    assert event.customer_id is None
    assert event.data.identity is not None and event.data.identity.kind == "loyalty_card"


def test_a_touchpoint_must_name_its_customer_somehow() -> None:
    with pytest.raises(EventParseError, match="name the customer"):
        parse_event(envelope("cx.touchpoint.recorded.v1", {"channel": "store", "kind": "visit"}))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("channel", "carrier_pigeon"),
        ("contact_hours", "evenings"),
        ("timezone", "Mars/Olympus"),
        ("language", "English!"),
        ("tone", "loud"),
        ("frequency", "hourly"),
        ("avoid_topics", "politics"),
    ],
)
def test_catalogue_preferences_are_typed(name: str, value: object) -> None:
    with pytest.raises(EventParseError) as caught:
        parse_event(envelope("cx.preference.stated.v1", {"customer_id": "c-1", "preferences": {name: value}}))
    assert caught.value.errors[0]["path"] == "data.preferences"
    assert name in caught.value.errors[0]["message"]


def test_extras_outside_the_catalogue_are_free_form() -> None:
    event = parse_event(
        envelope(
            "cx.preference.stated.v1",
            {
                "customer_id": "c-1",
                "preferences": {"favourite_table": "by the window", "timezone": "Europe/Madrid"},
                "expires_at": "2027-01-01T00:00:00Z",
            },
        )
    )
    assert event.data.preferences["favourite_table"] == "by the window"


def test_unknown_account_roles_are_refused_but_other_is_accepted() -> None:
    data = dict(NEW_TYPES["cx.account.membership.changed.v1"], role="chief_vibes_officer")
    with pytest.raises(EventParseError):
        parse_event(envelope("cx.account.membership.changed.v1", data))
    data["role"] = "other"
    assert parse_event(envelope("cx.account.membership.changed.v1", data))


def test_sms_is_a_channel_for_consent_touchpoints_and_preferences() -> None:
    consent = parse_event(
        envelope(
            "cx.consent.changed.v1", {"customer_id": "c-1", "purpose": "marketing", "channel": "sms", "granted": True}
        )
    )
    touchpoint = parse_event(
        envelope("cx.touchpoint.recorded.v1", {"customer_id": "c-1", "channel": "sms", "kind": "marketing_message"})
    )
    preference = parse_event(
        envelope("cx.preference.stated.v1", {"customer_id": "c-1", "preferences": {"channel": "sms"}})
    )
    assert consent.data.channel == touchpoint.data.channel == preference.data.preferences["channel"] == "sms"
