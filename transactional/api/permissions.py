"""The role × endpoint table: which API-key roles may call which operation.

This table is the single source: the authorization dependency enforces it,
the OpenAPI document and the README show it, and a test covers every cell.
Storefront rows marked "own" are further narrowed to the customer's own
objects (customer token) or to one guest order (order access token).
"""

from __future__ import annotations

S, O, F, A, P = "storefront", "operator", "finance", "admin", "pipeline"  # noqa: E741
ALL = frozenset({S, O, F, A, P})
STAFF = frozenset({O, F, A, P})

PERMISSIONS: dict[str, frozenset[str]] = {
    "store.get": ALL,
    "keys.create": frozenset({A}),
    "keys.list": frozenset({A}),
    "keys.revoke": frozenset({A}),
    "keys.rotate": frozenset({A}),
    "audit.list": frozenset({A}),
    "categories.list": ALL,
    "categories.create": frozenset({A}),
    "categories.update": frozenset({A}),
    "categories.archive": frozenset({A}),
    "products.list": ALL,
    "products.get": ALL,
    "products.create": frozenset({A}),
    "products.update": frozenset({A}),
    "products.archive": frozenset({A}),
    "skus.get": ALL,
    "skus.create": frozenset({A}),
    "skus.update": frozenset({A}),
    "skus.archive": frozenset({A}),
    "skus.prices.list": ALL,
    "skus.prices.create": frozenset({A}),
    "tax_rates.list": STAFF,
    "tax_rates.set": frozenset({F, A}),
    "shipping_rates.list": ALL,
    "shipping_rates.set": frozenset({A}),
    "coupons.list": frozenset({O, F, A}),
    "coupons.create": frozenset({A}),
    "coupons.deactivate": frozenset({A}),
    "customers.create": frozenset({S, A}),
    "customers.get": frozenset({S, O, F, A}),
    "customers.addresses.create": frozenset({S, O, A}),
    "auth.customer_token": frozenset({S}),
    "warehouses.list": frozenset({O, F, A, P}),
    "warehouses.create": frozenset({A}),
    "stock.list": ALL,
    "stock.movements.list": STAFF,
    "stock.adjust": frozenset({O, A}),
    "stock.reorder_points.set": frozenset({O, A}),
    "alerts.list": frozenset({O, A, P}),
    "alerts.acknowledge": frozenset({O, A}),
    "alerts.publish_forecasts": frozenset({A, P}),
    "suppliers.list": frozenset({O, F, A}),
    "suppliers.create": frozenset({O, A}),
    "purchase_orders.list": STAFF,
    "purchase_orders.get": STAFF,
    "purchase_orders.create": frozenset({O, A}),
    "purchase_orders.cancel": frozenset({O, A}),
    "purchase_orders.receive": frozenset({O, A}),
    "orders.create": frozenset({S, O, A}),
    "orders.list": frozenset({S, O, F, A, P}),
    "orders.get": frozenset({S, O, F, A, P}),
    "orders.modify": frozenset({S, O, A}),
    "orders.cancel": frozenset({S, O, A}),
    "orders.discounts.create": frozenset({O, A}),
    "orders.ship": frozenset({O, A}),
    "orders.complete": frozenset({O, A}),
    "payments.create": frozenset({S, O, A}),
    "payments.list": frozenset({S, O, F, A, P}),
    "payments.capture": frozenset({O, F, A}),
    "payments.void": frozenset({F, A}),
    "refunds.create": frozenset({F, A}),
    "store_credit.issue": frozenset({A}),
    "store_credit.get": frozenset({S, O, F, A, P}),
    "ledger.balances": frozenset({F, A, P}),
    "carriers.list": ALL,
    "carriers.create": frozenset({A}),
    "shipments.list": STAFF,
    "shipments.get": STAFF,
    "shipments.track": frozenset({O, A}),
    "events.ingest": frozenset({S, O, A}),
    "lake.snapshot": frozenset({A, P}),
}

# Operations called without an API key: probes, and carriers' webhooks (signed with the
# carrier's own secret instead; api/routes/shipping.py).
KEYLESS = frozenset({"health", "ready", "carriers.webhook"})

# Storefront access to these is limited to the caller's own customer or guest order.
OWN_ONLY_FOR_STOREFRONT = frozenset(
    {
        "customers.get",
        "customers.addresses.create",
        "orders.list",
        "orders.get",
        "orders.modify",
        "orders.cancel",
        "payments.create",
        "payments.list",
        "store_credit.get",
    }
)

ROLES = (S, O, F, A, P)


def markdown_table(endpoints: dict[str, str] | None = None) -> str:
    """The role × endpoint table as Markdown (README, OpenAPI description).

    ``endpoints`` maps an operation to its "METHOD /path", shown beside it.
    """
    endpoints = endpoints or {}
    lines = ["| operation | endpoint | " + " | ".join(ROLES) + " |", "|---|---|" + "---|" * len(ROLES)]
    for op, roles in PERMISSIONS.items():
        cells = []
        for role in ROLES:
            mark = "yes" if role in roles else "–"
            if role == S and role in roles and op in OWN_ONLY_FOR_STOREFRONT:
                mark = "own"
            cells.append(mark)
        endpoint = f"`{endpoints[op]}`" if op in endpoints else ""
        lines.append(f"| `{op}` | {endpoint} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
