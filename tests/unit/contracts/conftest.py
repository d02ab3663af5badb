import pytest

from contracts.event_types import TOUCHPOINT_RECORDED


@pytest.fixture
def touchpoint() -> dict:
    return {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "pos/store-12",
        "type": TOUCHPOINT_RECORDED,
        "time": "2026-03-01T10:00:00+01:00",
        "data": {"customer_id": "c-1", "channel": "store", "kind": "visit", "sentiment": 0.5},
    }
