"""The fold's fast time formatting writes exactly what datetime.isoformat writes, for every representable moment."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from services.projection.domain.events import from_micros, iso, to_micros

FIRST = to_micros(datetime(1, 1, 1, tzinfo=UTC))
LAST = to_micros(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))


@given(st.integers(min_value=FIRST, max_value=LAST))
def test_iso_matches_isoformat(micros: int) -> None:
    assert iso(micros) == from_micros(micros).isoformat(timespec="microseconds")


def test_edges() -> None:
    for micros in (FIRST, LAST, 0, -1, 1, 86_400_000_000 - 1):
        assert iso(micros) == from_micros(micros).isoformat(timespec="microseconds")
    assert datetime.fromisoformat(iso(1_700_000_000_123_456)) == from_micros(1_700_000_000_123_456)
