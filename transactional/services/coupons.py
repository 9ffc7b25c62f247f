"""Coupons: creating and deactivating them, and turning a code into an order discount.

The rules a coupon must pass at checkout (active, validity window, usage
limit, minimum subtotal) live in domain.coupons; the order service calls
``coupon_for_order`` while pricing and ``redeem_coupon`` when the order is
placed, in the same command, so a coupon's last use cannot be taken twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from transactional.domain.coupons import Coupon, check_coupon, normalize_code
from transactional.domain.errors import Conflict, Invalid
from transactional.domain.pricing import Discount
from transactional.storage.state import Row
from transactional.storage.unit_of_work import UnitOfWork

# coupons.percent_off is DECIMAL(5, 4).
_PERCENT_QUANTUM = Decimal("0.0001")


class CreateCoupon(BaseModel):
    """A percent coupon sets ``percent_off`` (a fraction, 0.15 = 15 %); a fixed one ``amount_off_minor``."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=1, max_length=64)]
    kind: Literal["percent", "fixed"]
    percent_off: Annotated[Decimal, Field(gt=0, le=1, decimal_places=4, allow_inf_nan=False)] | None = None
    amount_off_minor: Annotated[int, Field(gt=0, le=10**15)] | None = None
    valid_from: AwareDatetime | None = None  # None: now
    valid_until: AwareDatetime | None = None  # None: open-ended; the coupon is valid before this instant
    usage_limit: Annotated[int, Field(ge=1, le=10**12)] | None = None
    min_subtotal_minor: Annotated[int, Field(ge=0, le=10**15)] = 0


def coupon_view(row: Row) -> dict[str, Any]:
    return dict(row)


def _domain_coupon(row: Row) -> Coupon:
    value: Decimal | int = (
        Decimal(row["percent_off"]) if row["kind"] == "percent" else int(row["amount_off_minor"])
    )
    return Coupon(
        code=row["code"],
        kind=row["kind"],
        value=value,
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        usage_limit=row["usage_limit"],
        times_used=row["times_used"],
        min_subtotal_minor=row["min_subtotal_minor"],
        is_active=row["is_active"],
    )


def _require_coupon(uow: UnitOfWork, coupon_id: str) -> Row:
    return uow.require("coupons", coupon_id, code="coupon_not_found", what="coupon")


def create_coupon(uow: UnitOfWork, cmd: CreateCoupon) -> dict[str, Any]:
    code = normalize_code(cmd.code)
    percent_off: Decimal | None = None
    amount_off: int | None = None
    if cmd.kind == "percent":
        if cmd.percent_off is None or cmd.amount_off_minor is not None:
            raise Invalid(
                "a percent coupon needs percent_off and no amount_off_minor", code="invalid_discount"
            )
        if not (0 < cmd.percent_off <= 1 and cmd.percent_off == cmd.percent_off.quantize(_PERCENT_QUANTUM)):
            raise Invalid(
                "percent_off must be a fraction in (0, 1] with at most 4 decimals", code="invalid_discount"
            )
        percent_off = cmd.percent_off.quantize(_PERCENT_QUANTUM)
    else:
        if cmd.amount_off_minor is None or cmd.percent_off is not None:
            raise Invalid("a fixed coupon needs amount_off_minor and no percent_off", code="invalid_discount")
        amount_off = cmd.amount_off_minor
    valid_from = cmd.valid_from if cmd.valid_from is not None else uow.now
    if cmd.valid_until is not None and cmd.valid_until <= valid_from:
        raise Invalid("valid_until must be after valid_from", code="invalid_validity_window")
    if uow.lookup("coupons", "code", code):
        raise Conflict(f"coupon code {code} is already used", code="coupon_code_taken")
    coupon_id = uow.new_id("cpn")
    row = uow.insert(
        "coupons",
        {
            "coupon_id": coupon_id,
            "code": code,
            "kind": cmd.kind,
            "percent_off": percent_off,
            "amount_off_minor": amount_off,
            "valid_from": valid_from,
            "valid_until": cmd.valid_until,
            "usage_limit": cmd.usage_limit,
            "times_used": 0,
            "min_subtotal_minor": cmd.min_subtotal_minor,
            "is_active": True,
            "created_at": uow.now,
        },
    )
    uow.audit(
        "coupon.create",
        "coupon",
        coupon_id,
        code=code,
        kind=cmd.kind,
        percent_off=percent_off,
        amount_off_minor=amount_off,
        usage_limit=cmd.usage_limit,
    )
    return coupon_view(row)


def deactivate_coupon(uow: UnitOfWork, coupon_id: str) -> dict[str, Any]:
    """Stop a coupon from being used; deactivating an inactive coupon changes nothing."""
    row = _require_coupon(uow, coupon_id)
    if not row["is_active"]:
        return coupon_view(row)
    updated = uow.update("coupons", coupon_id, is_active=False)
    uow.audit("coupon.deactivate", "coupon", coupon_id, code=row["code"])
    return coupon_view(updated)


def coupon_for_order(uow: UnitOfWork, code: str, subtotal_listed_minor: int) -> tuple[Row, Discount]:
    """The coupon row for ``code`` and the discount it grants now on this listed subtotal.

    Raises Invalid ``invalid_coupon_code`` (malformed), ``coupon_not_found``,
    or the domain's ``coupon_inactive`` / ``coupon_not_yet_valid`` /
    ``coupon_expired`` / ``coupon_exhausted`` / ``coupon_minimum_not_met``.
    """
    normalized = normalize_code(code)
    rows = uow.lookup("coupons", "code", normalized)
    if not rows:
        # Invalid rather than NotFound: the order is what is being created; the code is bad input.
        raise Invalid(f"no coupon {normalized}", code="coupon_not_found")
    row = rows[0]
    discount = check_coupon(_domain_coupon(row), now=uow.now, subtotal_listed_minor=subtotal_listed_minor)
    return row, discount


def redeem_coupon(uow: UnitOfWork, coupon_id: str) -> Row:
    """Count one use of the coupon (the order service calls this when it places the order)."""
    row = _require_coupon(uow, coupon_id)
    if not row["is_active"]:
        raise Conflict(f"coupon {row['code']} is not active", code="coupon_inactive")
    if row["usage_limit"] is not None and row["times_used"] >= row["usage_limit"]:
        raise Conflict(f"coupon {row['code']} has no uses left", code="coupon_exhausted")
    return uow.update("coupons", coupon_id, times_used=row["times_used"] + 1)
