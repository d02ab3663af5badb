"""The catalogue maps every type name in contracts.event_types, and only those, to the model that accepts it."""

from typing import get_args

import pytest

from contracts.catalog import EVENT_TYPES
from contracts.event_types import ALL_TYPES


def test_the_catalogue_lists_every_type_once_in_order() -> None:
    assert len(set(ALL_TYPES)) == len(ALL_TYPES)
    assert tuple(EVENT_TYPES) == ALL_TYPES


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_each_type_maps_to_the_model_that_accepts_it(event_type: str) -> None:
    assert get_args(EVENT_TYPES[event_type].model_fields["type"].annotation) == (event_type,)
