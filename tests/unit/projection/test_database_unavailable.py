"""A view store whose connection PostgreSQL dropped answers 503 with Retry-After, never 500; other errors stay 500."""

from typing import Any

import asyncpg
import httpx
from sqlalchemy.exc import DBAPIError, ProgrammingError

from services.projection.entrypoints.http import create_http_app
from tests.unit.projection.fake_view_reader import FakeViewReader


class FailingReader(FakeViewReader):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def get_view(self, customer_id: str) -> Any:
        raise self.error


async def get_view(error: Exception) -> httpx.Response:
    app = create_http_app(FailingReader(error))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://projection") as client:
        return await client.get("/v1/customers/c-1")


async def test_a_terminated_connection_is_a_503_to_retry() -> None:
    lost = DBAPIError("SELECT ...", {}, asyncpg.exceptions.AdminShutdownError("terminating connection"))
    answer = await get_view(lost)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"


async def test_a_bad_statement_stays_a_500() -> None:
    bad = ProgrammingError("SELECT ...", {}, asyncpg.exceptions.UndefinedTableError("no such table"))
    assert (await get_view(bad)).status_code == 500
