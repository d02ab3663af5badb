"""Every catalogued event type is folded or ignored on purpose; an ignored or unknown one changes nothing else."""

from typing import Any

import pytest

from contracts.event_types import ALL_TYPES
from services.projection.domain import CustomerState, FoldRules, StoredEvent, event_from_record, fold, render_view
from services.projection.domain.fold import FOLD_BY_TYPE, IGNORED_TYPES
from tests.unit.projection.factories import event, record


def test_every_catalogued_type_is_folded_or_ignored_on_purpose() -> None:
    undecided = set(ALL_TYPES) - FOLD_BY_TYPE.keys() - IGNORED_TYPES
    assert not undecided, f"fold.py must fold these or list them in IGNORED_TYPES: {sorted(undecided)}"
    assert not FOLD_BY_TYPE.keys() & IGNORED_TYPES
    assert FOLD_BY_TYPE.keys() | IGNORED_TYPES <= set(ALL_TYPES)


def view_after(*events: StoredEvent) -> dict[str, Any]:
    state = CustomerState("c-1")
    fold(state, list(events), FoldRules())
    return render_view(state)


def typed(event_type: str, position: int) -> StoredEvent:
    return event_from_record({**record("c-1", position, "identity"), "type": event_type})


@pytest.mark.parametrize("event_type", [*sorted(IGNORED_TYPES), "cx.something.new.v1"])
def test_an_ignored_or_unknown_type_moves_the_version_and_position_only(event_type: str) -> None:
    touchpoint = event("c-1", 1)
    before = view_after(touchpoint)

    after = view_after(touchpoint, typed(event_type, 2))

    assert (after["version"], after["position"]) == (2, 2)
    assert {**after, "version": 1, "position": 1} == before
