"""Warehouses, stock levels and the movement journal, adjustments, reorder points, alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from transactional.api.deps import CallerDep, ReaderDep, execute, json_response
from transactional.domain.forecast_alerts import check_count
from transactional.services import inventory
from transactional.services import inventory_forecasts as forecasts
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
    kind: str | None = None,
    source: str | None = None,
    limit: Limit = 100,
    after: str | None = None,
) -> Response:
    """One live list: the core's low-stock alerts and the pipeline's forecasts (stockout, overstock).

    Filters: status (open, acknowledged, resolved), kind (low_stock, stockout_forecast,
    overstock), source (core, pipeline). Forecast fields are null on core alerts; decimals
    (daily_demand, days_of_cover) are strings.
    """
    return json_response(
        reads.list_alerts(
            cur,
            status=status,
            sku_id=sku_id,
            warehouse_id=warehouse_id,
            kind=kind,
            source=source,
            limit=limit,
            after=after,
        )
    )


@router.post(
    "/alerts/forecasts",
    operation_id="alerts.publish_forecasts",
    responses={
        200: {"description": "Applied (or a replay of an applied publish): counts"},
        409: {"description": "stale_forecast (as_of before the latest applied) or forecast_snapshot_reused"},
        413: {"description": "body_too_large or too_many_alerts (at most 20,000 alerts)"},
        422: {
            "description": "validation_error, invalid_alerts (``bad`` lists index, code, field and reason "
            "of every broken rule, unknown SKUs and warehouses included) or as_of_in_future"
        },
    },
)
async def publish_forecasts(
    request: Request, caller: CallerDep, body: forecasts.PublishForecastAlerts
) -> Response:
    """Replace the pipeline's forecast alerts with this list (reverse ETL from the marts).

    An alert already live is updated and keeps its status (acknowledged stays acknowledged);
    a new one is raised open; a live pipeline alert missing from the list is resolved. Core
    low-stock alerts are never touched. The same source_snapshot_id and as_of again is a
    no-op answering the same counts. All or nothing.
    """
    check_count(len(body.alerts))  # before building thousands of alerts for nothing
    alerts = [a.to_domain() for a in body.alerts]
    return await execute(
        request,
        caller,
        lambda uow: forecasts.publish_forecast_alerts(uow, body.as_of, body.source_snapshot_id, alerts),
    )


@router.post("/alerts/{alert_id}/acknowledge", operation_id="alerts.acknowledge")
async def acknowledge_alert(alert_id: str, request: Request, caller: CallerDep) -> Response:
    """Mark an open alert as seen by an operator."""
    return await execute(request, caller, lambda uow: inventory.acknowledge_alert(uow, alert_id))
