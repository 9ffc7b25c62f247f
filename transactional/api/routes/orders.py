"""Orders: checkout, tracking, modification, cancellation and the fulfilment steps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from transactional.api.deps import (
    Caller,
    CallerDep,
    ReaderDep,
    execute,
    get_runtime,
    idempotency_claim,
    json_response,
    request_id,
)
from transactional.api.routes.payments import get_provider
from transactional.domain.errors import Forbidden, NotFound
from transactional.services import orders, payment_flow, shipping
from transactional.storage.reads import orders as reads
from transactional.storage.writer import Outcome

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post("", operation_id="orders.create", status_code=201)
async def place_order(request: Request, caller: CallerDep, body: orders.PlaceOrder) -> Response:
    """Place an order: the server prices it, reserves stock and returns it with a guest access token."""
    return await execute(request, caller, lambda uow: orders.place_order(uow, body), status=201)


@router.get("", operation_id="orders.list")
def list_orders(
    caller: CallerDep,
    cur: ReaderDep,
    limit: Limit = 50,
    after: str | None = None,
    customer_id: str | None = None,
    status: str | None = None,
    placed_from: datetime | None = None,
    placed_to: datetime | None = None,
) -> Response:
    """List orders; a storefront sees only its signed-in customer's orders."""
    if caller.is_storefront:
        if caller.customer_id is None:
            raise Forbidden("listing orders needs a customer token", code="customer_token_required")
        customer_id = caller.customer_id
    result = reads.list_orders(
        cur,
        limit=limit,
        after=after,
        customer_id=customer_id,
        status=status,
        placed_from=placed_from,
        placed_to=placed_to,
    )
    for item in result["items"]:
        item["status_label"] = orders.status_label(item["status"])
    return json_response(result)


@router.get("/{order_id}", operation_id="orders.get")
def get_order(order_id: str, caller: CallerDep, cur: ReaderDep) -> Response:
    """One order with lines, allocations, discounts, shipments and its full status history."""
    access = reads.order_access(cur, order_id)
    if access is None or not caller.can_see_order(access):
        raise NotFound(f"order {order_id} does not exist", code="order_not_found")
    order = reads.get_order(cur, order_id)
    assert order is not None
    order["status_label"] = orders.status_label(order["status"])
    return json_response(order)


@router.patch("/{order_id}", operation_id="orders.modify")
async def modify_order(
    order_id: str, request: Request, caller: CallerDep, body: orders.ModifyOrder
) -> Response:
    """Change lines or address while the order awaits payment (re-priced, stock re-reserved)."""
    return await execute(request, caller, lambda uow: orders.modify_order(uow, order_id, body))


@router.post("/{order_id}/cancel", operation_id="orders.cancel")
async def cancel_order(
    order_id: str, request: Request, caller: CallerDep, body: orders.CancelOrder
) -> Response:
    """Cancel before shipment: unshipped reservations go back to stock, card holds are voided and
    captured money refunded to where it came from."""
    return await _with_provider(request, caller, payment_flow.cancel_order, order_id, body, status=200)


@router.post("/{order_id}/discounts", operation_id="orders.discounts.create")
async def add_discount(
    order_id: str, request: Request, caller: CallerDep, body: orders.AddManualDiscount
) -> Response:
    """An operator's manual discount, with a reason, on an order awaiting payment."""
    return await execute(request, caller, lambda uow: orders.add_manual_discount(uow, order_id, body))


@router.post("/{order_id}/shipments", operation_id="orders.ship", status_code=201)
async def ship_order(
    order_id: str, request: Request, caller: CallerDep, body: shipping.ShipOrder
) -> Response:
    """Dispatch one parcel from one warehouse (split shipments allowed): stock leaves on-hand, the carrier
    service is chosen by rate unless given, and the parcel's share of a card hold is captured."""
    return await _with_provider(request, caller, payment_flow.dispatch, order_id, body, status=201)


async def _with_provider(
    request: Request,
    caller: Caller,
    use_case: Callable[..., Outcome],
    order_id: str,
    body: Any,
    *,
    status: int,
) -> Response:
    """Run a payment_flow use case (writer commands around provider calls) in a worker thread."""
    claim = await idempotency_claim(request, caller)
    outcome: Outcome = await run_in_threadpool(
        use_case,
        get_runtime(request).writer,
        get_provider(request),
        order_id,
        body,
        caller.actor,
        request_id=request_id(request),
        idempotency=claim,
    )
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return json_response({k: v for k, v in outcome.body.items() if k not in _INTERNAL}, status, headers)


_INTERNAL = frozenset({"provider_request", "follow_up"})


@router.post("/{order_id}/complete", operation_id="orders.complete")
async def complete_order(order_id: str, request: Request, caller: CallerDep) -> Response:
    """Close a delivered order."""
    return await execute(request, caller, lambda uow: orders.complete_order(uow, order_id))
