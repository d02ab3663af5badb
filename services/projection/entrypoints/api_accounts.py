"""GET /v1/accounts/{id}: a B2B account's buying team and its rolled-up health."""

from functools import partial
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from contracts.views import AccountView
from services.projection.adapters.ports import ViewReader
from services.projection.domain import account_as_of
from services.projection.entrypoints.api_common import (
    AccountId,
    Fetched,
    MinPosition,
    now_of,
    reader_of,
    wait_for_position,
)
from services.projection.entrypoints.auth import Viewer

router = APIRouter()


@router.get("/v1/accounts/{account_id}", response_model=AccountView)
async def get_account(
    account_id: AccountId, request: Request, response: Response, viewer: Viewer, min_position: MinPosition = None
) -> dict[str, Any]:
    """The account's view. With `min_position=N`, waits up to ~2 s until the roll-up's own position is N or more,
    and says in the `Rapport-Min-Position` header whether it got there (`reached`) or gave up (`timed-out`). Only
    its own position counts: its members' events come on several partitions, so no one partition's progress
    vouches for it."""
    reader = reader_of(request)
    if min_position is None:
        view = await reader.get_account(account_id)
    else:
        view = await wait_for_position(request, response, partial(_account_applied, reader, account_id, min_position))
    if view is None:
        raise HTTPException(404, detail=f"no view of account {account_id!r}")
    return viewer.redact(account_as_of(view, now_of(request)))


async def _account_applied(reader: ViewReader, account_id: str, position: int) -> Fetched:
    view = await reader.get_account(account_id)
    return view, view is not None and view["position"] >= position
