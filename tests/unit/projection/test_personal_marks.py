"""The publisher's quick test for personal fields says exactly when `redact` would change a view."""

from typing import Any

import orjson
import pytest

from services.projection.adapters.view_publisher import has_personal_fields
from services.projection.domain.redaction import PERSONAL_KEYS, redact
from tests.unit.projection.view_publisher_contract import view_of

SHARED = {"channel": "email", "tone": "casual"}


def _with_recent_field(view: dict[str, Any], key: str) -> dict[str, Any]:
    recent = [{**view["recent"][0], key: "asked for Ana, the tailor"}, *view["recent"][1:]]
    return {**view, "recent": recent}


@pytest.mark.parametrize("key", sorted(PERSONAL_KEYS))
def test_any_personal_key_anywhere_is_found(key: str) -> None:
    view = _with_recent_field(view_of("c-ana-alvarez", 3, preferences=SHARED), key)
    for serialised in (orjson.dumps(view), orjson.dumps(view, option=orjson.OPT_INDENT_2)):
        assert has_personal_fields(view, serialised)
    assert redact(view) != view


@pytest.mark.parametrize(
    "preferences", [SHARED, {"name_to_use": "Ana"}, {"avoid_topics": "weather"}, {"favourite_colour": "teal"}, {}]
)
def test_it_agrees_with_redact(preferences: dict[str, str]) -> None:
    view = view_of("c-ana-alvarez", 2, preferences=preferences or None)
    assert has_personal_fields(view, orjson.dumps(view)) == (redact(view) != view)


def test_a_value_that_merely_names_a_personal_key_is_not_one() -> None:
    view = view_of("c-ana-alvarez", 2, preferences={"tone": "note"})
    assert not has_personal_fields(view, orjson.dumps(view))
