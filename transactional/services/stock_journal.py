"""Every stock change goes through here: level update, journal row, low-stock alerts.

Keeping the three together is what makes Σ movements = current level hold
(BEY-6) and what raises a low-stock alert in the same commit as the change
that caused it.
"""

from __future__ import annotations

from collections.abc import Callable

from transactional.domain import stock
from transactional.domain.errors import NotFound
from transactional.domain.forecast_alerts import LOW_STOCK, SOURCE_CORE, empty_pipeline_columns
from transactional.storage.state import Row
from transactional.storage.unit_of_work import UnitOfWork

StockRule = Callable[[stock.StockLevel], tuple[stock.StockLevel, stock.Movement]]


def level_of(uow: UnitOfWork, sku_id: str, warehouse_id: str) -> Row:
    row = uow.get("stock_levels", sku_id, warehouse_id)
    if row is None:
        raise NotFound(
            f"SKU {sku_id} is not stocked in warehouse {warehouse_id}",
            code="stock_level_not_found",
        )
    return row


def ensure_level(uow: UnitOfWork, sku_id: str, warehouse_id: str) -> Row:
    """The stock row for a SKU in a warehouse, created empty on first use."""
    row = uow.get("stock_levels", sku_id, warehouse_id)
    if row is not None:
        return row
    uow.require("skus", sku_id, code="sku_not_found", what="SKU")
    uow.require("warehouses", warehouse_id, code="warehouse_not_found", what="warehouse")
    return uow.insert(
        "stock_levels",
        {
            "sku_id": sku_id,
            "warehouse_id": warehouse_id,
            "on_hand": 0,
            "reserved": 0,
            "reorder_point": 0,
            "reorder_quantity": 0,
            "updated_at": uow.now,
        },
    )


def move_stock(
    uow: UnitOfWork,
    sku_id: str,
    warehouse_id: str,
    rule: StockRule,
    *,
    reason: str | None,
    reference_type: str,
    reference_id: str | None,
) -> Row:
    """Apply a domain stock rule (e.g. ``lambda lv: stock.reserve(lv, 3)``) and journal it.

    Returns the new stock_levels row. Raises the rule's domain error (for
    example OutOfStock) before anything is staged.
    """
    row = level_of(uow, sku_id, warehouse_id)
    new_level, movement = rule(stock.StockLevel(row["on_hand"], row["reserved"]))
    updated = uow.update(
        "stock_levels",
        (sku_id, warehouse_id),
        on_hand=new_level.on_hand,
        reserved=new_level.reserved,
        updated_at=uow.now,
    )
    uow.insert(
        "stock_movements",
        {
            "movement_id": uow.new_id("mov"),
            "sku_id": sku_id,
            "warehouse_id": warehouse_id,
            "kind": movement.kind,
            "on_hand_delta": movement.on_hand_delta,
            "reserved_delta": movement.reserved_delta,
            "reason": reason,
            "reference_type": reference_type,
            "reference_id": reference_id,
            "occurred_at": uow.now,
            "actor_key_id": uow.actor.key_id,
        },
    )
    sync_low_stock_alert(uow, updated)
    return updated


def sync_low_stock_alert(uow: UnitOfWork, level: Row) -> None:
    """Open a low-stock alert when available falls under the reorder point; resolve it when it recovers.

    At most one unresolved low-stock alert exists per SKU × warehouse, so a
    burst of orders raises one alert, not one per order.
    """
    current = stock.StockLevel(level["on_hand"], level["reserved"])
    is_low = stock.is_low(current, level["reorder_point"])
    open_alert = next(
        (
            a
            for a in uow.lookup("stock_alerts", "sku_id", level["sku_id"])
            if a["warehouse_id"] == level["warehouse_id"]
            and a["kind"] == LOW_STOCK
            and a["status"] != "resolved"
        ),
        None,
    )
    if is_low and open_alert is None:
        uow.insert(
            "stock_alerts",
            {
                "alert_id": uow.new_id("alr"),
                "sku_id": level["sku_id"],
                "warehouse_id": level["warehouse_id"],
                "kind": LOW_STOCK,
                "source": SOURCE_CORE,
                "status": "open",
                "available_at_raise": current.available,
                "reorder_point": level["reorder_point"],
                "raised_at": uow.now,
                "acknowledged_at": None,
                "acknowledged_by": None,
                "resolved_at": None,
                **empty_pipeline_columns(),
            },
        )
    elif not is_low and open_alert is not None:
        uow.update("stock_alerts", open_alert["alert_id"], status="resolved", resolved_at=uow.now)
