"""Warehouses, stock levels and the movement journal, adjustments, reorder points, alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from transactional.api.deps import CallerDep, ReaderDep, execute, json_response
from transactional.services import inventory
from transactional.storage.reads import inventory as reads

router = APIRouter(prefix="/api/v1", tags=["inventory"])
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get("/warehouses", operation_id="warehouses.list")
def list_warehouses(caller: CallerDep, cur: ReaderDep) -> Response:
    """Warehouses with their region and priority (lower is preferred)."""
    return json_response({"items": reads.list_warehouses(cur)})


@router.post("/warehouses", operation_id="warehouses.create", status_code=201)
async def create_warehouse(request: Request, caller: CallerDep, body: inventory.CreateWarehouse) -> Response:
    """Create a warehouse."""
    return await execute(request, caller, lambda uow: inventory.create_warehouse(uow, body), status=201)


@router.get("/stock", operation_id="stock.list")
def list_stock(
    caller: CallerDep,
    cur: ReaderDep,
    sku_id: str | None = None,
    warehouse_id: str | None = None,
    low_only: bool = False,
    limit: Limit = 100,
    after: str | None = None,
) -> Response:
    """Stock per SKU × warehouse: on hand, reserved, available, reorder point."""
    return json_response(
        reads.list_stock_levels(
            cur, sku_id=sku_id, warehouse_id=warehouse_id, low_only=low_only, limit=limit, after=after
        )
    )


@router.get("/stock/movements", operation_id="stock.movements.list")
def list_movements(
    caller: CallerDep,
    cur: ReaderDep,
    sku_id: str | None = None,
    warehouse_id: str | None = None,
    limit: Limit = 100,
    after: str | None = None,
) -> Response:
    """The append-only stock journal (receipts, reservations, releases, shipments, adjustments)."""
    return json_response(
        reads.list_stock_movements(cur, sku_id=sku_id, warehouse_id=warehouse_id, limit=limit, after=after)
    )


@router.post("/stock/{sku_id}/{warehouse_id}/adjustments", operation_id="stock.adjust", status_code=201)
async def adjust_stock(
    sku_id: str, warehouse_id: str, request: Request, caller: CallerDep, body: inventory.AdjustStock
) -> Response:
    """Correct on-hand stock with a reason (journaled as an adjustment)."""
    return await execute(
        request, caller, lambda uow: inventory.adjust_stock(uow, sku_id, warehouse_id, body), status=201
    )


@router.put("/stock/{sku_id}/{warehouse_id}/reorder-point", operation_id="stock.reorder_points.set")
async def set_reorder_point(
    sku_id: str, warehouse_id: str, request: Request, caller: CallerDep, body: inventory.SetReorderPoint
) -> Response:
    """Set the reorder point and quantity; raises or resolves the low-stock alert at once."""
    return await execute(
        request, caller, lambda uow: inventory.set_reorder_point(uow, sku_id, warehouse_id, body)
    )


@router.get("/alerts", operation_id="alerts.list")
def list_alerts(
    caller: CallerDep,
    cur: ReaderDep,
    status: str | None = None,
    sku_id: str | None = None,
    warehouse_id: str | None = None,
    limit: Limit = 100,
    after: str | None = None,
) -> Response:
    """Inventory alerts (low stock), filterable by status."""
    return json_response(
        reads.list_alerts(
            cur, status=status, sku_id=sku_id, warehouse_id=warehouse_id, limit=limit, after=after
        )
    )


@router.post("/alerts/{alert_id}/acknowledge", operation_id="alerts.acknowledge")
async def acknowledge_alert(alert_id: str, request: Request, caller: CallerDep) -> Response:
    """Mark an open alert as seen by an operator."""
    return await execute(request, caller, lambda uow: inventory.acknowledge_alert(uow, alert_id))
