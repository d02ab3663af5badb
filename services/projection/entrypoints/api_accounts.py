"""GET /v1/accounts/{id}: a B2B account's buying team and its rolled-up health."""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from contracts.views import AccountView
from services.projection.domain import account_as_of
from services.projection.entrypoints.api_common import now_of, reader_of, wait_for_position

router = APIRouter()


@router.get("/v1/accounts/{account_id}", response_model=AccountView)
async def get_account(
    account_id: str, request: Request, min_position: Annotated[int | None, Query(ge=0)] = None
) -> dict[str, Any]:
    reader = reader_of(request)

    async def fetch() -> dict[str, Any] | None:
        return await reader.get_account(account_id)

    view = await wait_for_position(request, fetch, min_position)
    if view is None:
        raise HTTPException(404, detail=f"no view of account {account_id!r}")
    return account_as_of(view, now_of(request))
