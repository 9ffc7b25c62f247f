"""Carriers, shipments and tracking: the carrier catalogue, parcels, tracking events, carrier webhooks.

A carrier's webhook is not called with an API key: it signs each request with
the carrier's webhook secret (shown once when the carrier is created).
``Emporium-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``;
a signature older or newer than five minutes is refused, so a captured request
cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

import pydantic
from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from transactional.api.deps import Caller, CallerDep, ReaderDep, execute, get_runtime, json_response
from transactional.domain.errors import NotFound, Unauthorized
from transactional.services import shipping
from transactional.storage.reads import shipping as reads

router = APIRouter(prefix="/api/v1", tags=["shipping"])
Limit = Annotated[int, Query(ge=1, le=200)]
SIGNATURE_HEADER = "Emporium-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300


@router.get("/carriers", operation_id="carriers.list")
def list_carriers(caller: CallerDep, cur: ReaderDep) -> Response:
    """Carriers with their service levels: handling hours, rate rule and transit days per region."""
    return json_response({"items": reads.list_carriers(cur)})


@router.post("/carriers", operation_id="carriers.create", status_code=201)
async def create_carrier(request: Request, caller: CallerDep, body: shipping.CreateCarrier) -> Response:
    """Add a carrier and its service levels; the webhook secret is in this response only."""
    return await execute(request, caller, lambda uow: shipping.create_carrier(uow, body), status=201)


@router.get("/shipments", operation_id="shipments.list")
def list_shipments(
    caller: CallerDep,
    cur: ReaderDep,
    limit: Limit = 50,
    after: str | None = None,
    order_id: str | None = None,
    carrier_code: str | None = None,
    tracking_status: str | None = None,
    capture_status: str | None = None,
) -> Response:
    """Shipments, filtered by order, carrier, tracking status or capture status (``declined`` finds the
    parcels that left without their money)."""
    return json_response(
        reads.list_shipments(
            cur,
            limit=limit,
            after=after,
            order_id=order_id,
            carrier_code=carrier_code,
            tracking_status=tracking_status,
            capture_status=capture_status,
        )
    )


@router.get("/shipments/{shipment_id}", operation_id="shipments.get")
def get_shipment(shipment_id: str, caller: CallerDep, cur: ReaderDep) -> Response:
    """A shipment with its lines, tracking events and the notification sent at dispatch."""
    shipment = reads.get_shipment(cur, shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} does not exist", code="shipment_not_found")
    return json_response(shipment)


@router.post("/shipments/{shipment_id}/tracking-events", operation_id="shipments.track", status_code=201)
async def track_shipment(
    shipment_id: str, request: Request, caller: CallerDep, body: shipping.TrackingUpdate
) -> Response:
    """An operator records a tracking event; the order moves to shipped or delivered as its parcels say."""
    return await execute(
        request, caller, lambda uow: shipping.record_tracking(uow, shipment_id, body), status=201
    )


@router.post(
    "/carriers/{carrier_code}/webhook",
    operation_id="carriers.webhook",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": shipping.CarrierTrackingEvent.model_json_schema()}},
        }
    },
)
async def carrier_webhook(carrier_code: str, request: Request) -> Response:
    """A carrier's tracking event, signed with its webhook secret (no API key; see the module notes)."""
    raw = await request.body()
    runtime = get_runtime(request)
    with runtime.reader() as cur:
        secret = reads.webhook_secret(cur, shipping.WEBHOOK_SECRET_PREFIX + carrier_code)
    if secret is None or not _signature_ok(
        secret, request.headers.get(SIGNATURE_HEADER, ""), raw, runtime.clock.now().timestamp()
    ):
        raise Unauthorized("missing or invalid webhook signature", code="invalid_signature")
    try:
        event = shipping.CarrierTrackingEvent.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        raise RequestValidationError(exc.errors(include_input=False)) from None
    caller = Caller(key_id=f"carrier:{carrier_code}", role="carrier", operation="carriers.webhook")
    return await execute(
        request, caller, lambda uow: shipping.record_carrier_tracking(uow, carrier_code, event), status=201
    )


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value a carrier sends for ``body`` at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _signature_ok(secret: str, header: str, body: bytes, now: float) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), f"t={timestamp},v1={parts.get('v1', '')}")
