"""API keys and the audit trail (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from transactional.api.deps import CallerDep, ReaderDep, execute, json_response
from transactional.services import keys
from transactional.storage.reads import admin as reads

router = APIRouter(prefix="/api/v1", tags=["keys"])
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post("/keys", operation_id="keys.create", status_code=201)
async def create_key(request: Request, caller: CallerDep, body: keys.CreateKey) -> Response:
    """Create an API key; the secret is in this response only."""
    return await execute(request, caller, lambda uow: keys.create_key(uow, body), status=201)


@router.get("/keys", operation_id="keys.list")
def list_keys(caller: CallerDep, cur: ReaderDep, limit: Limit = 50, after: str | None = None) -> Response:
    """List API keys (never their secrets)."""
    return json_response(reads.list_keys(cur, limit=limit, after=after))


@router.post("/keys/{key_id}/revoke", operation_id="keys.revoke")
async def revoke_key(request: Request, caller: CallerDep, key_id: str) -> Response:
    """Revoke a key at once."""
    return await execute(request, caller, lambda uow: keys.revoke_key(uow, key_id))


@router.post("/keys/{key_id}/rotate", operation_id="keys.rotate", status_code=201)
async def rotate_key(request: Request, caller: CallerDep, key_id: str) -> Response:
    """Issue a new secret for the key's role and revoke the old one."""
    return await execute(request, caller, lambda uow: keys.rotate_key(uow, key_id), status=201)


@router.get("/audit", operation_id="audit.list")
def list_audit(
    caller: CallerDep,
    cur: ReaderDep,
    limit: Limit = 50,
    after: str | None = None,
    action: str | None = None,
) -> Response:
    """The audit trail of admin actions and money/stock movements."""
    return json_response(reads.list_audit(cur, limit=limit, after=after, action=action))
