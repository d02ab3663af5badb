"""GET /v1/accounts/{id}: a B2B account's buying team and its rolled-up health."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from contracts.views import AccountView
from services.projection.domain import account_as_of
from services.projection.entrypoints.api_common import AccountId, MinPosition, now_of, reader_of, wait_for_position
from services.projection.entrypoints.auth import Viewer

router = APIRouter()


@router.get("/v1/accounts/{account_id}", response_model=AccountView)
async def get_account(
    account_id: AccountId, request: Request, viewer: Viewer, min_position: MinPosition = None
) -> dict[str, Any]:
    reader = reader_of(request)

    async def fetch() -> dict[str, Any] | None:
        return await reader.get_account(account_id)

    view = await wait_for_position(request, fetch, min_position)
    if view is None:
        raise HTTPException(404, detail=f"no view of account {account_id!r}")
    return viewer.redact(account_as_of(view, now_of(request)))
