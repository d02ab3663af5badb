"""API keys: stored hashed, parsed strictly, found by constant-time comparison."""

import pytest

from contracts.auth import ApiKeyConfigError, Scope, describe, find_key, new_key, parse_keys


def test_a_configured_key_is_found_with_its_scopes() -> None:
    key = new_key()
    keys = parse_keys(describe("crm", key, [Scope.VIEWS_READ, Scope.PII_READ]) + "," + describe("pos", new_key(),
                                                                                              [Scope.EVENTS_WRITE]))
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
