"""Warehouses, reorder points, manual stock adjustments and low-stock alerts (WMS-1, WMS-2).

Every change of a stock level goes through services.stock_journal, which
journals the movement and raises or resolves the low-stock alert in the same
commit. Operators acknowledge an open alert; it resolves by itself once the
available quantity is back at or above the reorder point.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from transactional.domain import stock
from transactional.domain.card_data import reject_card_data
from transactional.domain.errors import Conflict, Invalid
from transactional.services.stock_journal import ensure_level, move_stock, sync_low_stock_alert
from transactional.storage.state import Row
from transactional.storage.unit_of_work import UnitOfWork

ALERT_OPEN = "open"
ALERT_ACKNOWLEDGED = "acknowledged"
ALERT_RESOLVED = "resolved"
ALERT_STATUSES = frozenset({ALERT_OPEN, ALERT_ACKNOWLEDGED, ALERT_RESOLVED})

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Quantity = Annotated[int, Field(ge=0, le=10**12)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateWarehouse(_Command):
    code: Annotated[
        str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    ]
    name: Name
    region: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9 _-]{1,64}$")]
    priority: Annotated[int, Field(ge=0, le=1_000_000)] = 100  # lower is preferred


class SetReorderPoint(_Command):
    reorder_point: Quantity
    reorder_quantity: Quantity


class AdjustStock(_Command):
    delta: Annotated[int, Field(ge=-(10**12), le=10**12)]  # non-zero: + found/counted, − damaged/lost
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


def warehouse_view(row: Row) -> dict[str, Any]:
    return dict(row)


def stock_level_view(row: Row) -> dict[str, Any]:
    return {**row, "available": row["on_hand"] - row["reserved"]}


def alert_view(row: Row) -> dict[str, Any]:
    return dict(row)


def require_warehouse(uow: UnitOfWork, warehouse_id: str) -> Row:
    return uow.require("warehouses", warehouse_id, code="warehouse_not_found", what="warehouse")


def _require_sku(uow: UnitOfWork, sku_id: str) -> Row:
    return uow.require("skus", sku_id, code="sku_not_found", what="SKU")


def create_warehouse(uow: UnitOfWork, cmd: CreateWarehouse) -> dict[str, Any]:
    reject_card_data({"name": cmd.name}, field_kind="free_text")
    if uow.lookup("warehouses", "code", cmd.code):
        raise Conflict(f"warehouse code {cmd.code} is already used", code="warehouse_code_taken")
    warehouse_id = uow.new_id("whs")
    row = uow.insert(
        "warehouses",
        {
            "warehouse_id": warehouse_id,
            "code": cmd.code,
            "name": cmd.name,
            "region": cmd.region,
            "priority": cmd.priority,
            "created_at": uow.now,
        },
    )
    uow.audit("warehouse.create", "warehouse", warehouse_id, code=cmd.code, region=cmd.region)
    return warehouse_view(row)


def set_reorder_point(
    uow: UnitOfWork, sku_id: str, warehouse_id: str, cmd: SetReorderPoint
) -> dict[str, Any]:
    """Set the SKU × warehouse reorder point and quantity, then raise or resolve its low-stock alert."""
    _require_sku(uow, sku_id)
    require_warehouse(uow, warehouse_id)
    ensure_level(uow, sku_id, warehouse_id)
    level = uow.update(
        "stock_levels",
        (sku_id, warehouse_id),
        reorder_point=cmd.reorder_point,
        reorder_quantity=cmd.reorder_quantity,
        updated_at=uow.now,
    )
    sync_low_stock_alert(uow, level)
    uow.audit(
        "stock.set_reorder_point",
        "stock_level",
        f"{sku_id}/{warehouse_id}",
        reorder_point=cmd.reorder_point,
        reorder_quantity=cmd.reorder_quantity,
    )
    return stock_level_view(level)


def adjust_stock(uow: UnitOfWork, sku_id: str, warehouse_id: str, cmd: AdjustStock) -> dict[str, Any]:
    """Correct on hand by ``cmd.delta`` (a count, damage, loss), journalled as an adjustment.

    Raises Invalid ``invalid_quantity`` (delta 0), ``reason_required``, and
    Conflict ``adjustment_below_reserved`` when on hand would fall below what
    is reserved.
    """
    if cmd.delta == 0:
        raise Invalid("an adjustment needs a non-zero delta", code="invalid_quantity")
    if not cmd.reason:
        raise Invalid("a stock adjustment needs a reason", code="reason_required")
    reject_card_data({"reason": cmd.reason}, field_kind="free_text")
    _require_sku(uow, sku_id)
    require_warehouse(uow, warehouse_id)
    # Check the rule before anything is staged; a level not created yet counts as empty.
    current = uow.get("stock_levels", sku_id, warehouse_id)
    before = stock.StockLevel(current["on_hand"], current["reserved"]) if current else stock.StockLevel(0, 0)
    stock.adjust(before, cmd.delta)
    ensure_level(uow, sku_id, warehouse_id)
    level = move_stock(
        uow,
        sku_id,
        warehouse_id,
        lambda lv: stock.adjust(lv, cmd.delta),
        reason=cmd.reason,
        reference_type="adjustment",
        reference_id=None,
    )
    uow.audit("stock.adjust", "stock_level", f"{sku_id}/{warehouse_id}", delta=cmd.delta, reason=cmd.reason)
    return stock_level_view(level)


def acknowledge_alert(uow: UnitOfWork, alert_id: str) -> dict[str, Any]:
    """Mark an open alert as seen; Conflict ``alert_not_open`` if it is acknowledged or resolved."""
    row = uow.require("stock_alerts", alert_id, code="alert_not_found", what="alert")
    if row["status"] != ALERT_OPEN:
        raise Conflict(
            f"alert {alert_id} is {row['status']}, not open", code="alert_not_open", status=row["status"]
        )
    updated = uow.update(
        "stock_alerts",
        alert_id,
        status=ALERT_ACKNOWLEDGED,
        acknowledged_at=uow.now,
        acknowledged_by=uow.actor.key_id,
    )
    uow.audit("stock_alert.acknowledge", "stock_alert", alert_id)
    return alert_view(updated)
