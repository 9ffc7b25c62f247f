"""Orders (ORD-1..4): place, modify, cancel, discount, complete; status changes for the other services.

Payment (services/payments.py) moves an order to paid and on to picking;
dispatch and tracking (services/shipping.py) move it through shipped to
delivered; due work (services/due.py) expires unpaid orders and closes
delivered ones after the return window.

Every service here prices from the catalogue (clients never send prices),
reserves or releases stock only through ``stock_journal.move_stock``, and
changes an order's status only through ``_change_status``, which checks the
state machine (domain/orders.py) and writes the status history row. Each
validates everything before it stages anything; the writer drops a failed
command's layer whole in any case.

Rules decided here (also in DECISIONLOG.md):

- A modification replaces the order's lines: the old lines are marked
  ``removed``, their reservations released, and the new lines are priced at
  the catalogue's current prices and reserved afresh, also when only the
  address changed (tax and shipping depend on the region). Discounts already
  on the order (coupon, manual) stay and are re-applied; a coupon whose
  minimum subtotal is no longer reached fails the modification
  (``coupon_minimum_not_met``).
- ``version`` counts every change of the order row (status, lines, address,
  discounts); ``expected_version`` on a modification must match it.
- A storefront key acting for a customer (customer token) sees only that
  customer's orders: others are "not found". Guest orders are checked by the
  API with the order access token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from transactional.domain import stock
from transactional.domain.access import Actor, Role
from transactional.domain.card_data import reject_card_data
from transactional.domain.errors import Conflict, Forbidden, IllegalTransition, Invalid, NotFound
from transactional.domain.orders import (
    INITIAL_STATUS,
    OrderStatus,
    can_cancel,
    can_modify,
    transition,
)
from transactional.domain.pricing import Discount, LineInput, PricedOrder, price_order
from transactional.domain.words import DEVICES, SALES_CHANNELS, TRAFFIC_SOURCES, require_word
from transactional.services.stock_journal import move_stock
from transactional.storage.state import Row
from transactional.storage.unit_of_work import UnitOfWork

MAX_LINES = 100
MAX_QUANTITY = 1000

STATUS_LABELS: Mapping[str, str] = {
    OrderStatus.pending_payment: "Awaiting payment",
    OrderStatus.paid: "Payment received",
    OrderStatus.picking: "Being prepared",
    OrderStatus.partially_shipped: "Partially shipped",
    OrderStatus.shipped: "Shipped",
    OrderStatus.delivered: "Delivered",
    OrderStatus.completed: "Completed",
    OrderStatus.cancelled: "Cancelled",
    OrderStatus.expired: "Expired: payment not received in time",
}

# The stored scales: order_lines.tax_rate DECIMAL(7, 6), order_discounts.percent_off DECIMAL(5, 4).
_RATE_QUANTUM = Decimal("0.000001")
_PERCENT_QUANTUM = Decimal("0.0001")

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# -- command models (also the HTTP request bodies) -------------------------------

Text = Annotated[str, Field(min_length=1, max_length=200)]
OptionalText = Annotated[str | None, Field(max_length=200)]
Id = Annotated[str, Field(min_length=1, max_length=64)]
Quantity = Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LineIn(_Model):
    """A line as the client sends it: a SKU and a quantity, never a price."""

    sku_id: Id
    quantity: Quantity


class ShippingAddress(_Model):
    name: Text
    line1: Text
    line2: OptionalText = None
    city: Annotated[str, Field(min_length=1, max_length=100)]
    region: Annotated[str, Field(min_length=1, max_length=64)]
    postal_code: Annotated[str | None, Field(max_length=32)] = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
    phone: Annotated[str | None, Field(max_length=40)] = None


class PlaceOrder(_Model):
    """Checkout: who buys (customer or guest), what, where to, and where the order came from."""

    customer_id: Id | None = None
    guest_email: Annotated[str | None, Field(max_length=254)] = None
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=MAX_LINES)]
    shipping_address: ShippingAddress | None = None
    address_id: Id | None = None
    coupon_code: Annotated[str | None, Field(max_length=64)] = None
    currency: Annotated[str | None, Field(max_length=3)] = None
    sales_channel: Annotated[str, Field(description="web, app, marketplace or pos")]
    session_id: Annotated[str | None, Field(max_length=128)] = None
    traffic_source: Annotated[
        str | None, Field(description="organic, paid_search, social, email, referral, direct")
    ] = None
    utm_source: OptionalText = None
    utm_medium: OptionalText = None
    utm_campaign: OptionalText = None
    device: Annotated[str | None, Field(description="desktop, mobile or tablet")] = None


class ModifyOrder(_Model):
    """Replace the lines and/or the shipping address of an order awaiting payment."""

    lines: Annotated[list[LineIn] | None, Field(min_length=1, max_length=MAX_LINES)] = None
    shipping_address: ShippingAddress | None = None
    address_id: Id | None = None
    expected_version: Annotated[int | None, Field(strict=True, ge=1)] = None


class CancelOrder(_Model):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class AddManualDiscount(_Model):
    """An operator's discount: exactly one of a fixed amount or a percent (a fraction, 0.1 = 10 %)."""

    amount_off_minor: Annotated[int | None, Field(strict=True, ge=1, le=10**12)] = None
    percent_off: Annotated[Decimal | None, Field(gt=0, le=1, max_digits=5, decimal_places=4)] = None
    reason: Annotated[str, Field(min_length=1, max_length=500)]


# -- services -------------------------------------------------------------------


def place_order(uow: UnitOfWork, cmd: PlaceOrder) -> dict[str, Any]:
    """Price, reserve and record a new order awaiting payment; returns it with its access token."""
    store = uow.store
    reject_card_data(
        {"utm_source": cmd.utm_source, "utm_medium": cmd.utm_medium, "utm_campaign": cmd.utm_campaign},
        field_kind="free_text",
    )
    customer_id, guest_email = _buyer(uow, cmd)
    if cmd.currency is not None and cmd.currency.upper() != store["currency"]:
        raise Invalid(
            f"this store sells in {store['currency']}, not {cmd.currency}",
            code="currency_mismatch",
            store_currency=store["currency"],
        )
    require_word("sales_channel", cmd.sales_channel, SALES_CHANNELS)
    if cmd.traffic_source is not None:
        require_word("traffic_source", cmd.traffic_source, TRAFFIC_SOURCES)
    if cmd.device is not None:
        require_word("device", cmd.device, DEVICES)
    ship = _ship_to(uow, customer_id, cmd.shipping_address, cmd.address_id)
    region = ship["ship_region"]

    catalogue_lines = _catalogue_lines(uow, [(ln.sku_id, ln.quantity) for ln in cmd.lines], region)
    coupon_row = None
    discounts: list[Discount] = []
    if cmd.coupon_code is not None:
        from transactional.services.coupons import coupon_for_order

        subtotal = sum(cl.line.unit_price_minor * cl.line.quantity for cl in catalogue_lines)
        coupon_row, coupon_discount = coupon_for_order(uow, cmd.coupon_code, subtotal)
        discounts.append(coupon_discount)
    priced = _price(uow, catalogue_lines, discounts, region)
    plan = _plan(uow, catalogue_lines, region, returned={})

    # Everything is decided: stage.
    order_id = uow.new_id("ord")
    token = secrets.token_urlsafe(24)
    if coupon_row is not None:
        from transactional.services.coupons import redeem_coupon

        redeem_coupon(uow, coupon_row["coupon_id"])
    order = uow.insert(
        "orders",
        {
            "order_id": order_id,
            "customer_id": customer_id,
            "guest_email": guest_email,
            "status": INITIAL_STATUS.value,
            "currency": store["currency"],
            "sales_channel": cmd.sales_channel,
            "session_id": cmd.session_id,
            "traffic_source": cmd.traffic_source,
            "utm_source": cmd.utm_source,
            "utm_medium": cmd.utm_medium,
            "utm_campaign": cmd.utm_campaign,
            "device": cmd.device,
            **ship,
            "coupon_code": coupon_row["code"] if coupon_row is not None else None,
            **_money(priced),
            "access_token_sha256": hashlib.sha256(token.encode()).hexdigest(),
            "placed_at": uow.now,
            "expires_at": uow.now + timedelta(seconds=store["order_ttl_seconds"]),
            "paid_at": None,
            "cancelled_at": None,
            "delivered_at": None,
            "attention_code": None,
            "attention_at": None,
            "updated_at": uow.now,
            "version": 1,
        },
    )
    _stage_lines(uow, order_id, catalogue_lines, priced, plan, first_line_no=1)
    if coupon_row is not None:
        _insert_discount(
            uow,
            order_id,
            discounts[0],
            applied_minor=priced.discounts_applied[0][1],
            source="coupon",
            coupon_code=coupon_row["code"],
            reason=None,
        )
    _history(uow, order_id, None, INITIAL_STATUS.value, reason=None)
    return {**order_view(uow, order), "access_token": token}


def modify_order(uow: UnitOfWork, order_id: str, cmd: ModifyOrder) -> dict[str, Any]:
    """Replace lines and/or address of an order awaiting payment, all or nothing."""
    order = _order(uow, order_id)
    if not can_modify(order["status"]):
        raise IllegalTransition(
            f"order {order_id} is {order['status']}; only orders awaiting payment can be modified",
            code="order_not_modifiable",
            current=order["status"],
        )
    if cmd.expected_version is not None and cmd.expected_version != order["version"]:
        raise Conflict(
            f"order {order_id} is at version {order['version']}, not {cmd.expected_version}",
            code="version_mismatch",
            current_version=order["version"],
        )
    if cmd.lines is None and cmd.shipping_address is None and cmd.address_id is None:
        raise Invalid("send new lines and/or a new shipping address", code="nothing_to_modify")

    if cmd.shipping_address is not None or cmd.address_id is not None:
        ship = _ship_to(uow, order["customer_id"], cmd.shipping_address, cmd.address_id)
    else:
        ship = {c: order[c] for c in _SHIP_COLUMNS}
    region = ship["ship_region"]
    old_lines = _lines(uow, order_id)
    wanted = (
        [(ln.sku_id, ln.quantity) for ln in cmd.lines]
        if cmd.lines is not None
        else [(ln["sku_id"], ln["quantity"]) for ln in old_lines]
    )
    catalogue_lines = _catalogue_lines(uow, wanted, region)
    discount_rows = _discount_rows(uow, order_id)
    subtotal = sum(cl.line.unit_price_minor * cl.line.quantity for cl in catalogue_lines)
    _check_coupon_minimum(uow, discount_rows, subtotal)
    priced = _price(uow, catalogue_lines, [_discount_of(r) for r in discount_rows], region)
    # This order's own reservations are released first, so they count as available.
    allocations = uow.lookup("order_allocations", "order_id", order_id)
    returned: dict[tuple[str, str], int] = {}
    for a in allocations:
        key = (a["sku_id"], a["warehouse_id"])
        returned[key] = returned.get(key, 0) + _outstanding(a)
    plan = _plan(uow, catalogue_lines, region, returned=returned)

    _release_allocations(uow, order_id, allocations, reason="order modified")
    for line in old_lines:
        uow.update("order_lines", line["order_line_id"], status="removed")
    all_lines = uow.lookup("order_lines", "order_id", order_id)
    next_no = max((ln["line_no"] for ln in all_lines), default=0) + 1
    _stage_lines(uow, order_id, catalogue_lines, priced, plan, first_line_no=next_no)
    _update_discounts(uow, discount_rows, priced)
    updated = uow.update(
        "orders",
        order_id,
        **ship,
        **_money(priced),
        updated_at=uow.now,
        version=order["version"] + 1,
    )
    return order_view(uow, updated)


def cancel_order(uow: UnitOfWork, order_id: str, cmd: CancelOrder) -> dict[str, Any]:
    """Cancel an order that has not started shipping; its reservations go back to stock.

    Money already taken is refunded by the payment station, not here.
    """
    order = _order(uow, order_id)
    if not can_cancel(order["status"]):
        raise IllegalTransition(
            f"order {order_id} is {order['status']} and can no longer be cancelled",
            code="order_not_cancellable",
            current=order["status"],
        )
    reason = _require_reason(cmd.reason)
    _release_allocations(
        uow, order_id, uow.lookup("order_allocations", "order_id", order_id), reason="order cancelled"
    )
    updated = _change_status(uow, order, OrderStatus.cancelled, reason=reason, cancelled_at=uow.now)
    return order_view(uow, updated)


def add_manual_discount(uow: UnitOfWork, order_id: str, cmd: AddManualDiscount) -> dict[str, Any]:
    """An operator's discount on an order awaiting payment, with a reason.

    The API checks the role; a storefront key is refused here too, as a
    customer granting themselves a discount is the one mistake that must not
    slip through a misconfigured route. Lines keep their prices and tax rates;
    discounts, tax and shipping are recomputed.
    """
    if uow.actor.role == Role.storefront:
        raise Forbidden("only staff can add a manual discount", code="role_forbidden")
    reason = _require_reason(cmd.reason)
    if (cmd.amount_off_minor is None) == (cmd.percent_off is None):
        raise Invalid("give exactly one of amount_off_minor or percent_off", code="invalid_discount")
    discount = (
        Discount(kind="fixed", value=cmd.amount_off_minor, source="manual")  # type: ignore[arg-type]
        if cmd.amount_off_minor is not None
        else Discount(kind="percent", value=cmd.percent_off, source="manual")  # type: ignore[arg-type]
    )
    order = _order(uow, order_id)
    if not can_modify(order["status"]):
        raise IllegalTransition(
            f"order {order_id} is {order['status']}; discounts can only be added before payment",
            code="order_not_modifiable",
            current=order["status"],
        )
    lines = _lines(uow, order_id)
    discount_rows = _discount_rows(uow, order_id)
    from transactional.services.catalogue import shipping_rates_for

    priced = price_order(
        [LineInput(ln["sku_id"], ln["quantity"], ln["unit_price_minor"], ln["tax_rate"]) for ln in lines],
        tax_mode=uow.store["tax_mode"],
        discounts=[*(_discount_of(r) for r in discount_rows), discount],
        shipping_rates=shipping_rates_for(uow, order["ship_region"]),
        region=order["ship_region"],
    )
    for line, p in zip(lines, priced.lines, strict=True):
        uow.update("order_lines", line["order_line_id"], **_line_money(p))
    _update_discounts(uow, discount_rows, priced)
    applied = priced.discounts_applied[-1][1]
    _insert_discount(
        uow, order_id, discount, applied_minor=applied, source="manual", coupon_code=None, reason=reason
    )
    updated = uow.update(
        "orders", order_id, **_money(priced), updated_at=uow.now, version=order["version"] + 1
    )
    uow.audit(
        "order.manual_discount",
        "order",
        order_id,
        kind=discount.kind,
        value=discount.value,
        applied_minor=applied,
        reason=reason,
    )
    return order_view(uow, updated)


def complete_order(uow: UnitOfWork, order_id: str) -> dict[str, Any]:
    """Close a delivered order (delivered → completed)."""
    order = _order(uow, order_id)
    return order_view(uow, _change_status(uow, order, OrderStatus.completed, reason=None))


def expire_order(uow: UnitOfWork, order: Row) -> Row:
    """Expire an unpaid order past its payment window and release its stock (used by run_due)."""
    _release_allocations(
        uow,
        order["order_id"],
        uow.lookup("order_allocations", "order_id", order["order_id"]),
        reason="order expired",
    )
    return _change_status(
        uow, order, OrderStatus.expired, reason="payment window elapsed", actor=Actor(role="system")
    )


def order_for_actor(uow: UnitOfWork, order_id: str) -> Row:
    """The order if it exists and the caller may act on it, else NotFound ``order_not_found``
    (for other services, e.g. payments)."""
    return _order(uow, order_id)


def change_order_status(
    uow: UnitOfWork,
    order: Row,
    target: OrderStatus,
    *,
    reason: str | None,
    actor: Actor | None = None,
    **changes: Any,
) -> Row:
    """Move an order along its state machine with a status-history row (for other services)."""
    return _change_status(uow, order, target, reason=reason, actor=actor, **changes)


# -- views ------------------------------------------------------------------------


def status_label(status: str) -> str:
    """The customer-facing wording of an order status."""
    return STATUS_LABELS.get(status, status)


_HIDDEN = frozenset({"access_token_sha256"})


def order_view(uow: UnitOfWork, order: Row) -> dict[str, Any]:
    """The order as the API returns it: header, active lines, their allocations, active discounts."""
    order_id = order["order_id"]
    lines = _lines(uow, order_id)
    active = {ln["order_line_id"] for ln in lines}
    allocations = sorted(
        (a for a in uow.lookup("order_allocations", "order_id", order_id) if a["order_line_id"] in active),
        key=lambda a: a["allocation_id"],
    )
    return {
        **{k: _jsonable(v) for k, v in order.items() if k not in _HIDDEN},
        "status_label": status_label(order["status"]),
        "lines": [{k: _jsonable(v) for k, v in ln.items()} for ln in lines],
        "allocations": [dict(a) for a in allocations],
        "discounts": [{k: _jsonable(v) for k, v in d.items()} for d in _discount_rows(uow, order_id)],
    }


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


# -- helpers --------------------------------------------------------------------

_SHIP_COLUMNS = (
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postal_code",
    "ship_country",
    "ship_phone",
)


@dataclass(frozen=True, slots=True)
class _CatalogueLine:
    line: LineInput
    sku: Row
    product: Row


def _order(uow: UnitOfWork, order_id: str) -> Row:
    """The order, if it exists and the caller may act on it."""
    order = uow.get("orders", order_id)
    actor = uow.actor
    if order is None or (actor.role == Role.storefront and not _storefront_may_act(actor, order)):
        # 404, not 403: a storefront must not learn which order ids exist.
        raise NotFound(f"order {order_id} does not exist", code="order_not_found")
    return order


def _storefront_may_act(actor: Actor, order: Row) -> bool:
    """A storefront acts for the order's customer (customer token) or its guest (order token)."""
    if actor.customer_id is not None and order["customer_id"] == actor.customer_id:
        return True
    return actor.order_token_sha256 is not None and actor.order_token_sha256 == order["access_token_sha256"]


def _buyer(uow: UnitOfWork, cmd: PlaceOrder) -> tuple[str | None, str | None]:
    actor = uow.actor
    if actor.role == Role.storefront:
        if actor.customer_id is not None and cmd.customer_id != actor.customer_id:
            raise Forbidden(
                "a customer token can only place orders for its own customer", code="customer_mismatch"
            )
        if actor.customer_id is None and cmd.customer_id is not None:
            raise Forbidden(
                "placing an order for a customer needs that customer's token; "
                "without one, place a guest order",
                code="customer_token_required",
            )
    if (cmd.customer_id is None) == (cmd.guest_email is None):
        raise Invalid("give exactly one of customer_id or guest_email", code="customer_or_guest_required")
    if cmd.customer_id is not None:
        uow.require("customers", cmd.customer_id, code="customer_not_found", what="customer")
        return cmd.customer_id, None
    email = (cmd.guest_email or "").strip().lower()
    if not _EMAIL_RE.fullmatch(email):
        raise Invalid(f"invalid e-mail address {cmd.guest_email!r}", code="invalid_email")
    return None, email


def _ship_to(
    uow: UnitOfWork, customer_id: str | None, address: ShippingAddress | None, address_id: str | None
) -> dict[str, Any]:
    if (address is None) == (address_id is None):
        raise Invalid("give exactly one of shipping_address or address_id", code="address_required")
    if address is not None:
        fields = address.model_dump()
        reject_card_data(
            {
                f"shipping_address.{k}": fields[k]
                for k in ("name", "line1", "line2", "city", "region", "postal_code")
            },
            field_kind="free_text",
        )
        return {f"ship_{k}": v for k, v in fields.items()}
    saved = uow.get("customer_addresses", address_id)
    if saved is None or customer_id is None or saved["customer_id"] != customer_id:
        raise NotFound(f"address {address_id} does not exist", code="address_not_found")
    return {c: saved[c.removeprefix("ship_")] for c in _SHIP_COLUMNS}


def _catalogue_lines(uow: UnitOfWork, wanted: Sequence[tuple[str, int]], region: str) -> list[_CatalogueLine]:
    """Each requested line with its catalogue price at ``uow.now`` and its tax rate for ``region``."""
    from transactional.services.catalogue import effective_price, tax_rate_for

    prices: dict[str, int] = {}
    out: list[_CatalogueLine] = []
    for sku_id, qty in wanted:
        sku = uow.require("skus", sku_id, code="sku_not_found", what="SKU")
        product = uow.require("products", sku["product_id"], code="product_not_found", what="product")
        if sku["status"] != "active" or product["status"] != "active":
            raise Conflict(f"SKU {sku_id} is not for sale", code="sku_not_sellable", sku_id=sku_id)
        if sku_id not in prices:
            prices[sku_id] = effective_price(uow, sku_id, uow.now)
        # Quantized to the stored DECIMAL(7, 6), so the rate priced with is the rate recorded.
        rate = tax_rate_for(uow, region, product["tax_class"]).quantize(_RATE_QUANTUM)
        out.append(_CatalogueLine(LineInput(sku_id, qty, prices[sku_id], rate), sku, product))
    return out


def _price(
    uow: UnitOfWork, lines: Sequence[_CatalogueLine], discounts: Sequence[Discount], region: str
) -> PricedOrder:
    from transactional.services.catalogue import shipping_rates_for

    return price_order(
        [cl.line for cl in lines],
        tax_mode=uow.store["tax_mode"],
        discounts=discounts,
        shipping_rates=shipping_rates_for(uow, region),
        region=region,
    )


def _plan(
    uow: UnitOfWork,
    lines: Sequence[_CatalogueLine],
    region: str,
    *,
    returned: Mapping[tuple[str, str], int],
) -> dict[str, list[tuple[str, int]]]:
    """Warehouses for the lines' demand; ``returned`` is stock this command releases before reserving."""
    demand: dict[str, int] = {}
    for cl in lines:
        demand[cl.line.sku_id] = demand.get(cl.line.sku_id, 0) + cl.line.quantity
    warehouses = [
        stock.Warehouse(w["warehouse_id"], w["region"], w["priority"]) for w in uow.scan("warehouses")
    ]
    available: dict[tuple[str, str], int] = {}
    for sku_id in demand:
        for level in uow.lookup("stock_levels", "sku_id", sku_id):
            key = (sku_id, level["warehouse_id"])
            available[key] = level["on_hand"] - level["reserved"] + returned.get(key, 0)
    return stock.plan_fulfilment(demand, available, warehouses, region)


def _stage_lines(
    uow: UnitOfWork,
    order_id: str,
    lines: Sequence[_CatalogueLine],
    priced: PricedOrder,
    plan: Mapping[str, list[tuple[str, int]]],
    *,
    first_line_no: int,
) -> None:
    """Insert the order lines and their allocations, reserving each allocation's stock."""
    # Each SKU's planned (warehouse, quantity) parts, consumed line by line in order.
    left = {sku: dict(parts) for sku, parts in plan.items()}
    for no, (cl, p) in enumerate(zip(lines, priced.lines, strict=True), start=first_line_no):
        line_id = uow.new_id("oln")
        uow.insert(
            "order_lines",
            {
                "order_line_id": line_id,
                "order_id": order_id,
                "line_no": no,
                "status": "active",
                "sku_id": cl.sku["sku_id"],
                "product_id": cl.product["product_id"],
                "category_id": cl.product["category_id"],
                "sku_name": cl.sku["name"],
                "quantity": cl.line.quantity,
                "quantity_shipped": 0,
                "quantity_refunded": 0,
                "quantity_cancelled": 0,
                "unit_price_minor": cl.line.unit_price_minor,
                "unit_cost_minor": cl.sku["unit_cost_minor"],
                "tax_rate": cl.line.tax_rate,
                **_line_money(p),
            },
        )
        need = cl.line.quantity
        parts = left[cl.line.sku_id]
        for warehouse_id in list(parts):
            if need == 0:
                break
            take = min(need, parts[warehouse_id])
            if take == 0:
                continue
            parts[warehouse_id] -= take
            need -= take
            move_stock(
                uow,
                cl.line.sku_id,
                warehouse_id,
                partial(stock.reserve, qty=take),
                reason=None,
                reference_type="order",
                reference_id=order_id,
            )
            uow.insert(
                "order_allocations",
                {
                    "allocation_id": uow.new_id("alc"),
                    "order_id": order_id,
                    "order_line_id": line_id,
                    "sku_id": cl.line.sku_id,
                    "warehouse_id": warehouse_id,
                    "quantity": take,
                    "quantity_shipped": 0,
                    "quantity_released": 0,
                },
            )
        assert need == 0, "the fulfilment plan covers every line"


def active_lines(uow: UnitOfWork, order_id: str) -> list[Row]:
    """The order's active lines in line order (for other services)."""
    return _lines(uow, order_id)


def outstanding(allocation: Row) -> int:
    """Units still reserved by an allocation (for other services)."""
    return _outstanding(allocation)


def release_allocations(uow: UnitOfWork, order_id: str, allocations: Sequence[Row], *, reason: str) -> None:
    """Give back to stock every unit the allocations still reserve (for other services)."""
    _release_allocations(uow, order_id, allocations, reason=reason)


def release_units(uow: UnitOfWork, order_id: str, order_line_id: str, units: int, *, reason: str) -> None:
    """Give back ``units`` still reserved for one line (a refund of unshipped units), newest allocation first."""
    left = units
    allocations = sorted(
        (
            a
            for a in uow.lookup("order_allocations", "order_id", order_id)
            if a["order_line_id"] == order_line_id
        ),
        key=lambda a: a["allocation_id"],
        reverse=True,
    )
    for a in allocations:
        qty = min(left, _outstanding(a))
        if qty > 0:
            _release(uow, order_id, a, qty, reason)
            left -= qty
    if left:
        raise Conflict(
            f"line {order_line_id} has fewer than {units} reserved units", code="nothing_to_release"
        )


def _outstanding(allocation: Row) -> int:
    """Units still reserved by an allocation: neither shipped nor released."""
    return allocation["quantity"] - allocation["quantity_shipped"] - allocation["quantity_released"]


def _release_allocations(uow: UnitOfWork, order_id: str, allocations: Sequence[Row], *, reason: str) -> None:
    for a in allocations:
        qty = _outstanding(a)
        if qty > 0:
            _release(uow, order_id, a, qty, reason)


def _release(uow: UnitOfWork, order_id: str, allocation: Row, qty: int, reason: str) -> None:
    """Give ``qty`` reserved units of one allocation back to stock."""
    move_stock(
        uow,
        allocation["sku_id"],
        allocation["warehouse_id"],
        partial(stock.release, qty=qty),
        reason=reason,
        reference_type="order",
        reference_id=order_id,
    )
    uow.update(
        "order_allocations",
        allocation["allocation_id"],
        quantity_released=allocation["quantity_released"] + qty,
    )


def _lines(uow: UnitOfWork, order_id: str) -> list[Row]:
    """The order's active lines in line order."""
    rows = [ln for ln in uow.lookup("order_lines", "order_id", order_id) if ln["status"] == "active"]
    return sorted(rows, key=lambda ln: ln["line_no"])


def _discount_rows(uow: UnitOfWork, order_id: str) -> list[Row]:
    """Active discounts in the order they apply: the coupon first, then manual ones as added."""
    rows = [d for d in uow.lookup("order_discounts", "order_id", order_id) if d["is_active"]]
    return sorted(rows, key=lambda d: (d["source"] != "coupon", d["created_at"], d["order_discount_id"]))


def _discount_of(row: Row) -> Discount:
    if row["kind"] == "percent":
        return Discount(kind="percent", value=row["percent_off"], source=row["source"])
    return Discount(kind="fixed", value=row["amount_off_minor"], source=row["source"])


def _check_coupon_minimum(uow: UnitOfWork, discount_rows: Sequence[Row], subtotal: int) -> None:
    for row in discount_rows:
        if row["source"] != "coupon":
            continue
        for coupon in uow.lookup("coupons", "code", row["coupon_code"]):
            if subtotal < coupon["min_subtotal_minor"]:
                raise Invalid(
                    f"coupon {coupon['code']} needs a subtotal of at least {coupon['min_subtotal_minor']}",
                    code="coupon_minimum_not_met",
                    min_subtotal_minor=coupon["min_subtotal_minor"],
                )


def _update_discounts(uow: UnitOfWork, discount_rows: Sequence[Row], priced: PricedOrder) -> None:
    for row, (_, applied) in zip(discount_rows, priced.discounts_applied, strict=False):
        if row["applied_minor"] != applied:
            uow.update("order_discounts", row["order_discount_id"], applied_minor=applied)


def _insert_discount(
    uow: UnitOfWork,
    order_id: str,
    discount: Discount,
    *,
    applied_minor: int,
    source: str,
    coupon_code: str | None,
    reason: str | None,
) -> None:
    uow.insert(
        "order_discounts",
        {
            "order_discount_id": uow.new_id("odc"),
            "order_id": order_id,
            "source": source,
            "coupon_code": coupon_code,
            "reason": reason,
            "kind": discount.kind,
            "percent_off": Decimal(discount.value).quantize(_PERCENT_QUANTUM)
            if discount.kind == "percent"
            else None,
            "amount_off_minor": discount.value if discount.kind == "fixed" else None,
            "applied_minor": applied_minor,
            "created_at": uow.now,
            "actor_key_id": uow.actor.key_id,
            "is_active": True,
        },
    )


def _line_money(p: Any) -> dict[str, int]:
    return {
        "list_minor": p.list_minor,
        "gross_minor": p.gross_minor,
        "discount_minor": p.discount_minor,
        "net_minor": p.net_minor,
        "tax_minor": p.tax_minor,
        "total_minor": p.total_minor,
    }


def _money(priced: PricedOrder) -> dict[str, int]:
    return {
        "subtotal_listed_minor": priced.subtotal_listed_minor,
        "gross_minor": priced.gross_minor,
        "discount_minor": priced.discount_minor,
        "net_minor": priced.net_minor,
        "tax_minor": priced.tax_minor,
        "shipping_minor": priced.shipping_minor,
        "total_minor": priced.total_minor,
    }


def _require_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise Invalid("a reason is required", code="reason_required")
    reject_card_data({"reason": text}, field_kind="free_text")
    return text


def _change_status(
    uow: UnitOfWork,
    order: Row,
    target: OrderStatus,
    *,
    reason: str | None,
    actor: Actor | None = None,
    **changes: Any,
) -> Row:
    """The one way an order's status changes: a legal transition, the row updated, a history row."""
    new = transition(order["status"], target)
    updated = uow.update(
        "orders",
        order["order_id"],
        status=new.value,
        updated_at=uow.now,
        version=order["version"] + 1,
        **changes,
    )
    _history(uow, order["order_id"], order["status"], new.value, reason=reason, actor=actor)
    return updated


def _history(
    uow: UnitOfWork,
    order_id: str,
    from_status: str | None,
    to_status: str,
    *,
    reason: str | None,
    actor: Actor | None = None,
) -> None:
    who = actor or uow.actor
    uow.insert(
        "order_status_history",
        {
            "history_id": uow.new_id("osh"),
            "order_id": order_id,
            "from_status": from_status,
            "to_status": to_status,
            "changed_at": uow.now,
            "actor_key_id": who.key_id,
            "actor_role": who.role,
            "reason": reason,
            "request_id": uow.request_id,
        },
    )
