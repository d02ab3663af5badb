"""Finding the customer an identifier names (`POST /v1/identities/lookup`), hashed as intake hashes it."""

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.experience.adapters.ports import EventStoreUnavailableError, IdentityDirectory
from services.experience.domain.identities import IdentityHasher, InvalidIdentityError
from services.experience.entrypoints.answers import store_unavailable
from services.experience.entrypoints.refusals import RequestError


class IdentityQuery(BaseModel):
    """An identifier a customer gave (an email, a phone number, a loyalty card), sent in a body, never a URL."""

    model_config = ConfigDict(extra="forbid")
    kind: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_.-]+$")]
    value: Annotated[str, Field(min_length=1, max_length=320)]


@dataclass(frozen=True, slots=True)
class IdentityLookup:
    """What `POST /v1/identities/lookup` needs: the link table and the key the identities were hashed with."""

    directory: IdentityDirectory
    hasher: IdentityHasher

    async def customer_of(self, query: IdentityQuery) -> str | None:
        """The linked customer, or None; a malformed identifier is a 422, an unreachable store a 503."""
        try:
            key = self.hasher.key_of(query.kind, query.value)
        except InvalidIdentityError as error:
            raise RequestError(422, str(error), reason="validation_failed") from None
        try:
            return await self.directory.customer_of(key)
        except EventStoreUnavailableError as error:
            raise store_unavailable(error) from None
