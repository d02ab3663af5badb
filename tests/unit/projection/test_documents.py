"""Stored view documents round-trip, and documents written in the zlib era still read."""

import zlib

import orjson

from services.projection.adapters.documents import decode, encode


def test_a_document_round_trips() -> None:
    document = {"customer_id": "c-1", "recent": [{"event_id": "e-1", "sentiment": -0.4}], "n": 3}
    assert decode(encode(document)) == document


def test_documents_from_before_lz4_still_read() -> None:
    document = {"customer_id": "c-1", "score": 12.5}
    assert decode(zlib.compress(orjson.dumps(document), 1)) == document


def test_memoryviews_from_the_driver_read_too() -> None:
    assert decode(memoryview(encode({"a": 1}))) == {"a": 1}
