from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from transactional.domain.coupons import Coupon, check_coupon, normalize_code
from transactional.domain.errors import Invalid
from transactional.domain.pricing import Discount

T0 = datetime(2025, 6, 1, tzinfo=UTC)
SUMMER = Coupon(
    code="SUMMER",
    kind="percent",
    value=Decimal("0.15"),
    valid_from=T0,
    valid_until=T0 + timedelta(days=30),
    usage_limit=100,
    times_used=99,
    min_subtotal_minor=5000,
    is_active=True,
)


def test_valid_coupon_gives_discount():
    discount = check_coupon(SUMMER, now=T0, subtotal_listed_minor=5000)
    assert discount == Discount("percent", Decimal("0.15"), "coupon:SUMMER")
    fixed = replace(SUMMER, kind="fixed", value=1000, valid_until=None, usage_limit=None)
    assert check_coupon(fixed, now=T0 + timedelta(days=999), subtotal_listed_minor=9000) == (
        Discount("fixed", 1000, "coupon:SUMMER")
    )


@pytest.mark.parametrize(
    ("changes", "now", "subtotal", "code"),
    [
        ({"is_active": False}, T0, 5000, "coupon_inactive"),
        ({}, T0 - timedelta(seconds=1), 5000, "coupon_not_yet_valid"),
        ({}, T0 + timedelta(days=30), 5000, "coupon_expired"),  # valid_until is exclusive
        ({"times_used": 100}, T0, 5000, "coupon_exhausted"),
        ({}, T0, 4999, "coupon_minimum_not_met"),
        ({"value": Decimal("0")}, T0, 5000, "invalid_discount"),
    ],
)
def test_coupon_rejections(changes, now, subtotal, code):
    with pytest.raises(Invalid) as err:
        check_coupon(replace(SUMMER, **changes), now=now, subtotal_listed_minor=subtotal)
    assert err.value.code == code


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        check_coupon(SUMMER, now=datetime(2025, 6, 2), subtotal_listed_minor=5000)


def test_normalize_code():
    assert normalize_code("  summer-25 ") == "SUMMER-25"
    assert normalize_code("a_b") == "A_B"
    for bad in ["ab", "x" * 33, "SUMMER 25", "ÉTÉ25", "", None]:
        with pytest.raises(Invalid) as err:
            normalize_code(bad)
        assert err.value.code == "invalid_coupon_code"
