"""What upstream producers can send, and the errors they get when they get it wrong."""

import pytest

from contracts import EventParseError, parse_event


def paths(error: EventParseError) -> set[str]:
    return {e["path"] for e in error.errors}


def test_a_touchpoint_names_its_customer(touchpoint: dict) -> None:
    event = parse_event(touchpoint)
    assert event.customer_id == "c-1"
    assert event.data.channel == "store"


def test_extension_attributes_are_kept(touchpoint: dict) -> None:
    touchpoint["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert parse_event(touchpoint).extensions["traceparent"].startswith("00-")


def test_badly_named_extension_attributes_are_refused(touchpoint: dict) -> None:
    touchpoint["Trace-Parent"] = "x"
    with pytest.raises(EventParseError):
        parse_event(touchpoint)


def test_unknown_data_fields_are_refused_with_their_path(touchpoint: dict) -> None:
    touchpoint["data"]["mood"] = "great"
    with pytest.raises(EventParseError) as caught:
        parse_event(touchpoint)
    assert paths(caught.value) == {"data.mood"}


def test_every_bad_field_is_named(touchpoint: dict) -> None:
    touchpoint["time"] = "2026-03-01T10:00:00"  # no time zone
    touchpoint["data"].update(channel="carrier_pigeon", sentiment=1.5, rating={"scale": "nps", "value": 11})
    with pytest.raises(EventParseError) as caught:
        parse_event(touchpoint)
    assert paths(caught.value) == {"time", "data.channel", "data.sentiment", "data.rating"}
    assert caught.value.reason == "validation_failed"


def test_unknown_types_are_refused_naming_the_known_ones(touchpoint: dict) -> None:
    touchpoint["type"] = "cx.touchpoint.recorded.v9"
    with pytest.raises(EventParseError) as caught:
        parse_event(touchpoint)
    assert caught.value.reason == "unknown_type"
    assert "cx.touchpoint.recorded.v1" in caught.value.errors[0]["message"]


def test_subject_must_name_the_same_customer(touchpoint: dict) -> None:
    touchpoint["subject"] = "c-2"
    with pytest.raises(EventParseError, match="differs"):
        parse_event(touchpoint)


def test_other_is_the_escape_for_new_channels_and_kinds(touchpoint: dict) -> None:
    touchpoint["data"].update(channel="other", kind="other")
    assert parse_event(touchpoint).data.kind == "other"


def test_sizes_are_bounded(touchpoint: dict) -> None:
    touchpoint["data"]["note"] = "x" * 2001
    with pytest.raises(EventParseError) as caught:
        parse_event(touchpoint)
    assert paths(caught.value) == {"data.note"}


def test_stated_preferences_default_to_stated() -> None:
    event = parse_event(
        {
            "specversion": "1.0",
            "id": "p-1",
            "source": "crm",
            "type": "cx.preference.stated.v1",
            "time": "2026-03-01T10:00:00Z",
            "data": {"customer_id": "c-1", "preferences": {"channel": "email", "avoid_topics": ["upsell"]}},
        }
    )
    assert event.data.source == "stated"


def test_a_json_array_is_not_an_event() -> None:
    with pytest.raises(EventParseError) as caught:
        parse_event([])
    assert caught.value.reason == "not_an_object"


def test_a_case_id_is_a_field_of_its_own_and_older_events_keep_it_in_attributes(touchpoint: dict) -> None:
    from contracts.catalog import PERSONAL_FIELDS, TOUCHPOINT_RECORDED

    touchpoint["data"].update(case_id="CASE-5521", attributes={"order_number": "ORD-1"})
    assert parse_event(touchpoint).data.case_id == "CASE-5521"
    older = {**touchpoint, "data": {**touchpoint["data"], "attributes": {"case_id": "case-1"}}}
    del older["data"]["case_id"]
    assert parse_event(older).data.attributes == {"case_id": "case-1"}
    # A reference, not free text: every reader sees it, so a name or an email address may not pass for one.
    personal_fields = PERSONAL_FIELDS[TOUCHPOINT_RECORDED]
    assert "case_id" not in personal_fields and "attributes" in personal_fields
    for personal in ("ana.alvarez@example.com", "Ana Alvarez"):
        touchpoint["data"]["case_id"] = personal
        with pytest.raises(EventParseError) as caught:
            parse_event(touchpoint)
        assert paths(caught.value) == {"data.case_id"}
