"""Suppliers, purchase orders and receipts against them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from transactional.api.deps import CallerDep, ReaderDep, execute, json_response
from transactional.domain.errors import NotFound
from transactional.services import purchasing
from transactional.storage.reads import inventory as reads

router = APIRouter(prefix="/api/v1", tags=["purchasing"])
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get("/suppliers", operation_id="suppliers.list")
def list_suppliers(
    caller: CallerDep, cur: ReaderDep, limit: Limit = 100, after: str | None = None
) -> Response:
    """Suppliers with their lead times."""
    return json_response(reads.list_suppliers(cur, limit=limit, after=after))


@router.post("/suppliers", operation_id="suppliers.create", status_code=201)
async def create_supplier(request: Request, caller: CallerDep, body: purchasing.CreateSupplier) -> Response:
    """Create a supplier."""
    return await execute(request, caller, lambda uow: purchasing.create_supplier(uow, body), status=201)


@router.get("/purchase-orders", operation_id="purchase_orders.list")
def list_purchase_orders(
    caller: CallerDep,
    cur: ReaderDep,
    status: str | None = None,
    supplier_id: str | None = None,
    warehouse_id: str | None = None,
    limit: Limit = 50,
    after: str | None = None,
) -> Response:
    """Purchase orders with their lines."""
    return json_response(
        reads.list_purchase_orders(
            cur, status=status, supplier_id=supplier_id, warehouse_id=warehouse_id, limit=limit, after=after
        )
    )


@router.get("/purchase-orders/{purchase_order_id}", operation_id="purchase_orders.get")
def get_purchase_order(purchase_order_id: str, caller: CallerDep, cur: ReaderDep) -> Response:
    """One purchase order with lines and quantities received."""
    row = reads.get_purchase_order(cur, purchase_order_id)
    if row is None:
        raise NotFound(f"purchase order {purchase_order_id} does not exist", code="purchase_order_not_found")
    return json_response(row)


@router.post("/purchase-orders", operation_id="purchase_orders.create", status_code=201)
async def create_purchase_order(
    request: Request, caller: CallerDep, body: purchasing.CreatePurchaseOrder
) -> Response:
    """Order stock from a supplier into a warehouse, with an expected arrival date."""
    return await execute(request, caller, lambda uow: purchasing.create_purchase_order(uow, body), status=201)


@router.post("/purchase-orders/{purchase_order_id}/cancel", operation_id="purchase_orders.cancel")
async def cancel_purchase_order(purchase_order_id: str, request: Request, caller: CallerDep) -> Response:
    """Cancel a purchase order nothing has been received against."""
    return await execute(
        request, caller, lambda uow: purchasing.cancel_purchase_order(uow, purchase_order_id)
    )


@router.post(
    "/purchase-orders/{purchase_order_id}/receipts", operation_id="purchase_orders.receive", status_code=201
)
async def receive(
    purchase_order_id: str, request: Request, caller: CallerDep, body: purchasing.ReceivePurchaseOrder
) -> Response:
    """Receive goods against the order's lines; stock arrives in the warehouse."""
    return await execute(
        request,
        caller,
        lambda uow: purchasing.receive_purchase_order(uow, purchase_order_id, body),
        status=201,
    )
