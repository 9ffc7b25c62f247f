"""Read queries for the catalogue, prices, tax and shipping rates, coupons and customers.

``get_*`` functions return None when the row does not exist (the API answers
404). A SKU's price at an instant follows the rule of services.catalogue: the
row with the latest ``effective_from`` at or before it, ties broken by the
later ``created_at`` and then the greater ``price_id``. Customer reads never
return ``password_hash``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import orjson

from transactional.storage.reads import fetch_dicts, fetch_one, page

Cursor = duckdb.DuckDBPyConnection

_CATEGORY_COLS = "category_id, name, parent_id, created_at, updated_at, archived_at"
_PRODUCT_COLS = (
    "product_id, name, description, category_id, tax_class, attributes_json, status, "
    "created_at, updated_at, archived_at"
)
_SKU_COLS = (
    "s.sku_id, s.product_id, s.sku_code, s.name, s.attributes_json, s.unit_cost_minor, s.status, "
    "s.created_at, s.updated_at, s.archived_at"
)
_PRICE_COLS = (
    "price_id, sku_id, price_minor, compare_at_minor, effective_from, reason, created_at, created_by"
)
_COUPON_COLS = (
    "coupon_id, code, kind, percent_off, amount_off_minor, valid_from, valid_until, usage_limit, "
    "times_used, min_subtotal_minor, is_active, created_at"
)
_CUSTOMER_COLS = (
    "customer_id, email, name, phone, region, password_hash is not null as has_password, "
    "created_at, updated_at"
)
_ADDRESS_COLS = (
    "address_id, customer_id, name, line1, line2, city, region, postal_code, country, phone, "
    "is_default, created_at"
)

# The price in force at the instant bound to the first parameter, one row per SKU.
_CURRENT_PRICES = """
    select sku_id, price_id, price_minor, compare_at_minor, effective_from
    from (
        select
            sku_id, price_id, price_minor, compare_at_minor, effective_from,
            row_number() over (
                partition by sku_id order by effective_from desc, created_at desc, price_id desc
            ) as rn
        from sku_prices
        where effective_from <= ?
    ) as ranked
    where rn = 1
"""


def _placeholders(n: int) -> str:
    return ", ".join(["?"] * n)


def _with_attributes(row: dict[str, Any]) -> dict[str, Any]:
    row["attributes"] = orjson.loads(row.pop("attributes_json"))
    return row


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")


# -- categories --------------------------------------------------------------------
def list_categories(
    cur: Cursor,
    *,
    parent_id: str | None = None,
    include_archived: bool = False,
    limit: int = 100,
    after: str | None = None,
) -> dict[str, Any]:
    sql = f"select {_CATEGORY_COLS} from categories where true"
    params: list[Any] = []
    if parent_id is not None:
        sql += " and parent_id = ?"
        params.append(parent_id)
    if not include_archived:
        sql += " and archived_at is null"
    return page(cur, sql, params, id_column="category_id", limit=limit, after=after)


def get_category(cur: Cursor, category_id: str) -> dict[str, Any] | None:
    return fetch_one(cur, f"select {_CATEGORY_COLS} from categories where category_id = ?", [category_id])


# -- products and SKUs ---------------------------------------------------------------
def _skus_of(cur: Cursor, product_ids: list[str], at: datetime) -> dict[str, list[dict[str, Any]]]:
    if not product_ids:
        return {}
    rows = fetch_dicts(
        cur,
        f"""
        select {_SKU_COLS}, p.price_id, p.price_minor, p.compare_at_minor,
               p.effective_from as price_effective_from
        from skus as s
        left join ({_CURRENT_PRICES}) as p on p.sku_id = s.sku_id
        where s.product_id in ({_placeholders(len(product_ids))})
        order by s.product_id, s.sku_id
        """,
        [at, *product_ids],
    )
    by_product: dict[str, list[dict[str, Any]]] = {pid: [] for pid in product_ids}
    for row in rows:
        by_product[row["product_id"]].append(_with_attributes(row))
    return by_product


def list_products(
    cur: Cursor,
    *,
    at: datetime,
    category_id: str | None = None,
    status: str | None = "active",
    limit: int = 50,
    after: str | None = None,
) -> dict[str, Any]:
    """A page of products, each with its SKUs and each SKU's price at ``at`` (None if not priced yet)."""
    _require_aware(at)
    sql = f"select {_PRODUCT_COLS} from products where true"
    params: list[Any] = []
    if category_id is not None:
        sql += " and category_id = ?"
        params.append(category_id)
    if status is not None:
        sql += " and status = ?"
        params.append(status)
    result = page(cur, sql, params, id_column="product_id", limit=limit, after=after)
    skus = _skus_of(cur, [p["product_id"] for p in result["items"]], at)
    for product in result["items"]:
        _with_attributes(product)
        product["skus"] = skus[product["product_id"]]
    return result


def get_product(cur: Cursor, product_id: str, *, at: datetime) -> dict[str, Any] | None:
    _require_aware(at)
    product = fetch_one(cur, f"select {_PRODUCT_COLS} from products where product_id = ?", [product_id])
    if product is None:
        return None
    _with_attributes(product)
    product["skus"] = _skus_of(cur, [product_id], at)[product_id]
    return product


def get_sku(cur: Cursor, sku_id: str, *, at: datetime) -> dict[str, Any] | None:
    _require_aware(at)
    row = fetch_one(
        cur,
        f"""
        select {_SKU_COLS}, p.price_id, p.price_minor, p.compare_at_minor,
               p.effective_from as price_effective_from
        from skus as s
        left join ({_CURRENT_PRICES}) as p on p.sku_id = s.sku_id
        where s.sku_id = ?
        """,
        [at, sku_id],
    )
    return _with_attributes(row) if row is not None else None


def sku_price_history(cur: Cursor, sku_id: str) -> list[dict[str, Any]]:
    """Every price row of the SKU, oldest first (future prices included)."""
    return fetch_dicts(
        cur,
        f"select {_PRICE_COLS} from sku_prices where sku_id = ? "
        "order by effective_from, created_at, price_id",
        [sku_id],
    )


# -- tax and shipping rates ------------------------------------------------------------
def list_tax_rates(cur: Cursor, *, region: str | None = None) -> list[dict[str, Any]]:
    sql = "select region, tax_class, rate, updated_at from tax_rates"
    params: list[Any] = []
    if region is not None:
        sql += " where region = ?"
        params.append(region)
    return fetch_dicts(cur, sql + " order by region, tax_class", params)


def list_shipping_rates(cur: Cursor, *, region: str | None = None) -> list[dict[str, Any]]:
    """Shipping tiers grouped per region: ``[{region, tiers: [{min_order_minor, fee_minor}]}]``."""
    sql = "select region, min_order_minor, fee_minor, updated_at from shipping_rates"
    params: list[Any] = []
    if region is not None:
        sql += " where region = ?"
        params.append(region)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in fetch_dicts(cur, sql + " order by region, min_order_minor", params):
        grouped.setdefault(row.pop("region"), []).append(row)
    return [{"region": region_, "tiers": tiers} for region_, tiers in grouped.items()]


# -- coupons --------------------------------------------------------------------------
def list_coupons(
    cur: Cursor, *, is_active: bool | None = None, limit: int = 100, after: str | None = None
) -> dict[str, Any]:
    sql = f"select {_COUPON_COLS} from coupons where true"
    params: list[Any] = []
    if is_active is not None:
        sql += " and is_active = ?"
        params.append(is_active)
    return page(cur, sql, params, id_column="coupon_id", limit=limit, after=after)


def get_coupon(cur: Cursor, coupon_id: str) -> dict[str, Any] | None:
    return fetch_one(cur, f"select {_COUPON_COLS} from coupons where coupon_id = ?", [coupon_id])


def get_coupon_by_code(cur: Cursor, code: str) -> dict[str, Any] | None:
    """By normalized code (callers normalize with domain.coupons.normalize_code)."""
    return fetch_one(cur, f"select {_COUPON_COLS} from coupons where code = ?", [code])


# -- customers ------------------------------------------------------------------------
def get_customer(cur: Cursor, customer_id: str) -> dict[str, Any] | None:
    """The customer (without the password hash) with its addresses, default first."""
    customer = fetch_one(cur, f"select {_CUSTOMER_COLS} from customers where customer_id = ?", [customer_id])
    if customer is None:
        return None
    customer["addresses"] = fetch_dicts(
        cur,
        f"select {_ADDRESS_COLS} from customer_addresses where customer_id = ? "
        "order by is_default desc, address_id",
        [customer_id],
    )
    return customer


def list_customers(
    cur: Cursor,
    *,
    email: str | None = None,
    region: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> dict[str, Any]:
    sql = f"select {_CUSTOMER_COLS} from customers where true"
    params: list[Any] = []
    if email is not None:
        sql += " and email = ?"
        params.append(email.strip().lower())
    if region is not None:
        sql += " and region = ?"
        params.append(region)
    return page(cur, sql, params, id_column="customer_id", limit=limit, after=after)


def customer_credentials(cur: Cursor, email: str) -> dict[str, Any] | None:
    """``{customer_id, password_hash}`` for sign-in (the API verifies the hash, outside the writer)."""
    return fetch_one(
        cur,
        "select customer_id, password_hash from customers where email = ?",
        [email.strip().lower()],
    )
