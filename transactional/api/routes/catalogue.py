"""Catalogue: categories, products, SKUs, effective-dated prices, tax and shipping rates, coupons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from transactional.api.deps import CallerDep, ReaderDep, RuntimeDep, execute, json_response
from transactional.domain.errors import NotFound
from transactional.services import catalogue, coupons
from transactional.storage.reads import catalogue as reads

router = APIRouter(prefix="/api/v1", tags=["catalogue"])
Limit = Annotated[int, Query(ge=1, le=200)]


def _found(row: object, what: str, code: str) -> object:
    if row is None:
        raise NotFound(f"{what} does not exist", code=code)
    return row


# -- categories ----------------------------------------------------------------------
@router.get("/categories", operation_id="categories.list")
def list_categories(
    caller: CallerDep,
    cur: ReaderDep,
    parent_id: str | None = None,
    include_archived: bool = False,
    limit: Limit = 100,
    after: str | None = None,
) -> Response:
    """Categories, optionally under one parent."""
    return json_response(
        reads.list_categories(
            cur, parent_id=parent_id, include_archived=include_archived, limit=limit, after=after
        )
    )


@router.post("/categories", operation_id="categories.create", status_code=201)
async def create_category(request: Request, caller: CallerDep, body: catalogue.CreateCategory) -> Response:
    """Create a category (optionally under a parent)."""
    return await execute(request, caller, lambda uow: catalogue.create_category(uow, body), status=201)


@router.patch("/categories/{category_id}", operation_id="categories.update")
async def update_category(
    category_id: str, request: Request, caller: CallerDep, body: catalogue.UpdateCategory
) -> Response:
    """Rename or move a category."""
    return await execute(request, caller, lambda uow: catalogue.update_category(uow, category_id, body))


@router.post("/categories/{category_id}/archive", operation_id="categories.archive")
async def archive_category(category_id: str, request: Request, caller: CallerDep) -> Response:
    """Archive a category."""
    return await execute(request, caller, lambda uow: catalogue.archive_category(uow, category_id))


# -- products and SKUs -------------------------------------------------------------------
@router.get("/products", operation_id="products.list")
def list_products(
    caller: CallerDep,
    cur: ReaderDep,
    runtime: RuntimeDep,
    category_id: str | None = None,
    status: str | None = "active",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: str | None = None,
) -> Response:
    """Products with their SKUs and each SKU's current price."""
    return json_response(
        reads.list_products(
            cur, at=runtime.clock.now(), category_id=category_id, status=status, limit=limit, after=after
        )
    )


@router.get("/products/{product_id}", operation_id="products.get")
def get_product(product_id: str, caller: CallerDep, cur: ReaderDep, runtime: RuntimeDep) -> Response:
    """One product with its SKUs and their current prices."""
    row = reads.get_product(cur, product_id, at=runtime.clock.now())
    return json_response(_found(row, f"product {product_id}", "product_not_found"))


@router.post("/products", operation_id="products.create", status_code=201)
async def create_product(request: Request, caller: CallerDep, body: catalogue.CreateProduct) -> Response:
    """Create a product in a category with a tax class."""
    return await execute(request, caller, lambda uow: catalogue.create_product(uow, body), status=201)


@router.patch("/products/{product_id}", operation_id="products.update")
async def update_product(
    product_id: str, request: Request, caller: CallerDep, body: catalogue.UpdateProduct
) -> Response:
    """Update a product's name, description, category, tax class or attributes."""
    return await execute(request, caller, lambda uow: catalogue.update_product(uow, product_id, body))


@router.post("/products/{product_id}/archive", operation_id="products.archive")
async def archive_product(product_id: str, request: Request, caller: CallerDep) -> Response:
    """Archive a product and its SKUs: they can no longer be sold."""
    return await execute(request, caller, lambda uow: catalogue.archive_product(uow, product_id))


@router.post("/products/{product_id}/skus", operation_id="skus.create", status_code=201)
async def create_sku(
    product_id: str, request: Request, caller: CallerDep, body: catalogue.CreateSku
) -> Response:
    """Add a SKU (variant) with its unit cost and first price."""
    return await execute(request, caller, lambda uow: catalogue.create_sku(uow, product_id, body), status=201)


@router.get("/skus/{sku_id}", operation_id="skus.get")
def get_sku(sku_id: str, caller: CallerDep, cur: ReaderDep, runtime: RuntimeDep) -> Response:
    """One SKU with its current price."""
    return json_response(
        _found(reads.get_sku(cur, sku_id, at=runtime.clock.now()), f"SKU {sku_id}", "sku_not_found")
    )


@router.patch("/skus/{sku_id}", operation_id="skus.update")
async def update_sku(sku_id: str, request: Request, caller: CallerDep, body: catalogue.UpdateSku) -> Response:
    """Update a SKU's name, attributes or unit cost (prices have their own history)."""
    return await execute(request, caller, lambda uow: catalogue.update_sku(uow, sku_id, body))


@router.post("/skus/{sku_id}/archive", operation_id="skus.archive")
async def archive_sku(sku_id: str, request: Request, caller: CallerDep) -> Response:
    """Archive a SKU: it can no longer be sold."""
    return await execute(request, caller, lambda uow: catalogue.archive_sku(uow, sku_id))


@router.get("/skus/{sku_id}/prices", operation_id="skus.prices.list")
def price_history(sku_id: str, caller: CallerDep, cur: ReaderDep, runtime: RuntimeDep) -> Response:
    """Every price the SKU has had or will have, with when each takes effect."""
    _found(reads.get_sku(cur, sku_id, at=runtime.clock.now()), f"SKU {sku_id}", "sku_not_found")
    return json_response({"items": reads.sku_price_history(cur, sku_id)})


@router.post("/skus/{sku_id}/prices", operation_id="skus.prices.create", status_code=201)
async def set_price(sku_id: str, request: Request, caller: CallerDep, body: catalogue.SetPrice) -> Response:
    """Add a price effective now or later; earlier prices are kept as history."""
    return await execute(request, caller, lambda uow: catalogue.set_price(uow, sku_id, body), status=201)


# -- tax, shipping, coupons -------------------------------------------------------------------
@router.get("/tax-rates", operation_id="tax_rates.list")
def list_tax_rates(caller: CallerDep, cur: ReaderDep, region: str | None = None) -> Response:
    """Tax rates per region × tax class (region '*' is the fallback)."""
    return json_response({"items": reads.list_tax_rates(cur, region=region)})


@router.put("/tax-rates", operation_id="tax_rates.set")
async def set_tax_rate(request: Request, caller: CallerDep, body: catalogue.SetTaxRate) -> Response:
    """Set the rate for a region × tax class."""
    return await execute(request, caller, lambda uow: catalogue.set_tax_rate(uow, body))


@router.get("/shipping-rates", operation_id="shipping_rates.list")
def list_shipping_rates(caller: CallerDep, cur: ReaderDep, region: str | None = None) -> Response:
    """Shipping fee tiers per region (minimum order value → fee)."""
    return json_response({"items": reads.list_shipping_rates(cur, region=region)})


@router.put("/shipping-rates", operation_id="shipping_rates.set")
async def set_shipping_rates(
    request: Request, caller: CallerDep, body: catalogue.SetShippingRates
) -> Response:
    """Replace a region's shipping fee tiers."""
    return await execute(request, caller, lambda uow: catalogue.set_shipping_rates(uow, body))


@router.get("/coupons", operation_id="coupons.list")
def list_coupons(
    caller: CallerDep,
    cur: ReaderDep,
    is_active: bool | None = None,
    limit: Limit = 100,
    after: str | None = None,
) -> Response:
    """Coupons with their usage."""
    return json_response(reads.list_coupons(cur, is_active=is_active, limit=limit, after=after))


@router.post("/coupons", operation_id="coupons.create", status_code=201)
async def create_coupon(request: Request, caller: CallerDep, body: coupons.CreateCoupon) -> Response:
    """Create a percent or fixed-amount coupon code."""
    return await execute(request, caller, lambda uow: coupons.create_coupon(uow, body), status=201)


@router.post("/coupons/{coupon_id}/deactivate", operation_id="coupons.deactivate")
async def deactivate_coupon(coupon_id: str, request: Request, caller: CallerDep) -> Response:
    """Stop a coupon from being redeemed."""
    return await execute(request, caller, lambda uow: coupons.deactivate_coupon(uow, coupon_id))
