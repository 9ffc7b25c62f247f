"""Coupons: code normalization and the checks that turn a coupon into a discount.

A coupon is valid on ``[valid_from, valid_until)`` (``valid_until`` None means
open-ended), while active, while ``times_used < usage_limit`` (None means
unlimited), and only when the listed subtotal reaches ``min_subtotal_minor``.
The checks run in that order, so the first broken rule is the one reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from transactional.domain.errors import Invalid
from transactional.domain.pricing import Discount, validate_discount

_CODE_RE = re.compile(r"[A-Z0-9_-]{3,32}")


@dataclass(frozen=True, slots=True)
class Coupon:
    code: str
    kind: Literal["percent", "fixed"]
    value: Decimal | int
    valid_from: datetime
    valid_until: datetime | None
    usage_limit: int | None
    times_used: int
    min_subtotal_minor: int
    is_active: bool


def normalize_code(code: str) -> str:
    """Strip and upper-case a coupon code; it must then match ``[A-Z0-9_-]{3,32}``."""
    normalized = code.strip().upper() if isinstance(code, str) else ""
    if not _CODE_RE.fullmatch(normalized):
        raise Invalid(
            f"invalid coupon code {code!r}: use 3 to 32 letters, digits, '_' or '-'",
            code="invalid_coupon_code",
        )
    return normalized


def check_coupon(coupon: Coupon, *, now: datetime, subtotal_listed_minor: int) -> Discount:
    """The discount ``coupon`` grants at ``now`` on this subtotal, or the reason it can't."""
    if now.tzinfo is None:
        # Naive instants are ambiguous across store timezones; refuse them early.
        raise ValueError("now must be timezone-aware")
    if not coupon.is_active:
        raise Invalid(f"coupon {coupon.code} is not active", code="coupon_inactive")
    if now < coupon.valid_from:
        raise Invalid(
            f"coupon {coupon.code} is valid from {coupon.valid_from.isoformat()}",
            code="coupon_not_yet_valid",
        )
    if coupon.valid_until is not None and now >= coupon.valid_until:
        raise Invalid(
            f"coupon {coupon.code} expired at {coupon.valid_until.isoformat()}",
            code="coupon_expired",
        )
    if coupon.usage_limit is not None and coupon.times_used >= coupon.usage_limit:
        raise Invalid(
            f"coupon {coupon.code} has been used {coupon.times_used} of {coupon.usage_limit} times",
            code="coupon_exhausted",
        )
    if subtotal_listed_minor < coupon.min_subtotal_minor:
        raise Invalid(
            f"coupon {coupon.code} needs a subtotal of at least {coupon.min_subtotal_minor}",
            code="coupon_minimum_not_met",
            min_subtotal_minor=coupon.min_subtotal_minor,
        )
    return validate_discount(Discount(kind=coupon.kind, value=coupon.value, source=f"coupon:{coupon.code}"))
