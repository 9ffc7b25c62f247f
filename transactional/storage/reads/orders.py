"""Reads for orders: one order with everything about it, lists of orders, status history.

The order header never includes ``access_token_sha256``; the API checks a
guest's order token with ``order_access``. Decimal rates are returned as
strings, as the order service's views return them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb

from transactional.domain.orders import parse_status
from transactional.storage.reads import fetch_dicts, fetch_one, page

_HEADER = (
    "select order_id, customer_id, guest_email, status, currency, sales_channel, session_id, "
    "traffic_source, utm_source, utm_medium, utm_campaign, device, ship_name, ship_line1, ship_line2, "
    "ship_city, ship_region, ship_postal_code, ship_country, ship_phone, coupon_code, "
    "subtotal_listed_minor, gross_minor, discount_minor, net_minor, tax_minor, shipping_minor, "
    "total_minor, placed_at, expires_at, paid_at, cancelled_at, updated_at, version from orders"
)


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: str(v) if isinstance(v, Decimal) else v for k, v in row.items()} for row in rows]


def get_order(cur: duckdb.DuckDBPyConnection, order_id: str) -> dict[str, Any] | None:
    """The order header with its active lines, their allocations, active discounts, shipments and history."""
    header = fetch_one(cur, _HEADER + " where order_id = ?", [order_id])
    if header is None:
        return None
    header["lines"] = _plain(
        fetch_dicts(
            cur,
            "select * exclude (commit_seq) from order_lines where order_id = ? and status = 'active' "
            "order by line_no",
            [order_id],
        )
    )
    header["allocations"] = fetch_dicts(
        cur,
        "select a.* exclude (commit_seq) from order_allocations as a "
        "inner join order_lines as l on l.order_line_id = a.order_line_id "
        "where a.order_id = ? and l.status = 'active' order by a.allocation_id",
        [order_id],
    )
    header["discounts"] = _plain(
        fetch_dicts(
            cur,
            "select * exclude (commit_seq) from order_discounts where order_id = ? and is_active "
            "order by source <> 'coupon', created_at, order_discount_id",
            [order_id],
        )
    )
    shipments = fetch_dicts(
        cur,
        "select * exclude (commit_seq) from shipments where order_id = ? order by created_at, shipment_id",
        [order_id],
    )
    shipment_lines = fetch_dicts(
        cur,
        "select sl.* exclude (commit_seq) from shipment_lines as sl "
        "inner join shipments as s on s.shipment_id = sl.shipment_id "
        "where s.order_id = ? order by sl.shipment_line_id",
        [order_id],
    )
    for shipment in shipments:
        shipment["lines"] = [sl for sl in shipment_lines if sl["shipment_id"] == shipment["shipment_id"]]
    header["shipments"] = shipments
    header["status_history"] = status_history(cur, order_id)
    return header


def order_access(cur: duckdb.DuckDBPyConnection, order_id: str) -> dict[str, Any] | None:
    """Who may see the order: its customer and the SHA-256 of its access token (for the API's checks)."""
    return fetch_one(
        cur,
        "select order_id, customer_id, access_token_sha256 from orders where order_id = ?",
        [order_id],
    )


def list_orders(
    cur: duckdb.DuckDBPyConnection,
    *,
    limit: int,
    after: str | None = None,
    customer_id: str | None = None,
    status: str | None = None,
    placed_from: datetime | None = None,
    placed_to: datetime | None = None,
) -> dict[str, Any]:
    """Order headers, keyset-paged on order_id; ``placed_from`` inclusive, ``placed_to`` exclusive."""
    if status is not None:
        status = parse_status(status).value
    sql = (
        _HEADER + " where (? is null or customer_id = ?) and (? is null or status = ?)"
        " and (?::timestamptz is null or placed_at >= ?) and (?::timestamptz is null or placed_at < ?)"
    )
    params = [customer_id, customer_id, status, status, placed_from, placed_from, placed_to, placed_to]
    return page(cur, sql, params, id_column="order_id", limit=limit, after=after)


def status_history(cur: duckdb.DuckDBPyConnection, order_id: str) -> list[dict[str, Any]]:
    """Every status change of the order, oldest first.

    Changes at the same instant in the same commit (two commands of one batch
    on a manual clock) cannot be told apart by time, and ids are ordered only
    to the millisecond, so such ties are put in chain order: each step starts
    from the status the previous one reached.
    """
    rows = fetch_dicts(
        cur,
        "select history_id, order_id, from_status, to_status, changed_at, actor_key_id, actor_role, "
        "reason, request_id, commit_seq from order_status_history where order_id = ? "
        "order by changed_at, commit_seq, history_id",
        [order_id],
    )
    ordered: list[dict[str, Any]] = []
    current: str | None = None
    while rows:
        tie = (rows[0]["changed_at"], rows[0]["commit_seq"])
        group = [r for r in rows if (r["changed_at"], r["commit_seq"]) == tie]
        step = next((r for r in group if r["from_status"] == current), group[0])
        rows.remove(step)
        current = step["to_status"]
        del step["commit_seq"]
        ordered.append(step)
    return ordered
