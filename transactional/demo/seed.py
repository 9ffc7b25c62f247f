"""A small, deterministic starter store: rates, warehouses, a catalogue, stock and API keys.

Everything goes through the same services the API calls, one command each,
so the seed also exercises the core. Stock arrives by purchase receipts, so
the stock journal explains every unit from the first day.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from transactional.domain.access import Actor
from transactional.services import catalogue, inventory, keys, purchasing, shipping
from transactional.services.store import create_store
from transactional.storage.unit_of_work import UnitOfWork
from transactional.storage.writer import Writer

SEED_ADMIN = Actor(role="admin")

CATALOGUE: dict[str, list[tuple[str, str, list[tuple[str, int, int]]]]] = {
    # category: [(product, tax class, [(variant, price_minor, unit_cost_minor)])]
    "Apparel": [
        ("Merino Crew Tee", "standard", [("S", 3800, 1450), ("M", 3800, 1450), ("L", 3800, 1450)]),
        ("Canvas Overshirt", "standard", [("M", 7900, 3100), ("L", 7900, 3100)]),
        ("Rain Shell Jacket", "standard", [("M", 14900, 6200), ("L", 14900, 6200)]),
    ],
    "Footwear": [
        ("Trail Runner", "standard", [("42", 12900, 5600), ("43", 12900, 5600), ("44", 12900, 5600)]),
        ("Wool Slipper", "standard", [("M", 4900, 1700), ("L", 4900, 1700)]),
    ],
    "Home": [
        ("Stoneware Mug", "standard", [("Sand", 1800, 550), ("Slate", 1800, 550)]),
        ("Linen Throw", "standard", [("Oat", 8900, 3300)]),
        ("Pour-over Kettle", "standard", [("Steel", 5900, 2400)]),
    ],
    "Grocery": [
        ("Single-origin Coffee 250g", "reduced", [("Whole bean", 1600, 700), ("Ground", 1600, 700)]),
        ("Sencha Green Tea 100g", "reduced", [("Loose", 1200, 450)]),
    ],
}
# Packed weight of one unit per category, in grams (drives the carriers' rates).
CATEGORY_WEIGHT_GRAMS = {"Apparel": 450, "Footwear": 1300, "Home": 950, "Grocery": 320}
# Two made-up carriers: a cheap slow ground service and a fast dear one each.
CARRIERS = [
    shipping.CreateCarrier(
        code="parcelnet",
        name="ParcelNet",
        services=[
            shipping.ServiceIn(
                code="ground",
                name="Ground",
                handling_hours=48,
                base_minor=650,
                per_kg_minor=110,
                transit_days={"*": 5, "NY": 2, "NJ": 2, "CA": 3},
            ),
            shipping.ServiceIn(
                code="express",
                name="Express",
                handling_hours=24,
                base_minor=1450,
                per_kg_minor=240,
                transit_days={"*": 2, "NY": 1, "CA": 1},
            ),
        ],
    ),
    shipping.CreateCarrier(
        code="swiftpost",
        name="SwiftPost",
        services=[
            shipping.ServiceIn(
                code="standard",
                name="Standard",
                handling_hours=24,
                base_minor=590,
                per_kg_minor=140,
                max_weight_grams=20_000,
                transit_days={"*": 4, "CA": 2, "WA": 2},
            ),
            shipping.ServiceIn(
                code="priority",
                name="Priority",
                handling_hours=12,
                base_minor=2300,
                per_kg_minor=300,
                max_weight_grams=20_000,
                transit_days={"*": 1},
            ),
        ],
    ),
]
WAREHOUSES = [("EAST", "East Coast DC", "NY", 1), ("WEST", "West Coast DC", "CA", 2)]
TAX_RATES = [
    ("*", "standard", "0.0800"),
    ("*", "reduced", "0.0300"),
    ("CA", "standard", "0.0725"),
    ("NY", "standard", "0.08875"),
]


def seed_store(writer: Writer, *, seed: int = 42) -> dict[str, Any]:
    """Create and fill a fresh store; returns the API keys made (secrets shown once)."""
    rng = random.Random(seed)

    def run(fn: Any) -> Any:
        return writer.run(fn, SEED_ADMIN).body

    run(
        lambda uow: create_store(
            uow, name="Emporium Demo", currency="USD", timezone="America/New_York", tax_mode="exclusive"
        )
    )
    for region, tax_class, rate in TAX_RATES:
        run(
            lambda uow, r=region, c=tax_class, v=rate: catalogue.set_tax_rate(
                uow, catalogue.SetTaxRate(region=r, tax_class=c, rate=Decimal(v))
            )
        )
    run(
        lambda uow: catalogue.set_shipping_rates(
            uow,
            catalogue.SetShippingRates(
                region="*",
                tiers=[
                    catalogue.ShippingTier(min_order_minor=0, fee_minor=599),
                    catalogue.ShippingTier(min_order_minor=5000, fee_minor=0),
                ],
            ),
        )
    )
    warehouse_ids = [
        run(
            lambda uow, c=code, n=name, r=region, p=prio: inventory.create_warehouse(
                uow, inventory.CreateWarehouse(code=c, name=n, region=r, priority=p)
            )
        )["warehouse_id"]
        for code, name, region, prio in WAREHOUSES
    ]
    supplier_id = run(
        lambda uow: purchasing.create_supplier(
            uow,
            purchasing.CreateSupplier(
                name="Northwind Wholesale", email="orders@northwind.example", lead_time_days=7
            ),
        )
    )["supplier_id"]

    sku_costs: list[tuple[str, int]] = []
    for category, products in CATALOGUE.items():
        category_id = run(
            lambda uow, n=category: catalogue.create_category(uow, catalogue.CreateCategory(name=n))
        )["category_id"]
        for product, tax_class, variants in products:
            product_id = run(
                lambda uow, n=product, t=tax_class, c=category_id: catalogue.create_product(
                    uow,
                    catalogue.CreateProduct(name=n, category_id=c, tax_class=t, description=f"{n}."),
                )
            )["product_id"]
            for variant, price, cost in variants:
                code = f"{product[:3].upper()}-{variant[:5].upper().replace(' ', '')}-{len(sku_costs):03d}"
                sku_id = run(
                    lambda uow, p=product_id, c=code, v=variant, pr=price, co=cost, product_name=product, cat=category: (
                        catalogue.create_sku(
                            uow,
                            p,
                            catalogue.CreateSku(
                                sku_code=c,
                                name=f"{product_name} {v}",
                                attributes={"variant": v},
                                unit_cost_minor=co,
                                price_minor=pr,
                                weight_grams=CATEGORY_WEIGHT_GRAMS[cat],
                            ),
                        )
                    )
                )["sku_id"]
                sku_costs.append((sku_id, cost))

    for warehouse_id in warehouse_ids:
        lines = [
            purchasing.PurchaseOrderLineIn(sku_id=s, quantity=rng.randint(40, 120), unit_cost_minor=c)
            for s, c in sku_costs
        ]
        po = run(
            lambda uow, w=warehouse_id, ls=lines: purchasing.create_purchase_order(
                uow, purchasing.CreatePurchaseOrder(supplier_id=supplier_id, warehouse_id=w, lines=ls)
            )
        )
        run(
            lambda uow, p=po: purchasing.receive_purchase_order(
                uow,
                p["purchase_order_id"],
                purchasing.ReceivePurchaseOrder(
                    lines=[
                        purchasing.ReceiptLineIn(
                            purchase_order_line_id=line["purchase_order_line_id"],
                            quantity=line["quantity_ordered"],
                        )
                        for line in p["lines"]
                    ],
                    note="opening stock",
                ),
            )
        )
        for sku_id, _ in sku_costs:
            run(
                lambda uow, s=sku_id, w=warehouse_id: inventory.set_reorder_point(
                    uow, s, w, inventory.SetReorderPoint(reorder_point=20, reorder_quantity=60)
                )
            )

    for carrier in CARRIERS:
        run(lambda uow, c=carrier: shipping.create_carrier(uow, c))

    made: dict[str, Any] = {}
    for role in ("admin", "operator", "finance", "storefront", "pipeline"):
        created = run(lambda uow, r=role: keys.create_key(uow, keys.CreateKey(role=r, name=f"demo {r}")))
        made[role] = created["secret"]
    return {"keys": made, "skus": len(sku_costs), "warehouses": len(warehouse_ids)}


def has_store(uow: UnitOfWork) -> bool:
    return bool(list(uow.scan("store")))
