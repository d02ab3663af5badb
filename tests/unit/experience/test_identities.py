"""How identifiers are normalised and hashed before anything stores them."""

import pytest

from services.experience.domain.identities import IdentityHasher, InvalidIdentityError, normalise


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("email", "  Ana.Lopez@Example.ORG ", "ana.lopez@example.org"),
        ("phone", "+34 (600) 12-34-56", "+34600123456"),
        ("phone", "0600 123 456", "0600123456"),
        ("loyalty_card", " LC-8812 ", "LC-8812"),  # other kinds only lose surrounding space: case may matter
    ],
)
def test_identifiers_are_normalised_by_kind(kind: str, value: str, expected: str) -> None:
    assert normalise(kind, value) == expected


@pytest.mark.parametrize(("kind", "value"), [("phone", "call me"), ("email", "   "), ("crm", " ")])
def test_an_identifier_that_normalises_to_nothing_is_refused(kind: str, value: str) -> None:
    with pytest.raises(InvalidIdentityError):
        normalise(kind, value)


def test_the_same_identifier_written_differently_has_one_hash_and_no_trace_of_the_value() -> None:
    hasher = IdentityHasher(b"k" * 32)

    one, two = hasher.key_of("email", "Ana@Example.org"), hasher.key_of("email", " ana@example.org")

    assert one == two and one.kind == "email"
    assert len(one.value_hash) == 64 and "ana" not in one.value_hash


def test_the_hash_depends_on_the_kind_and_on_the_server_key() -> None:
    hasher = IdentityHasher(b"k" * 32)

    assert hasher.key_of("crm", "12345").value_hash != hasher.key_of("loyalty_card", "12345").value_hash
    assert hasher.key_of("crm", "12345") != IdentityHasher(b"j" * 32).key_of("crm", "12345")
