"""Finding a customer by what a clerk has (an email, a phone, a loyalty card): the experience service alone holds
the identity hashes, so the brief asks it, in a POST body so the identifier never sits in a URL or a log."""

import httpx
import structlog

log = structlog.get_logger(__name__)
IDENTITY_KINDS = ("email", "phone", "loyalty_card")


class IdentityLookupError(RuntimeError):
    """The experience service could not answer; the person is told, nothing else happens."""


class IdentityClient:
    def __init__(
        self, base_url: str, service_key: str | None = None, transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 5.0,
    ) -> None:  # fmt: skip
        self._base_url = base_url.rstrip("/")
        self._service_key = service_key
        self._transport = transport
        self._timeout_s = timeout_s

    async def customer_of(self, kind: str, value: str, person_key: str) -> str | None:
        """The customer linked to the identity, None when nobody is; `person_key` is used without a service key."""
        key = self._service_key or person_key
        headers = {"authorization": f"Bearer {key}"} if key else {}
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout_s) as client:
                answer = await client.post(
                    f"{self._base_url}/v1/identities/lookup", json={"kind": kind, "value": value}, headers=headers
                )
        except httpx.HTTPError as error:
            log.warning("brief.identity_lookup_failed", error=type(error).__name__)
            raise IdentityLookupError("the experience service cannot be reached") from None
        if answer.status_code == 404:
            return None
        if answer.status_code in (401, 403):
            raise IdentityLookupError("the experience service refused the lookup (it needs a key with pii:read)")
        if answer.status_code == 422:
            raise IdentityLookupError(f"that is not a usable {kind.replace('_', ' ')}")
        if answer.status_code != 200:
            raise IdentityLookupError(f"the experience service answered {answer.status_code}")
        customer_id: str = answer.json()["customer_id"]
        return customer_id
