"""The store's settings: currency, timezone, tax mode."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from transactional.api.deps import CallerDep, ReaderDep, json_response
from transactional.domain.errors import NotFound
from transactional.services.store import store_view
from transactional.storage.reads import admin as reads

router = APIRouter(prefix="/api/v1", tags=["store"])


@router.get("/store", operation_id="store.get")
def get_store(caller: CallerDep, cur: ReaderDep) -> Response:
    """The store's currency (with its minor-unit exponent), timezone and tax mode."""
    row = reads.get_store(cur)
    if row is None:
        raise NotFound("the store has not been initialised", code="store_not_initialised")
    return json_response(store_view(row))
