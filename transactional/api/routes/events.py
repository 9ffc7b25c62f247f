"""Storefront clickstream events (ANA-2): ``POST /api/v1/events`` takes a batch of GA4-named events.

The hot path of the API by volume (hundreds of events per request), so the
body is not parsed by pydantic: the raw bytes go through orjson and the domain
validates the plain dicts (services/storefront_events.py). The OpenAPI
document still describes the body, from the JSON schema below.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from transactional.api.deps import CallerDep, execute, get_runtime
from transactional.api.problems import problem
from transactional.bootstrap import Runtime
from transactional.domain import events as domain
from transactional.domain.errors import Invalid, NotFound
from transactional.domain.words import DEVICES, PAYMENT_METHODS, TRAFFIC_SOURCES
from transactional.services import storefront_events as svc

router = APIRouter(prefix="/api/v1", tags=["events"])

_TEXT = {"type": "string", "maxLength": domain.MAX_TEXT, "description": "free text; never a card number"}
_ID = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"}

_ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["item_id"],
    "properties": {
        "item_id": _ID,
        "item_name": _TEXT,
        "item_brand": _TEXT,
        "item_category": _TEXT,
        "item_variant": _TEXT,
        "price_minor": {"type": "integer", "minimum": 0, "description": "minor units of the store currency"},
        "quantity": {"type": "integer", "minimum": 1, "maximum": domain.MAX_QUANTITY, "default": 1},
        "index": {"type": "integer", "minimum": 0, "description": "GA4: position in its list"},
    },
}

_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "event_id",
        "event_name",
        "session_id",
        "anonymous_id",
        "timestamp",
        "traffic_source",
        "device",
    ],
    "properties": {
        "event_id": {"type": "string", "format": "uuid", "description": "deduplication key"},
        "event_name": {"type": "string", "enum": sorted(domain.CLIENT_EVENT_NAMES)},
        "session_id": _ID,
        "anonymous_id": _ID,
        "customer_id": {"type": ["string", "null"], "pattern": "^cus_[0-9a-f]{24}$"},
        "timestamp": {
            "type": "string",
            "format": "date-time",
            "description": "with a UTC offset; at most 72 h old and 5 min ahead of the server",
        },
        "traffic_source": {"type": "string", "enum": sorted(TRAFFIC_SOURCES)},
        "device": {"type": "string", "enum": sorted(DEVICES)},
        "utm_source": _TEXT,
        "utm_medium": _TEXT,
        "utm_campaign": _TEXT,
        "currency": {"type": "string", "description": "the store's ISO 4217 currency"},
        "value_minor": {"type": "integer", "minimum": 0},
        "coupon": _TEXT,
        "item_list_id": _ID,
        "item_list_name": _TEXT,
        "shipping_tier": _TEXT,
        "payment_type": {"type": "string", "enum": sorted(PAYMENT_METHODS)},
        "items": {"type": "array", "maxItems": domain.MAX_ITEMS, "items": _ITEM_SCHEMA},
    },
}

_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["events"],
    "properties": {
        "events": {
            "type": "array",
            "minItems": 1,
            "maxItems": domain.DEFAULT_MAX_BATCH,
            "items": _EVENT_SCHEMA,
        }
    },
}

_COUNTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["received", "inserted", "duplicates"],
    "properties": {
        "received": {"type": "integer"},
        "inserted": {"type": "integer"},
        "duplicates": {"type": "integer", "description": "already stored or repeated in the batch"},
    },
}

_BAD_BODY = f'the body must be an object {{"events": [...]}} with 1 to {domain.DEFAULT_MAX_BATCH} events'


@router.post(
    "/events",
    operation_id="events.ingest",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA}}}
    },
    responses={
        200: {
            "description": "Stored (after the commit): counts of the batch",
            "content": {"application/json": {"schema": _COUNTS_SCHEMA}},
        },
        422: {
            "description": "invalid_events (nothing stored; ``bad`` lists index, code, field, reason "
            "of every bad event), invalid_body, empty_batch or batch_too_large"
        },
    },
)
async def ingest_events(request: Request, caller: CallerDep) -> Response:
    """Store a batch of GA4 e-commerce events (view_item_list … add_payment_info) from the storefront.

    The batch is accepted whole or not at all. An event_id already stored (or repeated in the
    batch) is accepted and ignored: resending a batch is safe. ``purchase`` and ``refund`` are
    emitted by the server only (422 ``server_only_event``).
    """
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return problem(400, "malformed_json", "the request body is not valid JSON", request)
    raw = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(raw, list) or len(payload) != 1:
        raise Invalid(_BAD_BODY, code="invalid_body")
    # Validated here, not in the writer thread: see services.storefront_events.store_events.
    runtime = get_runtime(request)
    events = domain.validate_batch(raw, now=runtime.clock.now(), store_currency=_store_currency(runtime))
    return await execute(request, caller, lambda uow: svc.store_events(uow, events, received=len(raw)))


def _store_currency(runtime: Runtime) -> str:
    # The store row is written once, at set-up; reading the committed state is safe here,
    # as authorize() does for API keys.
    for store in runtime.writer.state.scan("store"):
        return str(store["currency"])
    raise NotFound("the store has not been initialised", code="store_not_initialised")
