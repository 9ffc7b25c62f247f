"""The catalogue: categories, products, SKUs, effective-dated prices, tax rates and shipping rates.

Prices are append-only (DESIGN.md, "Money, time and rules"): ``set_price``
adds a row to ``sku_prices`` and never changes one, and the price of a SKU at
an instant is the row with the latest ``effective_from`` at or before it (ties:
the later ``created_at``, then the greater ``price_id``). The order service
prices lines with ``effective_price`` and taxes them with ``tax_rate_for``.

Archiving is soft: an archived product or SKU keeps its rows (orders and the
marts refer to them) but can no longer be sold, edited or re-priced. Archiving
a product archives its SKUs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from transactional.domain.card_data import reject_card_data
from transactional.domain.errors import Conflict, Invalid
from transactional.domain.pricing import ShippingRate
from transactional.storage.state import Row
from transactional.storage.unit_of_work import UnitOfWork

ACTIVE = "active"
ARCHIVED = "archived"
FALLBACK_REGION = "*"
# tax_rates.rate is DECIMAL(7, 6).
_RATE_QUANTUM = Decimal("0.000001")
_MAX_SHIPPING_TIERS = 50

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
TaxClass = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9_]{1,32}$")]
# A region as orders, customers, tax and shipping rates name it; "*" is the fallback of rate tables.
Region = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9 _-]{1,64}$")]
RateRegion = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(\*|[A-Za-z0-9 _-]{1,64})$")]
SkuCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._-]{1,64}$")]
AttrKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
AttrValue = Annotated[str, StringConstraints(max_length=1000)] | int | bool | None
Attributes = Annotated[dict[AttrKey, AttrValue], Field(max_length=100)]
Minor = Annotated[int, Field(ge=0, le=10**15)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- command models (also the HTTP request bodies) -------------------------------
class CreateCategory(_Command):
    name: Name
    parent_id: Id | None = None


class UpdateCategory(_Command):
    """Fields left out are unchanged; ``parent_id: null`` makes the category a root."""

    name: Name | None = None
    parent_id: Id | None = None


class CreateProduct(_Command):
    name: Name
    description: Description | None = None
    category_id: Id
    tax_class: TaxClass
    attributes: Attributes = Field(default_factory=dict)


class UpdateProduct(_Command):
    """Fields left out are unchanged; ``attributes`` replaces the whole dict."""

    name: Name | None = None
    description: Description | None = None
    category_id: Id | None = None
    tax_class: TaxClass | None = None
    attributes: Attributes | None = None


# Shipping weight of one unit, packed; the carriers' rate rules charge by it.
WeightGrams = Annotated[int, Field(strict=True, ge=1, le=10**7)]


class CreateSku(_Command):
    sku_code: SkuCode
    name: Name
    attributes: Attributes = Field(default_factory=dict)
    unit_cost_minor: Minor
    price_minor: Minor
    compare_at_minor: Minor | None = None
    weight_grams: WeightGrams = 500


class UpdateSku(_Command):
    name: Name | None = None
    attributes: Attributes | None = None
    unit_cost_minor: Minor | None = None
    weight_grams: WeightGrams | None = None


class SetPrice(_Command):
    price_minor: Minor
    effective_from: AwareDatetime | None = None  # None: now; may lie in the future, not the past
    compare_at_minor: Minor | None = None
    reason: Reason | None = None


class SetTaxRate(_Command):
    region: RateRegion
    tax_class: TaxClass
    rate: Annotated[Decimal, Field(ge=0, lt=1, decimal_places=6, allow_inf_nan=False)]


class ShippingTier(_Command):
    min_order_minor: Minor
    fee_minor: Minor


class SetShippingRates(_Command):
    """The region's complete tier list; an empty list removes the region's rates."""

    region: RateRegion
    tiers: Annotated[list[ShippingTier], Field(max_length=_MAX_SHIPPING_TIERS)]


# -- views ----------------------------------------------------------------------
def _attributes(row: Row) -> dict[str, Any]:
    return orjson.loads(row["attributes_json"])


def _dump_attributes(attributes: Mapping[str, Any]) -> str:
    return orjson.dumps(dict(attributes), option=orjson.OPT_SORT_KEYS).decode()


def category_view(row: Row) -> dict[str, Any]:
    return dict(row)


def price_view(row: Row) -> dict[str, Any]:
    return dict(row)


def sku_view(uow: UnitOfWork, row: Row) -> dict[str, Any]:
    view = {k: v for k, v in row.items() if k != "attributes_json"}
    view["attributes"] = _attributes(row)
    current = current_price_row(uow, row["sku_id"], uow.now)
    view["price_minor"] = current["price_minor"] if current else None
    view["compare_at_minor"] = current["compare_at_minor"] if current else None
    return view


def product_view(uow: UnitOfWork, row: Row) -> dict[str, Any]:
    view = {k: v for k, v in row.items() if k != "attributes_json"}
    view["attributes"] = _attributes(row)
    skus = sorted(uow.lookup("skus", "product_id", row["product_id"]), key=lambda s: s["sku_id"])
    view["skus"] = [sku_view(uow, s) for s in skus]
    return view


# -- lookups shared with other services -------------------------------------------
def _require_category(uow: UnitOfWork, category_id: str) -> Row:
    return uow.require("categories", category_id, code="category_not_found", what="category")


def _require_active_category(uow: UnitOfWork, category_id: str) -> Row:
    row = _require_category(uow, category_id)
    if row["archived_at"] is not None:
        raise Conflict(f"category {category_id} is archived", code="category_archived")
    return row


def require_product(uow: UnitOfWork, product_id: str) -> Row:
    return uow.require("products", product_id, code="product_not_found", what="product")


def require_sku(uow: UnitOfWork, sku_id: str) -> Row:
    return uow.require("skus", sku_id, code="sku_not_found", what="SKU")


def _require_active_product(uow: UnitOfWork, product_id: str) -> Row:
    row = require_product(uow, product_id)
    if row["status"] != ACTIVE:
        raise Conflict(f"product {product_id} is archived", code="product_archived")
    return row


def _require_active_sku(uow: UnitOfWork, sku_id: str) -> Row:
    row = require_sku(uow, sku_id)
    if row["status"] != ACTIVE:
        raise Conflict(f"SKU {sku_id} is archived", code="sku_archived")
    return row


# -- categories -----------------------------------------------------------------
def _check_sibling_name(uow: UnitOfWork, name: str, parent_id: str | None, exclude_id: str | None) -> None:
    for other in uow.scan("categories"):
        if (
            other["category_id"] != exclude_id
            and other["archived_at"] is None
            and other["parent_id"] == parent_id
            and other["name"].casefold() == name.casefold()
        ):
            raise Conflict(
                f"a category named {name!r} already exists under the same parent",
                code="category_name_taken",
                category_id=other["category_id"],
            )


def _no_card_data(**fields: Any) -> None:
    """Names, descriptions, reasons and attribute values are free text: no card numbers in them."""
    texts: dict[str, str | None] = {}
    for name, value in fields.items():
        if isinstance(value, Mapping):
            texts.update({f"{name}.{k}": v for k, v in value.items() if isinstance(v, str)})
        elif isinstance(value, str):
            texts[name] = value
    reject_card_data(texts, field_kind="free_text")


def create_category(uow: UnitOfWork, cmd: CreateCategory) -> dict[str, Any]:
    _no_card_data(name=cmd.name)
    if cmd.parent_id is not None:
        _require_active_category(uow, cmd.parent_id)
    _check_sibling_name(uow, cmd.name, cmd.parent_id, None)
    category_id = uow.new_id("cat")
    row = uow.insert(
        "categories",
        {
            "category_id": category_id,
            "name": cmd.name,
            "parent_id": cmd.parent_id,
            "created_at": uow.now,
            "updated_at": uow.now,
            "archived_at": None,
        },
    )
    uow.audit("category.create", "category", category_id, name=cmd.name, parent_id=cmd.parent_id)
    return category_view(row)


def update_category(uow: UnitOfWork, category_id: str, cmd: UpdateCategory) -> dict[str, Any]:
    row = _require_active_category(uow, category_id)
    _no_card_data(name=cmd.name)
    changes: dict[str, Any] = {}
    if cmd.name is not None and cmd.name != row["name"]:
        changes["name"] = cmd.name
    if "parent_id" in cmd.model_fields_set and cmd.parent_id != row["parent_id"]:
        if cmd.parent_id is not None:
            _require_active_category(uow, cmd.parent_id)
            # Walk up from the new parent: meeting this category would close a cycle.
            cursor: str | None = cmd.parent_id
            while cursor is not None:
                if cursor == category_id:
                    raise Invalid(
                        f"category {cmd.parent_id} is {category_id} itself or one of its descendants",
                        code="category_cycle",
                    )
                cursor = _require_category(uow, cursor)["parent_id"]
        changes["parent_id"] = cmd.parent_id
    if not changes:
        return category_view(row)
    _check_sibling_name(
        uow, str(changes.get("name", row["name"])), changes.get("parent_id", row["parent_id"]), category_id
    )
    updated = uow.update("categories", category_id, **changes, updated_at=uow.now)
    uow.audit("category.update", "category", category_id, **changes)
    return category_view(updated)


def archive_category(uow: UnitOfWork, category_id: str) -> dict[str, Any]:
    """Archive an empty category: one with no active products and no unarchived subcategories."""
    row = _require_category(uow, category_id)
    if row["archived_at"] is not None:
        return category_view(row)
    if any(c["parent_id"] == category_id and c["archived_at"] is None for c in uow.scan("categories")):
        raise Conflict(f"category {category_id} has subcategories", code="category_not_empty")
    if any(p["category_id"] == category_id and p["status"] == ACTIVE for p in uow.scan("products")):
        raise Conflict(f"category {category_id} has active products", code="category_not_empty")
    updated = uow.update("categories", category_id, archived_at=uow.now, updated_at=uow.now)
    uow.audit("category.archive", "category", category_id)
    return category_view(updated)


# -- products -------------------------------------------------------------------
def create_product(uow: UnitOfWork, cmd: CreateProduct) -> dict[str, Any]:
    _no_card_data(name=cmd.name, description=cmd.description, attributes=cmd.attributes)
    _require_active_category(uow, cmd.category_id)
    product_id = uow.new_id("prd")
    row = uow.insert(
        "products",
        {
            "product_id": product_id,
            "name": cmd.name,
            "description": cmd.description,
            "category_id": cmd.category_id,
            "tax_class": cmd.tax_class,
            "attributes_json": _dump_attributes(cmd.attributes),
            "status": ACTIVE,
            "created_at": uow.now,
            "updated_at": uow.now,
            "archived_at": None,
        },
    )
    uow.audit("product.create", "product", product_id, name=cmd.name, category_id=cmd.category_id)
    return product_view(uow, row)


def update_product(uow: UnitOfWork, product_id: str, cmd: UpdateProduct) -> dict[str, Any]:
    row = _require_active_product(uow, product_id)
    _no_card_data(name=cmd.name, description=cmd.description, attributes=cmd.attributes)
    given = cmd.model_fields_set
    changes: dict[str, Any] = {}
    if cmd.name is not None:
        changes["name"] = cmd.name
    if "description" in given:
        changes["description"] = cmd.description
    if cmd.category_id is not None and cmd.category_id != row["category_id"]:
        _require_active_category(uow, cmd.category_id)
        changes["category_id"] = cmd.category_id
    if cmd.tax_class is not None:
        changes["tax_class"] = cmd.tax_class
    if cmd.attributes is not None:
        changes["attributes_json"] = _dump_attributes(cmd.attributes)
    changes = {k: v for k, v in changes.items() if row[k] != v}
    if not changes:
        return product_view(uow, row)
    updated = uow.update("products", product_id, **changes, updated_at=uow.now)
    uow.audit("product.update", "product", product_id, fields=sorted(changes))
    return product_view(uow, updated)


def archive_product(uow: UnitOfWork, product_id: str) -> dict[str, Any]:
    """Archive a product and every SKU of it; archiving an archived product changes nothing."""
    row = require_product(uow, product_id)
    if row["status"] == ARCHIVED:
        return product_view(uow, row)
    updated = uow.update("products", product_id, status=ARCHIVED, archived_at=uow.now, updated_at=uow.now)
    archived_skus = []
    for sku in uow.lookup("skus", "product_id", product_id):
        if sku["status"] != ARCHIVED:
            uow.update("skus", sku["sku_id"], status=ARCHIVED, archived_at=uow.now, updated_at=uow.now)
            archived_skus.append(sku["sku_id"])
    uow.audit("product.archive", "product", product_id, skus=sorted(archived_skus))
    return product_view(uow, updated)


# -- SKUs -----------------------------------------------------------------------
def _check_compare_at(price_minor: int, compare_at_minor: int | None) -> None:
    if compare_at_minor is not None and compare_at_minor <= price_minor:
        raise Invalid(
            f"compare-at price {compare_at_minor} must be above the price {price_minor}",
            code="invalid_compare_at",
        )


def _insert_price(
    uow: UnitOfWork,
    sku_id: str,
    price_minor: int,
    compare_at_minor: int | None,
    effective_from: datetime,
    reason: str | None,
) -> Row:
    return uow.insert(
        "sku_prices",
        {
            "price_id": uow.new_id("prc"),
            "sku_id": sku_id,
            "price_minor": price_minor,
            "compare_at_minor": compare_at_minor,
            "effective_from": effective_from,
            "reason": reason,
            "created_at": uow.now,
            "created_by": uow.actor.key_id,
        },
    )


def create_sku(uow: UnitOfWork, product_id: str, cmd: CreateSku) -> dict[str, Any]:
    _no_card_data(name=cmd.name, attributes=cmd.attributes)
    _require_active_product(uow, product_id)
    if uow.lookup("skus", "sku_code", cmd.sku_code):
        raise Conflict(f"SKU code {cmd.sku_code} is already used", code="sku_code_taken")
    _check_compare_at(cmd.price_minor, cmd.compare_at_minor)
    sku_id = uow.new_id("sku")
    row = uow.insert(
        "skus",
        {
            "sku_id": sku_id,
            "product_id": product_id,
            "sku_code": cmd.sku_code,
            "name": cmd.name,
            "attributes_json": _dump_attributes(cmd.attributes),
            "unit_cost_minor": cmd.unit_cost_minor,
            "weight_grams": cmd.weight_grams,
            "status": ACTIVE,
            "created_at": uow.now,
            "updated_at": uow.now,
            "archived_at": None,
        },
    )
    _insert_price(uow, sku_id, cmd.price_minor, cmd.compare_at_minor, uow.now, "initial price")
    uow.audit(
        "sku.create",
        "sku",
        sku_id,
        product_id=product_id,
        sku_code=cmd.sku_code,
        price_minor=cmd.price_minor,
        unit_cost_minor=cmd.unit_cost_minor,
    )
    return sku_view(uow, row)


def update_sku(uow: UnitOfWork, sku_id: str, cmd: UpdateSku) -> dict[str, Any]:
    row = _require_active_sku(uow, sku_id)
    _no_card_data(name=cmd.name, attributes=cmd.attributes)
    changes: dict[str, Any] = {}
    if cmd.name is not None:
        changes["name"] = cmd.name
    if cmd.attributes is not None:
        changes["attributes_json"] = _dump_attributes(cmd.attributes)
    if cmd.unit_cost_minor is not None:
        changes["unit_cost_minor"] = cmd.unit_cost_minor
    if cmd.weight_grams is not None:
        changes["weight_grams"] = cmd.weight_grams
    changes = {k: v for k, v in changes.items() if row[k] != v}
    if not changes:
        return sku_view(uow, row)
    updated = uow.update("skus", sku_id, **changes, updated_at=uow.now)
    uow.audit("sku.update", "sku", sku_id, **{k: v for k, v in changes.items() if k != "attributes_json"})
    return sku_view(uow, updated)


def archive_sku(uow: UnitOfWork, sku_id: str) -> dict[str, Any]:
    """Archive one SKU; archiving an archived SKU changes nothing."""
    row = require_sku(uow, sku_id)
    if row["status"] == ARCHIVED:
        return sku_view(uow, row)
    updated = uow.update("skus", sku_id, status=ARCHIVED, archived_at=uow.now, updated_at=uow.now)
    uow.audit("sku.archive", "sku", sku_id)
    return sku_view(uow, updated)


# -- prices ---------------------------------------------------------------------
def set_price(uow: UnitOfWork, sku_id: str, cmd: SetPrice) -> dict[str, Any]:
    """Append a price for ``sku_id`` from ``effective_from`` (now when left out) on."""
    _require_active_sku(uow, sku_id)
    _no_card_data(reason=cmd.reason)
    effective_from = cmd.effective_from if cmd.effective_from is not None else uow.now
    if effective_from < uow.now:
        # Orders already priced from the history must stay explainable by it.
        raise Invalid(
            "a price cannot take effect in the past; leave effective_from out for now",
            code="effective_from_in_past",
        )
    _check_compare_at(cmd.price_minor, cmd.compare_at_minor)
    row = _insert_price(uow, sku_id, cmd.price_minor, cmd.compare_at_minor, effective_from, cmd.reason)
    uow.audit(
        "sku.set_price",
        "sku",
        sku_id,
        price_id=row["price_id"],
        price_minor=cmd.price_minor,
        compare_at_minor=cmd.compare_at_minor,
        effective_from=effective_from,
        reason=cmd.reason,
    )
    return price_view(row)


def _price_order(row: Row) -> tuple[datetime, datetime, str]:
    return (row["effective_from"], row["created_at"], row["price_id"])


def current_price_row(uow: UnitOfWork, sku_id: str, at: datetime) -> Row | None:
    """The sku_prices row in force at ``at``, or None if the SKU has no price yet then."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    rows = [r for r in uow.lookup("sku_prices", "sku_id", sku_id) if r["effective_from"] <= at]
    return max(rows, key=_price_order) if rows else None


def effective_price(uow: UnitOfWork, sku_id: str, at: datetime) -> int:
    """The SKU's price in minor units at ``at``: latest effective_from <= at (ties: latest created)."""
    row = current_price_row(uow, sku_id, at)
    if row is None:
        raise Invalid(f"SKU {sku_id} has no price at {at.isoformat()}", code="no_price", sku_id=sku_id)
    return int(row["price_minor"])


# -- tax rates ------------------------------------------------------------------
def set_tax_rate(uow: UnitOfWork, cmd: SetTaxRate) -> dict[str, Any]:
    """Set the tax rate of a region × tax class (region ``*``: the fallback for other regions)."""
    rate = cmd.rate
    if not (rate.is_finite() and 0 <= rate < 1 and rate == rate.quantize(_RATE_QUANTUM)):
        raise Invalid(
            f"tax rate must be in [0, 1) with at most 6 decimals, got {rate}", code="invalid_tax_rate"
        )
    rate = rate.quantize(_RATE_QUANTUM)
    existing = uow.get("tax_rates", cmd.region, cmd.tax_class)
    if existing is None:
        row = uow.insert(
            "tax_rates",
            {"region": cmd.region, "tax_class": cmd.tax_class, "rate": rate, "updated_at": uow.now},
        )
    else:
        row = uow.update("tax_rates", (cmd.region, cmd.tax_class), rate=rate, updated_at=uow.now)
    uow.audit(
        "tax_rate.set",
        "tax_rate",
        f"{cmd.region}/{cmd.tax_class}",
        rate=rate,
        previous=existing["rate"] if existing else None,
    )
    return dict(row)


def tax_rate_for(uow: UnitOfWork, region: str, tax_class: str) -> Decimal:
    """The rate for the region × tax class, else the ``*`` fallback, else Invalid ``no_tax_rate``."""
    row = uow.get("tax_rates", region, tax_class) or uow.get("tax_rates", FALLBACK_REGION, tax_class)
    if row is None:
        raise Invalid(
            f"no tax rate for tax class {tax_class!r} in region {region!r} and no fallback",
            code="no_tax_rate",
            region=region,
            tax_class=tax_class,
        )
    return Decimal(row["rate"])


# -- shipping rates ---------------------------------------------------------------
def set_shipping_rates(uow: UnitOfWork, cmd: SetShippingRates) -> dict[str, Any]:
    """Replace the region's shipping tiers with ``cmd.tiers``."""
    wanted: dict[int, int] = {}
    for tier in cmd.tiers:
        if tier.min_order_minor in wanted:
            raise Invalid(
                f"two tiers start at {tier.min_order_minor}",
                code="duplicate_tier",
                min_order_minor=tier.min_order_minor,
            )
        wanted[tier.min_order_minor] = tier.fee_minor
    current = {r["min_order_minor"]: r for r in uow.lookup("shipping_rates", "region", cmd.region)}
    # Only what differs is written: unchanged tiers keep their row and updated_at.
    for min_order, row in current.items():
        if min_order not in wanted:
            uow.delete("shipping_rates", (cmd.region, min_order))
        elif row["fee_minor"] != wanted[min_order]:
            uow.update(
                "shipping_rates", (cmd.region, min_order), fee_minor=wanted[min_order], updated_at=uow.now
            )
    for min_order, fee in wanted.items():
        if min_order not in current:
            uow.insert(
                "shipping_rates",
                {"region": cmd.region, "min_order_minor": min_order, "fee_minor": fee, "updated_at": uow.now},
            )
    tiers = [{"min_order_minor": m, "fee_minor": f} for m, f in sorted(wanted.items())]
    uow.audit("shipping_rates.set", "shipping_rates", cmd.region, tiers=tiers)
    return {"region": cmd.region, "tiers": tiers}


def shipping_rates_for(uow: UnitOfWork, region: str) -> list[ShippingRate]:
    """The region's tiers together with the ``*`` fallback tiers, for domain.pricing.price_order.

    price_order uses the region's own tiers when it has any and the fallback
    tiers otherwise, so both are handed over.
    """
    regions = [region] if region == FALLBACK_REGION else [region, FALLBACK_REGION]
    return [
        ShippingRate(
            region=r["region"], min_order_minor=int(r["min_order_minor"]), fee_minor=int(r["fee_minor"])
        )
        for reg in regions
        for r in sorted(uow.lookup("shipping_rates", "region", reg), key=lambda r: r["min_order_minor"])
    ]
