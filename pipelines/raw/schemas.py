"""Pandera schemas of the raw lake: one per exported table (lake.SNAPSHOT_TABLES + lake.APPEND_TABLES).

Types and NOT NULLs mirror transactional/storage/migrations/*.sql as DuckDB writes them to
Parquet and polars reads them back (TIMESTAMPTZ -> Datetime(us, UTC), INTEGER -> Int32,
BIGINT -> Int64, DECIMAL(p, s) -> Decimal(p, s)). On top of the types, every table carries
rules the store guarantees: key columns non-null and unique (within the file for a snapshot
table, within the validated batch for a journal), money in integer minor units with the sign
the domain gives it, statuses and kinds from the domain's vocabularies, and a few cheap
cross-column rules. A rule that a real demo store breaks is a core bug, not a rule to relax.

Every check of ours has a stable name (the quarantine's ``_check``) and a human reason in
``REASONS``; frame-level checks also list the columns they read in ``CHECK_COLUMNS``.
Schemas are not ``strict``: a column added by a new migration is schema drift that
tests/unit/pipelines/raw/test_schemas.py catches, not a reason to quarantine every row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandera.polars as pa
import polars as pl

from transactional.domain.access import Role
from transactional.domain.carriers import MAX_HANDLING_HOURS, MAX_TRANSIT_DAYS, TrackingStatus
from transactional.domain.events import (
    CLIENT_EVENT_NAMES,
    EVENT_NAMES,
    MAX_ITEMS,
    MAX_QUANTITY,
    SERVER_EVENT_NAMES,
)
from transactional.domain.ledger import Account, PostingKind
from transactional.domain.orders import OrderStatus
from transactional.domain.payments import PaymentStatus
from transactional.domain.stock import MOVEMENT_KINDS
from transactional.domain.store_credit import CreditMovementKind
from transactional.domain.words import DEVICES, PAYMENT_METHODS, SALES_CHANNELS, TAX_MODES, TRAFFIC_SOURCES
from transactional.services.inventory import ALERT_STATUSES
from transactional.services.purchasing import PO_STATUSES
from transactional.storage import lake
from transactional.storage.tables import TABLES

# Vocabularies the domain spells only inside services (as literals); named once here.
# access.SYSTEM acts as role "system"; carrier webhooks (api/routes/shipping.py) as role "carrier"
ACTOR_ROLES = frozenset({*(r.value for r in Role), "system", "carrier"})
ORDER_LINE_STATUSES = frozenset({"active", "removed"})  # services/orders.py: a modification removes lines
CAPTURE_STATUSES = frozenset({"not_needed", "pending", "captured", "declined", "unknown"})  # payment_flow
OPERATION_KINDS = frozenset({"authorize", "funds", "capture", "void", "refund"})  # payment_flow requests
OPERATION_STATUSES = frozenset({"pending", "unknown", "succeeded", "failed"})  # tables.py window/evict
REFUND_DESTINATIONS = frozenset({"original", "store_credit"})  # services/payments.py
DISCOUNT_KINDS = frozenset({"percent", "fixed"})  # domain.pricing.Discount.kind
ALERT_SOURCES = frozenset({"core", "pipeline"})  # migrations/0005_forecast_alerts.sql
EVENT_SOURCES = frozenset({"client", "server"})  # domain.events.Event.source

# Parquet types as polars reads the lake.
S = pl.String()
I32 = pl.Int32()
I64 = pl.Int64()
B = pl.Boolean()
D = pl.Date()
TS = pl.Datetime("us", "UTC")
RATE = pl.Decimal(7, 6)
PERCENT = pl.Decimal(5, 4)

# Human reasons per check name (pandera's built-in names included).
REASONS: dict[str, str] = {
    "not_nullable": "is null but the store's column is NOT NULL",
    "field_uniqueness": "duplicate key value within the file/batch",
    "multiple_fields_uniqueness": "duplicate composite key within the file/batch",
    "column_in_dataframe": "column missing from the file",
    "dtype": "column has the wrong type",
}
CHECK_COLUMNS: dict[str, str] = {}
VOCABULARIES: dict[str, tuple[str, ...]] = {}  # in_<name> check -> allowed words


def _reason(name: str, reason: str) -> None:
    known = REASONS.setdefault(name, reason)
    if known != reason:  # one name, one meaning: the quarantine's _check must be unambiguous
        raise ValueError(f"check {name!r} defined twice with different reasons")


def check(name: str, reason: str, rule: Callable[[pl.Expr], pl.Expr]) -> pa.Check:
    """A column check: ``rule(pl.col(column))`` is true for good values (nulls are not tested)."""
    _reason(name, reason)
    return pa.Check(
        lambda data: data.lazyframe.select(rule(pl.col(data.key)).fill_null(True)),
        name=name,
        error=name,  # pandera reports ``error`` as the failure's check: keep it the short name
    )


def frame_check(name: str, reason: str, columns: Iterable[str], rule: pl.Expr) -> pa.Check:
    """A cross-column check; a null operand passes (its column's own not-null check reports it)."""
    _reason(name, reason)
    CHECK_COLUMNS[name] = ",".join(columns)
    return pa.Check(lambda data: data.lazyframe.select(rule.fill_null(True)), name=name, error=name)


def non_negative() -> pa.Check:
    return check("non_negative", "must be >= 0", lambda c: c >= 0)


def positive() -> pa.Check:
    return check("positive", "must be > 0", lambda c: c > 0)


def one_of(vocabulary: str, allowed: Iterable[str]) -> pa.Check:
    values = sorted(str(v) for v in allowed)
    VOCABULARIES[f"in_{vocabulary}"] = tuple(values)
    return check(f"in_{vocabulary}", f"must be one of {', '.join(values)}", lambda c: c.is_in(values))


def between(lo: int, hi: int) -> pa.Check:
    return check(f"between_{lo}_{hi}", f"must be between {lo} and {hi}", lambda c: c.is_between(lo, hi))


def matches(name: str, pattern: str, reason: str) -> pa.Check:
    return check(name, reason, lambda c: c.str.contains(pattern))


CURRENCY = matches("currency_code", r"^[A-Z]{3}$", "must be a 3-letter upper-case currency code")
FRACTION = check("fraction", "must be a rate in [0, 1)", lambda c: (c >= 0) & (c < 1))
PERCENT_OFF = check("percent_off", "must be a fraction in (0, 1]", lambda c: (c > 0) & (c <= 1))


def col(dtype: Any, *checks: pa.Check, null: bool = False) -> pa.Column:
    return pa.Column(dtype, checks=list(checks), nullable=null)


def money(*, null: bool = False) -> pa.Column:
    """Integer minor units, never negative (refunds and credits are separate columns, not signs)."""
    return col(I64, non_negative(), null=null)


def ts(*, null: bool = False) -> pa.Column:
    return col(TS, null=null)


def not_after(name: str, earlier: str, later: str) -> pa.Check:
    return frame_check(
        name, f"{earlier} must not be after {later}", (earlier, later), pl.col(earlier) <= pl.col(later)
    )


def implies(name: str, reason: str, columns: Iterable[str], condition: pl.Expr, then: pl.Expr) -> pa.Check:
    return frame_check(name, reason, columns, ~condition | then)


def table(name: str, columns: Mapping[str, pa.Column], checks: Iterable[pa.Check] = ()) -> pa.DataFrameSchema:
    """The schema of one lake table; its key (tables.py) is non-null and unique, commit_seq > 0."""
    key = TABLES[name].key
    cols = dict(columns)
    cols["commit_seq"] = col(I64, positive())
    for k in key:
        if cols[k].nullable:
            raise ValueError(f"{name}.{k} is a key column and must not be nullable")
    if len(key) == 1:
        cols[key[0]] = pa.Column(cols[key[0]].dtype, checks=cols[key[0]].checks, nullable=False, unique=True)
    return pa.DataFrameSchema(
        cols, checks=list(checks), name=name, unique=list(key) if len(key) > 1 else None, strict=False
    )


ORDER_STATUSES = one_of("order_statuses", OrderStatus)
TRACKING_STATUSES = one_of("tracking_statuses", TrackingStatus)


def _schemas() -> dict[str, pa.DataFrameSchema]:
    s: dict[str, pa.DataFrameSchema] = {}
    s["store"] = table(
        "store",
        {
            "store_id": col(S),
            "name": col(S),
            "currency": col(S, CURRENCY),
            "timezone": col(S),
            "tax_mode": col(S, one_of("tax_modes", TAX_MODES)),
            "order_ttl_seconds": col(I32, positive()),
            "created_at": ts(),
        },
    )
    s["api_keys"] = table(
        "api_keys",
        {
            "key_id": col(S),
            "name": col(S),
            "role": col(S, one_of("roles", Role)),
            "display_prefix": col(S),
            "created_at": ts(),
            "revoked_at": ts(null=True),
            "replaced_by": col(S, null=True),
        },
    )
    s["categories"] = table(
        "categories",
        {
            "category_id": col(S),
            "name": col(S),
            "parent_id": col(S, null=True),
            "created_at": ts(),
            "updated_at": ts(),
            "archived_at": ts(null=True),
        },
        [not_after("created_before_updated", "created_at", "updated_at")],
    )
    s["tax_rates"] = table(
        "tax_rates",
        {"region": col(S), "tax_class": col(S), "rate": col(RATE, FRACTION), "updated_at": ts()},
    )
    s["shipping_rates"] = table(
        "shipping_rates",
        {"region": col(S), "min_order_minor": money(), "fee_minor": money(), "updated_at": ts()},
    )
    s["products"] = table(
        "products",
        {
            "product_id": col(S),
            "name": col(S),
            "description": col(S, null=True),
            "category_id": col(S),
            "tax_class": col(S),
            "attributes_json": col(S),
            "status": col(S),
            "created_at": ts(),
            "updated_at": ts(),
            "archived_at": ts(null=True),
        },
        [not_after("created_before_updated", "created_at", "updated_at")],
    )
    s["skus"] = table(
        "skus",
        {
            "sku_id": col(S),
            "product_id": col(S),
            "sku_code": col(S),
            "name": col(S),
            "attributes_json": col(S),
            "unit_cost_minor": money(),
            "status": col(S),
            "created_at": ts(),
            "updated_at": ts(),
            "archived_at": ts(null=True),
            "weight_grams": col(I32, positive()),
        },
        [not_after("created_before_updated", "created_at", "updated_at")],
    )
    s["sku_prices"] = table(
        "sku_prices",
        {
            "price_id": col(S),
            "sku_id": col(S),
            "price_minor": money(),
            "compare_at_minor": money(null=True),
            "effective_from": ts(),
            "reason": col(S, null=True),
            "created_at": ts(),
            "created_by": col(S, null=True),
        },
    )
    s["customers"] = table(
        "customers",
        {
            "customer_id": col(S),
            "email": col(S),
            "name": col(S),
            "phone": col(S, null=True),
            "region": col(S),
            "password_hash": col(S, null=True),
            "created_at": ts(),
            "updated_at": ts(),
        },
        [not_after("created_before_updated", "created_at", "updated_at")],
    )
    s["customer_addresses"] = table(
        "customer_addresses",
        {
            "address_id": col(S),
            "customer_id": col(S),
            "name": col(S),
            "line1": col(S),
            "line2": col(S, null=True),
            "city": col(S),
            "region": col(S),
            "postal_code": col(S, null=True),
            "country": col(S),
            "phone": col(S, null=True),
            "is_default": col(B),
            "created_at": ts(),
        },
    )
    s["warehouses"] = table(
        "warehouses",
        {
            "warehouse_id": col(S),
            "code": col(S),
            "name": col(S),
            "region": col(S),
            "priority": col(I32),
            "created_at": ts(),
        },
    )
    s["stock_levels"] = table(
        "stock_levels",
        {
            "sku_id": col(S),
            "warehouse_id": col(S),
            "on_hand": col(I64, non_negative()),
            "reserved": col(I64, non_negative()),
            "reorder_point": col(I64, non_negative()),
            "reorder_quantity": col(I64, non_negative()),
            "updated_at": ts(),
        },
        # domain/stock.py: 0 <= reserved <= on_hand is what rules out overselling.
        [frame_check("reserved_le_on_hand", "reserved must not exceed on_hand", ("reserved", "on_hand"),
                     pl.col("reserved") <= pl.col("on_hand"))],
    )  # fmt: skip
    s["stock_alerts"] = table(
        "stock_alerts",
        {
            "alert_id": col(S),
            "sku_id": col(S),
            "warehouse_id": col(S),
            "kind": col(S),
            "status": col(S, one_of("alert_statuses", ALERT_STATUSES)),
            "available_at_raise": col(I64),
            "reorder_point": col(I64, non_negative(), null=True),
            "raised_at": ts(),
            "acknowledged_at": ts(null=True),
            "acknowledged_by": col(S, null=True),
            "resolved_at": ts(null=True),
            # 0005: pipeline (forecast) alerts share the table; their figures are null on core alerts
            "source": col(S, one_of("alert_sources", ALERT_SOURCES)),
            "abc_class": col(S, null=True),
            "severity": col(S, null=True),
            "on_hand": col(I64, null=True),
            "reserved": col(I64, null=True),
            "available": col(I64, null=True),
            "incoming": col(I64, null=True),
            "daily_demand": col(pl.Decimal(18, 4), non_negative(), null=True),
            "days_of_cover": col(pl.Decimal(18, 1), null=True),
            "forecast_stockout_date": col(D, null=True),
            "suggested_reorder_quantity": col(I64, non_negative(), null=True),
            "as_of": col(D, null=True),
            "source_snapshot_id": col(S, null=True),
            "updated_at": ts(null=True),
        },
        [implies("core_alert_has_reorder_point", "a core low-stock alert needs reorder_point",
                 ("source", "reorder_point"), pl.col("source") == "core", pl.col("reorder_point").is_not_null()),
         implies("resolved_has_time", "a resolved alert needs resolved_at", ("status", "resolved_at"),
                 pl.col("status") == "resolved", pl.col("resolved_at").is_not_null())],
    )  # fmt: skip
    s["forecast_publications"] = table(
        "forecast_publications",
        {
            "publication_id": col(S),
            "source_snapshot_id": col(S),
            "as_of": col(D),
            "alerts_sha256": col(S, matches("sha256", r"^[0-9a-f]{64}$", "must be 64 lower-case hex digits")),
            "alert_count": col(I32, non_negative()),
            "raised": col(I32, non_negative()),
            "updated": col(I32, non_negative()),
            "resolved": col(I32, non_negative()),
            "open": col(I32, non_negative()),
            "published_at": ts(),
            "actor_key_id": col(S, null=True),
        },
    )
    s["suppliers"] = table(
        "suppliers",
        {
            "supplier_id": col(S),
            "name": col(S),
            "email": col(S, null=True),
            "lead_time_days": col(I32, non_negative()),
            "created_at": ts(),
        },
    )
    s["purchase_orders"] = table(
        "purchase_orders",
        {
            "purchase_order_id": col(S),
            "supplier_id": col(S),
            "warehouse_id": col(S),
            "status": col(S, one_of("po_statuses", PO_STATUSES)),
            "expected_on": col(D, null=True),
            "created_at": ts(),
            "updated_at": ts(),
        },
        [not_after("created_before_updated", "created_at", "updated_at")],
    )
    s["purchase_order_lines"] = table(
        "purchase_order_lines",
        {
            "purchase_order_line_id": col(S),
            "purchase_order_id": col(S),
            "sku_id": col(S),
            "quantity_ordered": col(I64, positive()),
            "quantity_received": col(I64, non_negative()),
            "unit_cost_minor": money(),
        },
    )
    s["coupons"] = table(
        "coupons",
        {
            "coupon_id": col(S),
            "code": col(S),
            "kind": col(S, one_of("discount_kinds", DISCOUNT_KINDS)),
            "percent_off": col(PERCENT, PERCENT_OFF, null=True),
            "amount_off_minor": col(I64, positive(), null=True),
            "valid_from": ts(),
            "valid_until": ts(null=True),
            "usage_limit": col(I64, non_negative(), null=True),
            "times_used": col(I64, non_negative()),
            "min_subtotal_minor": money(),
            "is_active": col(B),
            "created_at": ts(),
        },
        _discount_value_checks(),
    )
    s["orders"] = table(
        "orders",
        {
            "order_id": col(S),
            "customer_id": col(S, null=True),
            "guest_email": col(S, null=True),
            "status": col(S, ORDER_STATUSES),
            "currency": col(S, CURRENCY),
            "sales_channel": col(S, one_of("sales_channels", SALES_CHANNELS)),
            "session_id": col(S, null=True),
            "traffic_source": col(S, one_of("traffic_sources", TRAFFIC_SOURCES), null=True),
            "utm_source": col(S, null=True),
            "utm_medium": col(S, null=True),
            "utm_campaign": col(S, null=True),
            "device": col(S, one_of("devices", DEVICES), null=True),
            "ship_name": col(S),
            "ship_line1": col(S),
            "ship_line2": col(S, null=True),
            "ship_city": col(S),
            "ship_region": col(S),
            "ship_postal_code": col(S, null=True),
            "ship_country": col(S),
            "ship_phone": col(S, null=True),
            "coupon_code": col(S, null=True),
            "subtotal_listed_minor": money(),
            "gross_minor": money(),
            "discount_minor": money(),
            "net_minor": money(),
            "tax_minor": money(),
            "shipping_minor": money(),
            "total_minor": money(),
            "placed_at": ts(),
            "expires_at": ts(null=True),
            "paid_at": ts(null=True),
            "cancelled_at": ts(null=True),
            "updated_at": ts(),
            "version": col(I32, positive()),
            "attention_code": col(S, null=True),
            "attention_at": ts(null=True),
            "delivered_at": ts(null=True),
        },
        [
            frame_check("customer_or_guest", "an order needs a customer_id or a guest_email",
                        ("customer_id", "guest_email"),
                        pl.col("customer_id").is_not_null() | pl.col("guest_email").is_not_null()),
            _net_is_gross_less_discount(),
            frame_check("total_ge_net", "total_minor must be at least net_minor", ("total_minor", "net_minor"),
                        pl.col("total_minor") >= pl.col("net_minor")),
            implies("cancelled_has_time", "a cancelled order needs cancelled_at", ("status", "cancelled_at"),
                    pl.col("status") == "cancelled", pl.col("cancelled_at").is_not_null()),
            not_after("placed_before_updated", "placed_at", "updated_at"),
        ],
    )  # fmt: skip
    s["order_lines"] = table(
        "order_lines",
        {
            "order_line_id": col(S),
            "order_id": col(S),
            "line_no": col(I32, positive()),
            "status": col(S, one_of("order_line_statuses", ORDER_LINE_STATUSES)),
            "sku_id": col(S),
            "product_id": col(S),
            "category_id": col(S),
            "sku_name": col(S),
            "quantity": col(I64, positive()),
            "quantity_shipped": col(I64, non_negative()),
            "unit_price_minor": money(),
            "unit_cost_minor": money(),
            "tax_rate": col(RATE, FRACTION),
            "list_minor": money(),
            "gross_minor": money(),
            "discount_minor": money(),
            "net_minor": money(),
            "tax_minor": money(),
            "total_minor": money(),
            "quantity_refunded": col(I64, non_negative()),
            "quantity_cancelled": col(I64, non_negative()),
        },
        [
            frame_check("shipped_le_quantity", "quantity_shipped must not exceed quantity",
                        ("quantity_shipped", "quantity"), pl.col("quantity_shipped") <= pl.col("quantity")),
            frame_check("refunded_cancelled_le_quantity",
                        "quantity_refunded + quantity_cancelled must not exceed quantity",
                        ("quantity_refunded", "quantity_cancelled", "quantity"),
                        pl.col("quantity_refunded") + pl.col("quantity_cancelled") <= pl.col("quantity")),
            _net_is_gross_less_discount(),
        ],
    )  # fmt: skip
    s["order_allocations"] = table(
        "order_allocations",
        {
            "allocation_id": col(S),
            "order_id": col(S),
            "order_line_id": col(S),
            "sku_id": col(S),
            "warehouse_id": col(S),
            "quantity": col(I64, positive()),
            "quantity_shipped": col(I64, non_negative()),
            "quantity_released": col(I64, non_negative()),
        },
        [frame_check("shipped_released_le_quantity",
                     "quantity_shipped + quantity_released must not exceed quantity",
                     ("quantity_shipped", "quantity_released", "quantity"),
                     pl.col("quantity_shipped") + pl.col("quantity_released") <= pl.col("quantity"))],
    )  # fmt: skip
    s["order_discounts"] = table(
        "order_discounts",
        {
            "order_discount_id": col(S),
            "order_id": col(S),
            "source": col(S),
            "coupon_code": col(S, null=True),
            "reason": col(S, null=True),
            "kind": col(S, one_of("discount_kinds", DISCOUNT_KINDS)),
            "percent_off": col(PERCENT, PERCENT_OFF, null=True),
            "amount_off_minor": col(I64, positive(), null=True),
            "applied_minor": money(),
            "created_at": ts(),
            "actor_key_id": col(S, null=True),
            "is_active": col(B),
        },
        _discount_value_checks(),
    )
    s["shipments"] = table(
        "shipments",
        {
            "shipment_id": col(S),
            "order_id": col(S),
            "warehouse_id": col(S),
            "status": col(S),
            "created_at": ts(),
            "shipped_at": ts(null=True),
            "carrier_code": col(S, null=True),
            "service_code": col(S, null=True),
            "tracking_number": col(S, null=True),
            "tracking_status": col(S, TRACKING_STATUSES, null=True),
            "weight_grams": col(I32, positive(), null=True),
            "shipping_cost_minor": money(null=True),
            "promised_dispatch_by": ts(null=True),
            "promised_delivery_date": col(D, null=True),
            "delivered_at": ts(null=True),
            "payment_id": col(S, null=True),
            "capture_minor": money(),
            "capture_status": col(S, one_of("capture_statuses", CAPTURE_STATUSES)),
            "updated_at": ts(null=True),
        },
    )
    s["shipment_lines"] = table(
        "shipment_lines",
        {
            "shipment_line_id": col(S),
            "shipment_id": col(S),
            "order_line_id": col(S),
            "allocation_id": col(S),
            "sku_id": col(S),
            "quantity": col(I64, positive()),
            "order_id": col(S, null=True),
        },
    )
    s["carriers"] = table(
        "carriers",
        {"carrier_code": col(S), "name": col(S), "status": col(S), "created_at": ts(), "updated_at": ts()},
    )
    s["carrier_services"] = table(
        "carrier_services",
        {
            "carrier_code": col(S),
            "service_code": col(S),
            "name": col(S),
            "handling_hours": col(I32, between(0, MAX_HANDLING_HOURS)),
            "base_minor": money(),
            "per_kg_minor": money(),
            "max_weight_grams": col(I32, positive(), null=True),
            "status": col(S),
            "created_at": ts(),
            "updated_at": ts(),
        },
    )
    s["carrier_transit_days"] = table(
        "carrier_transit_days",
        {
            "carrier_code": col(S),
            "service_code": col(S),
            "region": col(S),
            "transit_days": col(I32, between(0, MAX_TRANSIT_DAYS)),
        },
    )
    s["payments"] = table(
        "payments",
        {
            "payment_id": col(S),
            "order_id": col(S),
            "customer_id": col(S, null=True),
            "method": col(S, one_of("payment_methods", PAYMENT_METHODS)),
            "currency": col(S, CURRENCY),
            "amount_minor": money(),
            "authorized_minor": money(),
            "captured_minor": money(),
            "refunded_minor": money(),
            "voided_minor": money(),
            "fee_minor": money(),
            "recognized_revenue_minor": money(),
            "recognized_tax_minor": money(),
            "recognized_shipping_minor": money(),
            "refunded_revenue_minor": money(),
            "refunded_tax_minor": money(),
            "refunded_shipping_minor": money(),
            "status": col(S, one_of("payment_statuses", PaymentStatus)),
            "provider": col(S, null=True),
            "provider_ref": col(S, null=True),
            "attempt_id": col(S, null=True),
            "card_brand": col(S, null=True),
            "card_last4": col(S, matches("last4", r"^[0-9]{4}$", "must be 4 digits"), null=True),
            "expires_at": ts(null=True),
            "failure_code": col(S, null=True),
            "created_at": ts(),
            "updated_at": ts(),
        },
        [frame_check("refunded_le_captured", "refunded_minor must not exceed captured_minor",
                     ("refunded_minor", "captured_minor"), pl.col("refunded_minor") <= pl.col("captured_minor"))],
    )  # fmt: skip
    s["refunds"] = table(
        "refunds",
        {
            "refund_id": col(S),
            "order_id": col(S),
            "payment_id": col(S),
            "operation_id": col(S, null=True),
            "amount_minor": col(I64, positive()),
            "destination": col(S, one_of("refund_destinations", REFUND_DESTINATIONS)),
            "reason": col(S),
            "lines_json": col(S, null=True),
            "status": col(S),
            "revenue_minor": money(),
            "tax_minor": money(),
            "shipping_minor": money(),
            "created_at": ts(),
            "updated_at": ts(),
            "actor_key_id": col(S, null=True),
            "request_id": col(S, null=True),
        },
    )
    s["payment_operations"] = table(
        "payment_operations",
        {
            "operation_id": col(S),
            "payment_id": col(S),
            "order_id": col(S),
            "refund_id": col(S, null=True),
            "kind": col(S, one_of("operation_kinds", OPERATION_KINDS)),
            "amount_minor": money(),
            "captured_before_minor": money(),
            "status": col(S, one_of("operation_statuses", OPERATION_STATUSES)),
            "fee_minor": money(),
            "provider": col(S, null=True),
            "provider_ref": col(S, null=True),
            "error_code": col(S, null=True),
            "requested_at": ts(),
            "settled_at": ts(null=True),
            "actor_key_id": col(S, null=True),
            "request_id": col(S, null=True),
            "shipment_id": col(S, null=True),
        },
    )
    s["store_credit_accounts"] = table(
        "store_credit_accounts",
        # domain/store_credit.py: a balance is never negative (a short balance refuses the draw).
        {"customer_id": col(S), "balance_minor": money(), "created_at": ts(), "updated_at": ts()},
    )
    # Journals (append tables): uniqueness holds within the validated batch.
    s["commits"] = table(
        "commits", {"commit_seq": col(I64), "committed_at": ts(), "commands": col(I32, positive())}
    )
    s["audit_log"] = table(
        "audit_log",
        {
            "audit_id": col(S),
            "occurred_at": ts(),
            "actor_key_id": col(S, null=True),
            "actor_role": col(S, one_of("actor_roles", ACTOR_ROLES), null=True),
            "action": col(S),
            "target_type": col(S),
            "target_id": col(S, null=True),
            "request_id": col(S, null=True),
            "details_json": col(S, null=True),
        },
    )
    s["stock_movements"] = table(
        "stock_movements",
        {
            "movement_id": col(S),
            "sku_id": col(S),
            "warehouse_id": col(S),
            "kind": col(S, one_of("movement_kinds", MOVEMENT_KINDS)),
            "on_hand_delta": col(I64),
            "reserved_delta": col(I64),
            "reason": col(S, null=True),
            "reference_type": col(S, null=True),
            "reference_id": col(S, null=True),
            "occurred_at": ts(),
            "actor_key_id": col(S, null=True),
        },
    )
    s["purchase_receipts"] = table(
        "purchase_receipts",
        {
            "receipt_id": col(S),
            "purchase_order_id": col(S),
            "received_at": ts(),
            "actor_key_id": col(S, null=True),
            "note": col(S, null=True),
        },
    )
    s["purchase_receipt_lines"] = table(
        "purchase_receipt_lines",
        {
            "receipt_line_id": col(S),
            "receipt_id": col(S),
            "purchase_order_line_id": col(S),
            "sku_id": col(S),
            "quantity": col(I64, positive()),
        },
    )
    s["order_status_history"] = table(
        "order_status_history",
        {
            "history_id": col(S),
            "order_id": col(S),
            "from_status": col(S, ORDER_STATUSES, null=True),
            "to_status": col(S, ORDER_STATUSES),
            "changed_at": ts(),
            "actor_key_id": col(S, null=True),
            "actor_role": col(S, one_of("actor_roles", ACTOR_ROLES), null=True),
            "reason": col(S, null=True),
            "request_id": col(S, null=True),
        },
    )
    s["tracking_events"] = table(
        "tracking_events",
        {
            "tracking_event_id": col(S),
            "shipment_id": col(S),
            "order_id": col(S),
            "carrier_code": col(S, null=True),
            "status": col(S, TRACKING_STATUSES),
            "previous_status": col(S, TRACKING_STATUSES),
            "applied": col(B),
            "occurred_at": ts(),
            "received_at": ts(),
            "location": col(S, null=True),
            "source": col(S),
            "actor_key_id": col(S, null=True),
            "request_id": col(S, null=True),
        },
    )
    s["shipping_notifications"] = table(
        "shipping_notifications",
        {
            "notification_id": col(S),
            "shipment_id": col(S),
            "order_id": col(S),
            "kind": col(S),
            "recipient": col(S, null=True),
            "subject": col(S),
            "body": col(S),
            "promised_delivery_date": col(D, null=True),
            "created_at": ts(),
        },
    )
    s["ledger_postings"] = table(
        "ledger_postings",
        {
            "posting_id": col(S),
            "kind": col(S, one_of("posting_kinds", PostingKind)),
            "reference_type": col(S),
            "reference_id": col(S),
            "reverses": col(S, null=True),
            "order_id": col(S, null=True),
            "payment_id": col(S, null=True),
            "posted_at": ts(),
            "actor_key_id": col(S, null=True),
            "request_id": col(S, null=True),
        },
    )
    s["ledger_lines"] = table(
        "ledger_lines",
        {
            "posting_id": col(S),
            "line_no": col(I32, positive()),
            "account": col(S, one_of("accounts", Account)),
            "provider": col(S, null=True),
            "debit_minor": money(),
            "credit_minor": money(),
        },
        [frame_check("one_sided_line", "a ledger line is a debit or a credit, not both",
                     ("debit_minor", "credit_minor"), (pl.col("debit_minor") == 0) | (pl.col("credit_minor") == 0))],
    )  # fmt: skip
    s["store_credit_movements"] = table(
        "store_credit_movements",
        {
            "movement_id": col(S),
            "customer_id": col(S),
            "kind": col(S, one_of("credit_movement_kinds", CreditMovementKind)),
            "delta_minor": col(I64, check("non_zero", "must not be 0", lambda c: c != 0)),
            "reference_type": col(S),
            "reference_id": col(S),
            "reason": col(S, null=True),
            "occurred_at": ts(),
            "actor_key_id": col(S, null=True),
            "request_id": col(S, null=True),
        },
        # domain/store_credit.py: issue and refund add credit, a redemption draws it down.
        [frame_check("credit_delta_sign", "issue/refund must add credit (> 0), redemption must draw it (< 0)",
                     ("kind", "delta_minor"),
                     pl.when(pl.col("kind") == CreditMovementKind.redemption.value).then(pl.col("delta_minor") < 0)
                     .otherwise(pl.col("delta_minor") > 0))],
    )  # fmt: skip
    s["storefront_events"] = table(
        "storefront_events",
        {
            "event_id": col(S, matches("uuid", r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                                       "must be a lower-case UUID")),
            "event_name": col(S, one_of("event_names", EVENT_NAMES)),
            "source": col(S, one_of("event_sources", EVENT_SOURCES)),
            "occurred_at": ts(),
            "received_at": ts(),
            "session_id": col(S, null=True),
            "anonymous_id": col(S, null=True),
            "customer_id": col(S, null=True),
            "traffic_source": col(S, one_of("traffic_sources", TRAFFIC_SOURCES), null=True),
            "utm_source": col(S, null=True),
            "utm_medium": col(S, null=True),
            "utm_campaign": col(S, null=True),
            "device": col(S, one_of("devices", DEVICES), null=True),
            "currency": col(S, CURRENCY, null=True),
            "value_minor": money(null=True),
            "tax_minor": money(null=True),
            "shipping_minor": money(null=True),
            "transaction_id": col(S, null=True),
            "coupon": col(S, null=True),
            "item_list_id": col(S, null=True),
            "item_list_name": col(S, null=True),
            "shipping_tier": col(S, null=True),
            "payment_type": col(S, one_of("payment_methods", PAYMENT_METHODS), null=True),
        },
        # domain/events.py: clients may send only client events; purchase/refund come from the server.
        [frame_check("event_source_matches_name", "client events must be client event names, server events "
                     "purchase/refund", ("source", "event_name"),
                     pl.when(pl.col("source") == "server")
                     .then(pl.col("event_name").is_in(sorted(SERVER_EVENT_NAMES)))
                     .otherwise(pl.col("event_name").is_in(sorted(CLIENT_EVENT_NAMES))))],
    )  # fmt: skip
    s["storefront_event_items"] = table(
        "storefront_event_items",
        {
            "event_id": col(S),
            "item_index": col(I32, between(0, MAX_ITEMS - 1)),
            "item_id": col(S),
            "item_name": col(S, null=True),
            "item_brand": col(S, null=True),
            "item_category": col(S, null=True),
            "item_variant": col(S, null=True),
            "item_list_index": col(I32, non_negative(), null=True),
            "price_minor": money(null=True),
            "quantity": col(I32, between(1, MAX_QUANTITY)),
        },
    )
    return s


def _net_is_gross_less_discount() -> pa.Check:
    return frame_check(
        "net_is_gross_less_discount",
        "net_minor must equal gross_minor - discount_minor",
        ("net_minor", "gross_minor", "discount_minor"),
        pl.col("net_minor") == pl.col("gross_minor") - pl.col("discount_minor"),
    )


def _discount_value_checks() -> list[pa.Check]:
    """A percent discount carries percent_off, a fixed one amount_off_minor (domain.pricing.Discount)."""
    return [
        implies("percent_has_rate", "a percent discount needs percent_off", ("kind", "percent_off"),
                pl.col("kind") == "percent", pl.col("percent_off").is_not_null()),
        implies("fixed_has_amount", "a fixed discount needs amount_off_minor", ("kind", "amount_off_minor"),
                pl.col("kind") == "fixed", pl.col("amount_off_minor").is_not_null()),
    ]  # fmt: skip


SCHEMAS: dict[str, pa.DataFrameSchema] = _schemas()

missing = (set(lake.SNAPSHOT_TABLES) | set(lake.APPEND_TABLES)) ^ set(SCHEMAS)
if missing:  # the import fails rather than a table going unvalidated
    raise RuntimeError(f"raw schemas out of step with the lake's tables: {sorted(missing)}")
del missing
