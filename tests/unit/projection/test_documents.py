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


def test_a_fold_state_round_trips_through_msgpack_with_years_of_visit_days() -> None:
    from services.projection.adapters.documents import decode_state, encode_state
    from services.projection.domain import CustomerState
    from services.projection.domain.state import RecentState

    state = CustomerState(
        "c-1",
        version=3,
        position=9,
        day_base=19_000,
        day_bits=(1 << 900) | 0b101,
        account_rank=(5, 9),
        recent=[RecentState("e-1", 5, 9, "store", "visit", 0.5, "positive")],
    )
    assert decode_state(encode_state(state)) == state


def test_fold_states_stored_as_json_before_msgpack_still_read() -> None:
    from services.projection.adapters.documents import decode_state, encode
    from services.projection.domain import CustomerState

    state = CustomerState("c-1", version=2, position=7, day_base=19_000, day_bits=(1 << 300) | 1, touchpoints=2)
    assert decode_state(encode(state.to_json())) == state


def test_fold_states_stored_as_plain_msgpack_before_compression_still_read() -> None:
    import lz4.block

    from services.projection.adapters.documents import decode_state, encode_state
    from services.projection.domain import CustomerState

    state = CustomerState("c-1", version=4, position=11, day_base=19_000, day_bits=(1 << 70) | 1, touchpoints=4)
    compressed = encode_state(state)
    plain = lz4.block.decompress(compressed[1:])  # format 1, as stored before states were compressed
    assert plain[:1] == b"\x93"
    assert decode_state(plain) == state
    assert len(compressed) < len(plain) + 16
