"""The hand-over's canonical document: the envelope's own bytes with the storage attributes after them."""

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from services.experience.adapters.handover import canonical_document

RECORDED = datetime(2026, 11, 23, 10, 15, 0, 250_000, tzinfo=UTC)
ENVELOPE = {
    "specversion": "1.0", "id": "pos-7781-20261123-0042", "source": "pos/store-12", "type": "touchpoint.recorded",
    "subject": "c-ana-alvarez", "time": "2026-11-23T10:14:58Z",
    "data": {"channel": "store", "kind": "purchase", "note": "Ana: \"the usual fit\", café au lait"},
}  # fmt: skip


def test_the_storage_attributes_follow_the_envelope() -> None:
    document = canonical_document(ENVELOPE, orjson.dumps(ENVELOPE), 29, 3, RECORDED)
    assert orjson.loads(document) == {
        **ENVELOPE,
        "position": 29,
        "sequence": 3,
        "recordedat": "2026-11-23T10:15:00.250000Z",
    }
    assert document.startswith(orjson.dumps(ENVELOPE)[:-1])


@pytest.mark.parametrize("attribute", ["position", "sequence", "recordedat"])
def test_a_producers_own_storage_attribute_is_replaced_not_repeated(attribute: str) -> None:
    envelope = {**ENVELOPE, attribute: 999_999}
    document = canonical_document(envelope, orjson.dumps(envelope), 29, 3, RECORDED)
    assert document.count(f'"{attribute}":'.encode()) == 1
    assert orjson.loads(document)["position"] == 29


def test_the_recorded_time_is_written_in_utc() -> None:
    elsewhere = RECORDED.astimezone(timezone(timedelta(hours=-5)))
    document = canonical_document(ENVELOPE, orjson.dumps(ENVELOPE), 29, 3, elsewhere)
    assert orjson.loads(document)["recordedat"] == "2026-11-23T10:15:00.250000Z"
