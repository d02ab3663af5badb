"""The experience service's event log (`GET /v1/events`), read page by page for a rebuild."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

NEWER_THAN_ANY = 1 << 62


class EventLogError(RuntimeError):
    """The event log could not be read: unreachable, refused (a key without `admin`), or malformed."""


@dataclass(frozen=True, slots=True)
class LogPage:
    lines: list[bytes]  # canonical documents, oldest first
    last_position: int
    head: int


class HttpEventLog:
    """Pages of stored events after a position; an empty page means caught up with the store's head."""

    def __init__(self, base_url: str, api_key: str | None, page_size: int = 10_000, timeout_s: float = 60.0) -> None:
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout_s)
        self._page_size = page_size

    async def head(self) -> int:
        """The store's newest position."""
        return (await self.page(NEWER_THAN_ANY, limit=1)).head

    async def page(self, after: int, shard: int = 0, shards: int = 1, limit: int | None = None) -> LogPage:
        params = {"after": after, "limit": limit or self._page_size, "shard": shard, "shards": shards}
        try:
            response = await self._client.get("/v1/events", params=params)
        except httpx.HTTPError as error:
            raise EventLogError(f"the event log at {self._client.base_url} did not answer: {error!r}") from None
        if response.status_code != 200:
            raise EventLogError(f"the event log answered {response.status_code}: {response.text[:300]}")
        try:
            last, head = int(response.headers["rapport-last-position"]), int(response.headers["rapport-head"])
        except (KeyError, ValueError):
            raise EventLogError("the event log's answer lacks Rapport-Last-Position / Rapport-Head") from None
        return LogPage(response.content.splitlines(), last, head)

    async def pages(self, after: int, shard: int = 0, shards: int = 1) -> AsyncIterator[LogPage]:
        """Every page after `after` until one comes back empty."""
        while True:
            page = await self.page(after, shard, shards)
            if not page.lines:
                return
            yield page
            after = page.last_position

    async def close(self) -> None:
        await self._client.aclose()
