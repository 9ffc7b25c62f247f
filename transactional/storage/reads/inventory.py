"""Read queries for warehouses, stock levels and movements, alerts, suppliers and purchase orders.

``get_*`` functions return None when the row does not exist (the API answers
404). Stock levels carry ``available = on_hand − reserved``.
"""

from __future__ import annotations

from typing import Any

import duckdb

from transactional.domain.errors import Invalid
from transactional.storage.reads import fetch_dicts, fetch_one, page

Cursor = duckdb.DuckDBPyConnection

ALERT_STATUSES = frozenset({"open", "acknowledged", "resolved"})
ALERT_KINDS = frozenset({"low_stock", "stockout_forecast", "overstock"})
ALERT_SOURCES = frozenset({"core", "pipeline"})
PO_STATUSES = frozenset({"open", "partially_received", "received", "cancelled"})

_WAREHOUSE_COLS = "warehouse_id, code, name, region, priority, created_at"
# level_key orders the keyset pages of a table keyed on two columns.
_LEVEL_SELECT = """
    select * from (
        select
            sku_id || '/' || warehouse_id as level_key,
            sku_id, warehouse_id, on_hand, reserved, on_hand - reserved as available,
            reorder_point, reorder_quantity, updated_at
        from stock_levels
    ) as levels
    where true
"""
_MOVEMENT_COLS = (
    "movement_id, sku_id, warehouse_id, kind, on_hand_delta, reserved_delta, reason, "
    "reference_type, reference_id, occurred_at, actor_key_id"
)
# The forecast columns are null on core (low-stock) alerts.
_ALERT_COLS = (
    "alert_id, sku_id, warehouse_id, kind, source, status, available_at_raise, reorder_point, raised_at, "
    "acknowledged_at, acknowledged_by, resolved_at, severity, abc_class, on_hand, reserved, available, "
    "incoming, daily_demand, days_of_cover, forecast_stockout_date, suggested_reorder_quantity, as_of, "
    "source_snapshot_id, updated_at"
)
_SUPPLIER_COLS = "supplier_id, name, email, lead_time_days, created_at"
_PO_COLS = "purchase_order_id, supplier_id, warehouse_id, status, expected_on, created_at, updated_at"
_PO_LINE_COLS = (
    "purchase_order_line_id, purchase_order_id, sku_id, quantity_ordered, quantity_received, unit_cost_minor"
)


def _check_word(kind: str, value: str | None, allowed: frozenset[str]) -> None:
    if value is not None and value not in allowed:
        raise Invalid(
            f"invalid {kind} {value!r}: expected one of {', '.join(sorted(allowed))}", code=f"invalid_{kind}"
        )


def _filters(sql: str, **columns: Any) -> tuple[str, list[Any]]:
    """Append ``and <column> = ?`` for each filter given (column names are ours, values are parameters)."""
    params: list[Any] = []
    for column, value in columns.items():
        if value is not None:
            sql += f" and {column} = ?"
            params.append(value)
    return sql, params


# -- warehouses --------------------------------------------------------------------------
def list_warehouses(cur: Cursor) -> list[dict[str, Any]]:
    return fetch_dicts(cur, f"select {_WAREHOUSE_COLS} from warehouses order by priority, warehouse_id")


def get_warehouse(cur: Cursor, warehouse_id: str) -> dict[str, Any] | None:
    return fetch_one(cur, f"select {_WAREHOUSE_COLS} from warehouses where warehouse_id = ?", [warehouse_id])


# -- stock -------------------------------------------------------------------------------
def list_stock_levels(
    cur: Cursor,
    *,
    sku_id: str | None = None,
    warehouse_id: str | None = None,
    low_only: bool = False,
    limit: int = 100,
    after: str | None = None,
) -> dict[str, Any]:
    """Stock per SKU × warehouse; page on ``level_key`` (``<sku_id>/<warehouse_id>``).

    ``low_only`` keeps the levels under their reorder point (the low-stock rule).
    """
    sql, params = _filters(_LEVEL_SELECT, sku_id=sku_id, warehouse_id=warehouse_id)
    if low_only:
        sql += " and available < reorder_point"
    return page(cur, sql, params, id_column="level_key", limit=limit, after=after)


def get_stock_level(cur: Cursor, sku_id: str, warehouse_id: str) -> dict[str, Any] | None:
    sql, params = _filters(_LEVEL_SELECT, sku_id=sku_id, warehouse_id=warehouse_id)
    return fetch_one(cur, sql, params)


def list_stock_movements(
    cur: Cursor,
    *,
    sku_id: str | None = None,
    warehouse_id: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> dict[str, Any]:
    """The movement journal in movement_id order: by time to the millisecond, arbitrary within one."""
    sql, params = _filters(
        f"select {_MOVEMENT_COLS} from stock_movements where true", sku_id=sku_id, warehouse_id=warehouse_id
    )
    return page(cur, sql, params, id_column="movement_id", limit=limit, after=after)


# -- alerts ------------------------------------------------------------------------------
def list_alerts(
    cur: Cursor,
    *,
    status: str | None = None,
    sku_id: str | None = None,
    warehouse_id: str | None = None,
    kind: str | None = None,
    source: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> dict[str, Any]:
    """Core low-stock and pipeline forecast alerts in one list, in alert_id order."""
    _check_word("alert_status", status, ALERT_STATUSES)
    _check_word("alert_kind", kind, ALERT_KINDS)
    _check_word("alert_source", source, ALERT_SOURCES)
    sql, params = _filters(
        f"select {_ALERT_COLS} from stock_alerts where true",
        status=status,
        sku_id=sku_id,
        warehouse_id=warehouse_id,
        kind=kind,
        source=source,
    )
    return page(cur, sql, params, id_column="alert_id", limit=limit, after=after)


def get_alert(cur: Cursor, alert_id: str) -> dict[str, Any] | None:
    return fetch_one(cur, f"select {_ALERT_COLS} from stock_alerts where alert_id = ?", [alert_id])


# -- suppliers and purchase orders -------------------------------------------------------
def list_suppliers(cur: Cursor, *, limit: int = 100, after: str | None = None) -> dict[str, Any]:
    return page(
        cur,
        f"select {_SUPPLIER_COLS} from suppliers where true",
        [],
        id_column="supplier_id",
        limit=limit,
        after=after,
    )


def get_supplier(cur: Cursor, supplier_id: str) -> dict[str, Any] | None:
    return fetch_one(cur, f"select {_SUPPLIER_COLS} from suppliers where supplier_id = ?", [supplier_id])


def _attach_lines(cur: Cursor, orders: list[dict[str, Any]]) -> None:
    if not orders:
        return
    ids = [o["purchase_order_id"] for o in orders]
    lines = fetch_dicts(
        cur,
        f"select {_PO_LINE_COLS} from purchase_order_lines "
        f"where purchase_order_id in ({', '.join(['?'] * len(ids))}) order by purchase_order_line_id",
        ids,
    )
    by_order: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for line in lines:
        by_order[line["purchase_order_id"]].append(line)
    for order in orders:
        order["lines"] = by_order[order["purchase_order_id"]]


def list_purchase_orders(
    cur: Cursor,
    *,
    status: str | None = None,
    supplier_id: str | None = None,
    warehouse_id: str | None = None,
    limit: int = 50,
    after: str | None = None,
) -> dict[str, Any]:
    """A page of purchase orders, each with its lines."""
    _check_word("purchase_order_status", status, PO_STATUSES)
    sql, params = _filters(
        f"select {_PO_COLS} from purchase_orders where true",
        status=status,
        supplier_id=supplier_id,
        warehouse_id=warehouse_id,
    )
    result = page(cur, sql, params, id_column="purchase_order_id", limit=limit, after=after)
    _attach_lines(cur, result["items"])
    return result


def get_purchase_order(cur: Cursor, purchase_order_id: str) -> dict[str, Any] | None:
    """The purchase order with its lines and its receipts (each with its lines)."""
    order = fetch_one(
        cur, f"select {_PO_COLS} from purchase_orders where purchase_order_id = ?", [purchase_order_id]
    )
    if order is None:
        return None
    _attach_lines(cur, [order])
    receipts = fetch_dicts(
        cur,
        "select receipt_id, purchase_order_id, received_at, actor_key_id, note from purchase_receipts "
        "where purchase_order_id = ? order by receipt_id",
        [purchase_order_id],
    )
    receipt_lines = fetch_dicts(
        cur,
        "select l.receipt_line_id, l.receipt_id, l.purchase_order_line_id, l.sku_id, l.quantity "
        "from purchase_receipt_lines as l join purchase_receipts as r using (receipt_id) "
        "where r.purchase_order_id = ? order by l.receipt_line_id",
        [purchase_order_id],
    )
    by_receipt: dict[str, list[dict[str, Any]]] = {r["receipt_id"]: [] for r in receipts}
    for line in receipt_lines:
        by_receipt[line["receipt_id"]].append(line)
    for receipt in receipts:
        receipt["lines"] = by_receipt[receipt["receipt_id"]]
    order["receipts"] = receipts
    return order
