"""A small catalogue with stock in two warehouses, inserted row by row, for the order service tests.

Rows go in directly (not through the catalogue services) so that these tests
depend only on the schema. Prices: A 10.00, B 25.00 (C is archived). Tax: 8 %
in NY, 5 % elsewhere; shipping 5.00 under 50.00, free from 50.00. Stock: A
east 10 / west 5, B east 3 / west 3; east is in NY, west in CA.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from transactional.demo.seed import CARRIERS
from transactional.domain import stock
from transactional.domain.access import Actor
from transactional.providers.payments import SandboxProvider
from transactional.services.payment_flow import authorize_order, dispatch
from transactional.services.payments import AuthorizePayment
from transactional.services.shipping import ShipOrder, create_carrier
from transactional.services.stock_journal import ensure_level, move_stock
from transactional.storage.unit_of_work import UnitOfWork
from transactional.storage.writer import Writer

STOREFRONT = Actor(role="storefront", key_id="key_test_storefront")
OPERATOR = Actor(role="operator", key_id="key_test_operator")

NY_ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "New York",
    "region": "NY",
    "postal_code": "10001",
    "country": "US",
    "phone": "+1 212 555 0100",
}
CA_ADDRESS = {**NY_ADDRESS, "city": "Los Angeles", "region": "CA", "postal_code": "90001"}

PRICES = {"A": 1000, "B": 2500, "C": 700}
COSTS = {"A": 400, "B": 1200, "C": 300}
STOCK = {("A", "east"): 10, ("A", "west"): 5, ("B", "east"): 3, ("B", "west"): 3}


@dataclass
class Catalogue:
    category_id: str
    product_id: str
    sku: dict[str, str]  # code → sku_id
    warehouse: dict[str, str]  # code → warehouse_id


def run(writer: Writer, fn: Callable[[UnitOfWork], Any], actor: Actor = OPERATOR) -> Any:
    return writer.run(fn, actor).body


def seed(uow: UnitOfWork, *, prices: dict[str, int] = PRICES) -> Catalogue:
    now = uow.now
    category_id = uow.new_id("cat")
    uow.insert(
        "categories",
        {
            "category_id": category_id,
            "name": "Things",
            "parent_id": None,
            "created_at": now,
            "updated_at": now,
            "archived_at": None,
        },
    )
    product_id = uow.new_id("prd")
    uow.insert(
        "products",
        {
            "product_id": product_id,
            "name": "Thing",
            "description": None,
            "category_id": category_id,
            "tax_class": "standard",
            "attributes_json": "{}",
            "status": "active",
            "created_at": now,
            "updated_at": now,
            "archived_at": None,
        },
    )
    skus: dict[str, str] = {}
    for code, price in prices.items():
        sku_id = uow.new_id("sku")
        skus[code] = sku_id
        archived = code == "C"
        uow.insert(
            "skus",
            {
                "sku_id": sku_id,
                "product_id": product_id,
                "sku_code": f"THING-{code}",
                "name": f"Thing {code}",
                "attributes_json": "{}",
                "unit_cost_minor": COSTS[code],
                "weight_grams": 500,
                "status": "archived" if archived else "active",
                "created_at": now,
                "updated_at": now,
                "archived_at": now if archived else None,
            },
        )
        uow.insert(
            "sku_prices",
            {
                "price_id": uow.new_id("prc"),
                "sku_id": sku_id,
                "price_minor": price,
                "compare_at_minor": None,
                "effective_from": now,
                "reason": None,
                "created_at": now,
                "created_by": None,
            },
        )
    for region, rate in (("NY", "0.08"), ("*", "0.05")):
        uow.insert(
            "tax_rates",
            {"region": region, "tax_class": "standard", "rate": Decimal(rate), "updated_at": now},
        )
    for min_order, fee in ((0, 500), (5000, 0)):
        uow.insert(
            "shipping_rates",
            {"region": "*", "min_order_minor": min_order, "fee_minor": fee, "updated_at": now},
        )
    warehouses: dict[str, str] = {}
    for code, region, priority in (("east", "NY", 1), ("west", "CA", 2)):
        wid = uow.new_id("whs")
        warehouses[code] = wid
        uow.insert(
            "warehouses",
            {
                "warehouse_id": wid,
                "code": code,
                "name": code.title(),
                "region": region,
                "priority": priority,
                "created_at": now,
            },
        )
    for (code, wh), qty in STOCK.items():
        ensure_level(uow, skus[code], warehouses[wh])
        move_stock(
            uow,
            skus[code],
            warehouses[wh],
            partial(stock.receive, qty=qty),
            reason="initial stock",
            reference_type="test",
            reference_id=None,
        )
    for carrier in CARRIERS:
        create_carrier(uow, carrier)
    return Catalogue(category_id, product_id, skus, warehouses)


def pay(
    writer: Writer, order_id: str, *, token: str = "tok_sandbox_ok", method: str = "card"
) -> dict[str, Any]:
    """Pay an order through the real payment flow against the sandbox provider (card: brand and last 4)."""
    card = {"card_brand": "visa", "card_last4": "4242"} if method == "card" else {}
    cmd = AuthorizePayment(method=method, token=token, **card)
    return authorize_order(writer, SandboxProvider(), order_id, cmd, OPERATOR).body


def ship(
    writer: Writer, order_id: str, warehouse_id: str, lines: dict[str, int], **kw: Any
) -> dict[str, Any]:
    """Dispatch a parcel (and capture its share of a card hold) through the real flow."""
    cmd = ShipOrder.model_validate(
        {
            "warehouse_id": warehouse_id,
            "lines": [{"order_line_id": k, "quantity": q} for k, q in lines.items()],
            **kw,
        }
    )
    return dispatch(writer, SandboxProvider(), order_id, cmd, OPERATOR).body


def insert_coupon(
    uow: UnitOfWork, code: str, *, percent_off: str | None = None, amount_off_minor: int | None = None
) -> str:
    coupon_id = uow.new_id("cpn")
    uow.insert(
        "coupons",
        {
            "coupon_id": coupon_id,
            "code": code,
            "kind": "percent" if percent_off is not None else "fixed",
            "percent_off": Decimal(percent_off) if percent_off is not None else None,
            "amount_off_minor": amount_off_minor,
            "valid_from": uow.now,
            "valid_until": None,
            "usage_limit": None,
            "times_used": 0,
            "min_subtotal_minor": 0,
            "is_active": True,
            "created_at": uow.now,
        },
    )
    return coupon_id


def insert_customer(uow: UnitOfWork, email: str = "ada@example.com") -> tuple[str, str]:
    """A customer with one saved address in CA; returns (customer_id, address_id)."""
    customer_id = uow.new_id("cus")
    uow.insert(
        "customers",
        {
            "customer_id": customer_id,
            "email": email,
            "name": "Ada Lovelace",
            "phone": None,
            "region": "CA",
            "password_hash": None,
            "created_at": uow.now,
            "updated_at": uow.now,
        },
    )
    address_id = uow.new_id("adr")
    uow.insert(
        "customer_addresses",
        {
            "address_id": address_id,
            "customer_id": customer_id,
            **CA_ADDRESS,
            "line2": None,
            "is_default": True,
            "created_at": uow.now,
        },
    )
    return customer_id, address_id


def levels(writer: Writer) -> dict[tuple[str, str], tuple[int, int]]:
    """(sku_id, warehouse_id) → (on_hand, reserved), as committed."""
    rows = writer.con.execute("select sku_id, warehouse_id, on_hand, reserved from stock_levels").fetchall()
    return {(s, w): (on_hand, reserved) for s, w, on_hand, reserved in rows}


def count(writer: Writer, table: str) -> int:
    row = writer.con.execute(f"select count(*) from {table}").fetchone()
    assert row is not None
    return int(row[0])


ORDER_TABLES = (
    "orders",
    "order_lines",
    "order_allocations",
    "order_discounts",
    "order_status_history",
    "stock_movements",
    "stock_levels",
    "stock_alerts",
    "coupons",
    "shipments",
    "shipment_lines",
)


def snapshot(writer: Writer) -> dict[str, Any]:
    """Row counts of the order tables, stock levels, coupon use and order rows: proof nothing changed."""
    out: dict[str, Any] = {t: count(writer, t) for t in ORDER_TABLES}
    out["levels"] = levels(writer)
    out["coupons_used"] = writer.con.execute("select sum(times_used) from coupons").fetchone()
    out["orders_rows"] = writer.con.execute(
        "select * exclude (commit_seq) from orders order by order_id"
    ).fetchall()
    return out
