"""API keys and their scopes, the same for every Rapport service: how a key looks, is stored and is checked.

A key is `rk_` followed by 40 random URL-safe characters. Services never store keys, only `sha256(key)` in hex;
keys carry enough entropy that a fast hash is safe, and lookups compare every stored hash in constant time.

Configuration (one environment variable per service) lists keys as `name:sha256hex:scope+scope`, separated by
commas, e.g. `pos-sync:9f86d0…:events:write,crm-reader:2c26b4…:views:read+pii:read`.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    EVENTS_WRITE = "events:write"  # send touchpoints
    VIEWS_READ = "views:read"  # read customer and account views
    PII_READ = "pii:read"  # see notes, identifiers and other personal fields in what you read
    ADMIN = "admin"  # erasure, rebuilds, dead-letter replay


@dataclass(frozen=True, slots=True)
class ApiKey:
    name: str
    digest: str
    scopes: frozenset[Scope]


class ApiKeyConfigError(ValueError):
    """The configured key list cannot be understood; the service refuses to start."""


def new_key() -> str:
    return "rk_" + secrets.token_urlsafe(30)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def describe(name: str, key: str, scopes: list[Scope]) -> str:
    """The configuration entry for a key: what an operator puts in the environment."""
    return f"{name}:{digest(key)}:{'+'.join(scope.value for scope in scopes)}"


def parse_keys(configured: str) -> list[ApiKey]:
    keys = []
    for entry in filter(None, (part.strip() for part in configured.split(","))):
        # scope names hold a colon themselves ("events:write"), so split off only name and digest
        name, _, rest = entry.partition(":")
        hexdigest, _, scope_text = rest.partition(":")
        if not name or len(hexdigest) != 64 or not scope_text:
            raise ApiKeyConfigError(f"key entry {name or entry[:12]!r} is not 'name:sha256hex:scope+scope'")
        try:
            scopes = frozenset(Scope(s) for s in scope_text.split("+"))
        except ValueError as error:
            raise ApiKeyConfigError(f"key {name!r}: {error}") from None
        keys.append(ApiKey(name, hexdigest.lower(), scopes))
    return keys


def find_key(keys: list[ApiKey], presented: str) -> ApiKey | None:
    """The key matching `presented`, comparing against every key so timing tells nothing."""
    wanted = digest(presented)
    found = None
    for key in keys:
        if hmac.compare_digest(key.digest, wanted):
            found = key
    return found
