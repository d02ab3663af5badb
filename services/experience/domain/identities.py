"""How an external identifier becomes the key we store instead of it: normalised, then hashed with a secret key.

The raw identifier (an email, a phone number, a loyalty card) never reaches the event store: only
HMAC-SHA256(server key, "kind:normalised value"). Without the key a stored hash cannot be tested against a
guessed email; with it, the same identifier always finds the same link. Changing the key orphans every link.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass

_NOT_PHONE_DIGIT = re.compile(r"\D")


class InvalidIdentityError(ValueError):
    """The identifier normalises to nothing usable (a phone number without digits, a blank email)."""


@dataclass(frozen=True, slots=True)
class IdentityKey:
    """An identity as stored and looked up: its kind and the keyed hash of its normalised value."""

    kind: str
    value_hash: str

    def as_stored(self) -> dict[str, str]:
        return {"kind": self.kind, "value_hash": self.value_hash}


def normalise(kind: str, value: str) -> str:
    """Emails compare without case or surrounding space; phones as their digits with a leading + kept."""
    value = value.strip()
    if kind == "email":
        value = value.lower()
    elif kind == "phone":
        value = ("+" if value.startswith("+") else "") + _NOT_PHONE_DIGIT.sub("", value)
        if not value.lstrip("+"):
            raise InvalidIdentityError("a phone number needs digits")
    if not value:
        raise InvalidIdentityError(f"an identity of kind {kind!r} needs a non-blank value")
    return value


class IdentityHasher:
    """Turns identifiers into IdentityKeys with one server-side secret."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the identity hash key must not be empty")
        self._key = key

    def key_of(self, kind: str, value: str) -> IdentityKey:
        # The kind is part of the message, so a loyalty card number equal to a CRM id is a different identity.
        message = f"{kind}:{normalise(kind, value)}".encode()
        return IdentityKey(kind, hmac.new(self._key, message, hashlib.sha256).hexdigest())
