"""Registry of core tables: their keys and how much of each the writer keeps in memory.

The writer decides every command in memory (DESIGN.md, "The write path"), so it
must hold the rows that commands read. Residency says which:

- ``full``: every row is in memory, loaded at start.
- ``window``: rows matching ``window_sql`` are loaded at start; a lookup by key
  that misses memory reads the row from the database (``miss_reads_db``).
  Children (``parent``) are loaded together with their parent row, so looking
  up an order's lines after the order itself is always complete.
- ``append``: written, never read back by the writer (journals).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Residency = Literal["full", "window", "append"]


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    key: tuple[str, ...]
    residency: Residency
    indexes: tuple[str, ...] = ()
    window_sql: str | None = None  # SQL predicate choosing rows to preload
    window_params: tuple[str, ...] = ()  # names of runtime parameters for window_sql
    miss_reads_db: bool = True
    parent: tuple[str, str] | None = None  # (parent table, foreign-key column)
    # Window rows leave memory (with their children) once committed in a state
    # outside the window, so memory tracks open work, not history.
    evict_when: Callable[[Mapping[str, Any]], bool] | None = None


def _status_in(*statuses: str) -> Callable[[Mapping[str, Any]], bool]:
    closed = frozenset(statuses)
    return lambda row: row["status"] in closed


_TERMINAL = "('completed', 'cancelled', 'expired')"

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("store", ("store_id",), "full"),
        TableSpec("server_secrets", ("name",), "full"),
        TableSpec("commits", ("commit_seq",), "append"),
        TableSpec("api_keys", ("key_id",), "full", indexes=("secret_sha256",)),
        TableSpec("audit_log", ("audit_id",), "append"),
        TableSpec(
            "idempotency_keys",
            ("api_key_id", "route", "idempotency_key"),
            "window",
            window_sql="created_at >= ?",
            window_params=("idempotency_cutoff",),
            miss_reads_db=False,
        ),
        TableSpec("categories", ("category_id",), "full"),
        TableSpec("tax_rates", ("region", "tax_class"), "full"),
        TableSpec("shipping_rates", ("region", "min_order_minor"), "full", indexes=("region",)),
        TableSpec("products", ("product_id",), "full"),
        TableSpec("skus", ("sku_id",), "full", indexes=("product_id", "sku_code")),
        TableSpec("sku_prices", ("price_id",), "full", indexes=("sku_id",)),
        TableSpec("customers", ("customer_id",), "full", indexes=("email",)),
        TableSpec("customer_addresses", ("address_id",), "full", indexes=("customer_id",)),
        TableSpec("warehouses", ("warehouse_id",), "full", indexes=("code",)),
        TableSpec("stock_levels", ("sku_id", "warehouse_id"), "full", indexes=("sku_id",)),
        TableSpec("stock_movements", ("movement_id",), "append"),
        # Unresolved alerts are all in memory, so a lookup by source lists every live pipeline
        # alert: what a forecast publish replaces (services/inventory_forecasts.py).
        TableSpec(
            "stock_alerts",
            ("alert_id",),
            "window",
            indexes=("sku_id", "source"),
            window_sql="status <> 'resolved'",
            evict_when=_status_in("resolved"),
        ),
        # A few rows a day at most; the latest as_of and replays are answered from memory.
        TableSpec("forecast_publications", ("publication_id",), "full", indexes=("source_snapshot_id",)),
        TableSpec("suppliers", ("supplier_id",), "full"),
        TableSpec(
            "purchase_orders",
            ("purchase_order_id",),
            "window",
            window_sql="status in ('open', 'partially_received')",
            evict_when=_status_in("received", "cancelled"),
        ),
        TableSpec(
            "purchase_order_lines",
            ("purchase_order_line_id",),
            "window",
            indexes=("purchase_order_id",),
            parent=("purchase_orders", "purchase_order_id"),
        ),
        TableSpec("purchase_receipts", ("receipt_id",), "append"),
        TableSpec("purchase_receipt_lines", ("receipt_line_id",), "append"),
        TableSpec("coupons", ("coupon_id",), "full", indexes=("code",)),
        TableSpec(
            "orders",
            ("order_id",),
            "window",
            indexes=("status",),
            window_sql=f"status not in {_TERMINAL}",
            evict_when=_status_in("completed", "cancelled", "expired"),
        ),
        TableSpec(
            "order_lines",
            ("order_line_id",),
            "window",
            indexes=("order_id",),
            parent=("orders", "order_id"),
        ),
        TableSpec(
            "order_allocations",
            ("allocation_id",),
            "window",
            indexes=("order_id",),
            parent=("orders", "order_id"),
        ),
        TableSpec(
            "order_discounts",
            ("order_discount_id",),
            "window",
            indexes=("order_id",),
            parent=("orders", "order_id"),
        ),
        TableSpec("order_status_history", ("history_id",), "append"),
        # A shipment's tracking status changes until delivery, so shipments and their lines
        # travel with their order: an open order's parcels are in memory, a closed one's come
        # back with it on a miss.
        TableSpec(
            "shipments",
            ("shipment_id",),
            "window",
            indexes=("order_id", "tracking_number"),
            parent=("orders", "order_id"),
        ),
        TableSpec(
            "shipment_lines",
            ("shipment_line_id",),
            "window",
            indexes=("shipment_id",),
            parent=("orders", "order_id"),
        ),
        TableSpec("tracking_events", ("tracking_event_id",), "append"),
        TableSpec("shipping_notifications", ("notification_id",), "append"),
        TableSpec("carriers", ("carrier_code",), "full"),
        TableSpec("carrier_services", ("carrier_code", "service_code"), "full", indexes=("carrier_code",)),
        TableSpec(
            "carrier_transit_days",
            ("carrier_code", "service_code", "region"),
            "full",
            indexes=("carrier_code",),
        ),
        # Payments and refunds are children of their order: every attempt of an open order
        # is in memory (so "is a payment in flight?" and "what is refundable?" are complete
        # lookups), and a closed order's payments come back with it on a miss.
        TableSpec(
            "payments",
            ("payment_id",),
            "window",
            indexes=("order_id", "status"),
            parent=("orders", "order_id"),
        ),
        TableSpec(
            "refunds",
            ("refund_id",),
            "window",
            indexes=("payment_id",),
            parent=("orders", "order_id"),
        ),
        # Provider calls still in flight (pending, or unknown after a timeout) stay in memory,
        # so the amounts in flight per payment and the reconciler's work list are complete.
        TableSpec(
            "payment_operations",
            ("operation_id",),
            "window",
            indexes=("payment_id", "status"),
            window_sql="status in ('pending', 'unknown')",
            evict_when=_status_in("succeeded", "failed"),
        ),
        TableSpec("ledger_postings", ("posting_id",), "append"),
        TableSpec("ledger_lines", ("posting_id", "line_no"), "append"),
        TableSpec("store_credit_accounts", ("customer_id",), "full"),
        TableSpec("store_credit_movements", ("movement_id",), "append"),
        # Clickstream (ANA-2): append-only, written in columnar blocks, deduplicated on
        # event_id through RECENT_IDS below, never read back row by row.
        TableSpec("storefront_events", ("event_id",), "append"),
        TableSpec("storefront_event_items", ("event_id", "item_index"), "append"),
    )
}

# Append-only tables deduplicated on an id: table -> (id column, event-time column).
# The writer remembers the ids whose event time is recent (storage/recent_ids.py).
RECENT_IDS: dict[str, tuple[str, str]] = {"storefront_events": ("event_id", "occurred_at")}

CHILDREN: dict[str, list[TableSpec]] = {}
for _spec in TABLES.values():
    if _spec.parent is not None:
        CHILDREN.setdefault(_spec.parent[0], []).append(_spec)
