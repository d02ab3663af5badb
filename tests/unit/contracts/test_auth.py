"""API keys: stored hashed, parsed strictly, found by constant-time comparison."""

import pytest

from contracts import auth
from contracts.auth import ApiKeyConfigError, Scope, describe, digest, find_key, new_key, parse_keys


def test_a_configured_key_is_found_with_its_scopes() -> None:
    key = new_key()
    keys = parse_keys(
        describe("crm", key, [Scope.VIEWS_READ, Scope.PII_READ])
        + ","
        + describe("pos", new_key(), [Scope.EVENTS_WRITE])
    )
    found = find_key(keys, key)
    assert found is not None and found.name == "crm"
    assert found.scopes == {Scope.VIEWS_READ, Scope.PII_READ}


def test_the_configuration_never_holds_the_key_itself() -> None:
    key = new_key()
    assert key not in describe("crm", key, [Scope.ADMIN])


def test_an_unknown_key_is_not_found() -> None:
    assert find_key(parse_keys(describe("crm", new_key(), [Scope.ADMIN])), new_key()) is None


@pytest.mark.parametrize("entry", ["crm", "crm:abc:views:read", "crm:" + "a" * 64 + ":views:write", "crm:" + "a" * 64])
def test_malformed_entries_refuse_to_load(entry: str) -> None:
    with pytest.raises(ApiKeyConfigError):
        parse_keys(entry)


@pytest.mark.parametrize("presented", ["first", "last", "unknown"])
def test_every_configured_key_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch, presented: str) -> None:
    # An early exit on a match, or `==`, would let response times tell how many keys there are or which matched.
    plain = [new_key() for _ in range(3)]
    keys = parse_keys(",".join(describe(f"k{n}", key, [Scope.VIEWS_READ]) for n, key in enumerate(plain)))
    key = {"first": plain[0], "last": plain[-1], "unknown": new_key()}[presented]
    compared: list[tuple[str, str]] = []
    real = auth.hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)

    found = find_key(keys, key)

    assert sorted(compared) == sorted((k.digest, digest(key)) for k in keys)
    assert (found.name if found else None) == {"first": "k0", "last": "k2", "unknown": None}[presented]
