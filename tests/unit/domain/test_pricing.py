from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transactional.domain.errors import Invalid
from transactional.domain.pricing import (
    Discount,
    LineInput,
    PricedOrder,
    ShippingRate,
    price_order,
)

D = Decimal
FLAT = [ShippingRate("*", 0, 0)]


def price(lines, *, tax_mode="exclusive", discounts=(), rates=FLAT, region="US") -> PricedOrder:
    return price_order(lines, tax_mode=tax_mode, discounts=discounts, shipping_rates=rates, region=region)


def test_exclusive_percent_discount_hand_computed():
    order = price(
        [LineInput("A", 2, 1999, D("0.0825")), LineInput("B", 1, 500, D("0.0825"))],
        discounts=[Discount("percent", D("0.10"), "coupon:TEN")],
        rates=[ShippingRate("*", 0, 599), ShippingRate("*", 5000, 0)],
    )
    a, b = order.lines
    # subtotal 4498; 10% = 449.8 -> 450; split 3998:500 -> 399.98 / 50.02 -> 400 / 50
    assert order.subtotal_listed_minor == 4498
    assert order.discounts_applied == (("coupon:TEN", 450),)
    assert (a.list_minor, a.gross_minor, a.discount_minor, a.net_minor) == (3998, 3998, 400, 3598)
    assert (a.tax_minor, a.total_minor) == (297, 3895)  # 3598 * 0.0825 = 296.835
    assert (b.discount_minor, b.net_minor, b.tax_minor, b.total_minor) == (50, 450, 37, 487)
    assert order.shipping_minor == 599  # 4048 after discount is below the 5000 free tier
    assert (order.gross_minor, order.discount_minor, order.net_minor) == (4498, 450, 4048)
    assert (order.tax_minor, order.total_minor) == (334, 4981)


def test_inclusive_hand_computed():
    order = price(
        [LineInput("A", 1, 1190, D("0.19")), LineInput("B", 3, 333, D("0.07"))],
        tax_mode="inclusive",
        discounts=[Discount("percent", D("0.1"), "coupon:TEN"), Discount("fixed", 50, "manual")],
        rates=[ShippingRate("DE", 0, 490), ShippingRate("*", 0, 990)],
        region="DE",
    )
    a, b = order.lines
    # subtotal 2189; 218.9 -> 219, + 50 = 269; split 1190:999 -> 146.23 / 122.77 -> 146 / 123
    assert order.discounts_applied == (("coupon:TEN", 219), ("manual", 50))
    assert (a.discount_listed_minor, b.discount_listed_minor) == (146, 123)
    # A: paid 1044, tax 1044*19/119 = 166.69 -> 167, net 877, gross 1190 - 190 = 1000
    assert (a.gross_minor, a.discount_minor, a.net_minor, a.tax_minor, a.total_minor) == (
        1000,
        123,
        877,
        167,
        1044,
    )
    # B: paid 876, tax 876*7/107 = 57.31 -> 57, net 819, gross 999 - 65.36 -> 934
    assert (b.gross_minor, b.discount_minor, b.net_minor, b.tax_minor, b.total_minor) == (
        934,
        115,
        819,
        57,
        876,
    )
    assert order.shipping_minor == 490  # the region's own rate, not the fallback
    assert order.total_minor == 1044 + 876 + 490


def test_inclusive_without_discount_extracts_tax_exactly():
    (line,) = price([LineInput("A", 1, 999, D("0.2"))], tax_mode="inclusive").lines
    # 999 / 6 = 166.5 -> 167 (half up)
    assert (line.gross_minor, line.tax_minor, line.net_minor, line.total_minor) == (
        832,
        167,
        832,
        999,
    )
    assert line.discount_minor == 0


def test_jpy_zero_exponent_yen_rounding():
    # JPY amounts are whole yen; tax 10% of 1005 yen = 100.5 -> 101 yen.
    order = price(
        [LineInput("SKU-JP", 1, 1505, D("0.10"))],
        discounts=[Discount("fixed", 500, "manual")],
        rates=[ShippingRate("JP", 0, 800), ShippingRate("JP", 5000, 0)],
        region="JP",
    )
    (line,) = order.lines
    assert (line.net_minor, line.tax_minor, line.total_minor) == (1005, 101, 1106)
    assert order.total_minor == 1906


def test_discounts_capped_at_listed_subtotal():
    order = price(
        [LineInput("A", 1, 1000, D("0.1"))],
        discounts=[
            Discount("percent", D("0.6"), "coupon:A"),
            Discount("fixed", 700, "manual"),
            Discount("percent", D("0.1"), "coupon:B"),
        ],
    )
    assert order.discounts_applied == (("coupon:A", 600), ("manual", 400), ("coupon:B", 0))
    assert order.net_minor == 0 and order.tax_minor == 0 and order.total_minor == 0


def test_percent_is_of_listed_subtotal_not_compounding():
    order = price(
        [LineInput("A", 1, 1000, D("0"))],
        discounts=[Discount("percent", D("0.1"), "a"), Discount("percent", D("0.1"), "b")],
    )
    assert order.discounts_applied == (("a", 100), ("b", 100))


def test_shipping_selection():
    rates = [
        ShippingRate("*", 0, 999),
        ShippingRate("*", 10000, 0),
        ShippingRate("EU", 2000, 500),
        ShippingRate("EU", 5000, 250),
    ]
    line = [LineInput("A", 1, 6000, D("0"))]
    assert price(line, rates=rates, region="US").shipping_minor == 999
    assert price(line, rates=rates, region="EU").shipping_minor == 250
    # Order value after discounts decides the tier: 6000 - 1500 = 4500.
    discounted = price(line, rates=rates, region="EU", discounts=[Discount("fixed", 1500, "m")])
    assert discounted.shipping_minor == 500
    # The region has rates but none applies: no fallback to "*".
    with pytest.raises(Invalid) as err:
        price([LineInput("A", 1, 100, D("0"))], rates=rates, region="EU")
    assert err.value.code == "no_shipping_rate"
    with pytest.raises(Invalid) as err:
        price(line, rates=[], region="US")
    assert err.value.code == "no_shipping_rate"


@pytest.mark.parametrize(
    ("lines", "kwargs", "code"),
    [
        ([], {}, "empty_order"),
        ([LineInput("A", 0, 100, D("0"))], {}, "invalid_quantity"),
        ([LineInput("A", True, 100, D("0"))], {}, "invalid_quantity"),
        ([LineInput("A", 1, -1, D("0"))], {}, "invalid_price"),
        ([LineInput("A", 1, 100, D("1"))], {}, "invalid_tax_rate"),
        ([LineInput("A", 1, 100, D("-0.1"))], {}, "invalid_tax_rate"),
        ([LineInput("A", 1, 100, 0.1)], {}, "invalid_tax_rate"),
        ([LineInput("A", 1, 100, D("0"))], {"tax_mode": "gross"}, "invalid_tax_mode"),
        (
            [LineInput("A", 1, 100, D("0"))],
            {"discounts": [Discount("percent", D("0"), "x")]},
            "invalid_discount",
        ),
        (
            [LineInput("A", 1, 100, D("0"))],
            {"discounts": [Discount("percent", D("1.5"), "x")]},
            "invalid_discount",
        ),
        (
            [LineInput("A", 1, 100, D("0"))],
            {"discounts": [Discount("percent", 0.1, "x")]},
            "invalid_discount",
        ),
        (
            [LineInput("A", 1, 100, D("0"))],
            {"discounts": [Discount("fixed", 0, "x")]},
            "invalid_discount",
        ),
        (
            [LineInput("A", 1, 100, D("0"))],
            {"discounts": [Discount("fixed", D("1.5"), "x")]},
            "invalid_discount",
        ),
    ],
)
def test_validation(lines, kwargs, code):
    with pytest.raises(Invalid) as err:
        price(lines, **kwargs)
    assert err.value.code == code


RATES = st.one_of(
    st.sampled_from([D("0"), D("0.05"), D("0.0825"), D("0.13"), D("0.19"), D("0.2"), D("0.25")]),
    st.integers(0, 9999).map(lambda n: D(n).scaleb(-4)),
)
LINES = st.lists(
    st.builds(
        LineInput,
        sku_id=st.sampled_from(["A", "B", "C"]),
        quantity=st.integers(1, 50),
        unit_price_minor=st.integers(0, 200_000),
        tax_rate=RATES,
    ),
    min_size=1,
    max_size=8,
)
DISCOUNTS = st.lists(
    st.one_of(
        st.builds(
            Discount,
            kind=st.just("percent"),
            value=st.integers(1, 10_000).map(lambda n: D(n).scaleb(-4)),
            source=st.just("coupon:P"),
        ),
        st.builds(
            Discount,
            kind=st.just("fixed"),
            value=st.integers(1, 500_000),
            source=st.just("manual"),
        ),
    ),
    max_size=3,
)
SHIPPING = st.lists(
    st.builds(
        ShippingRate,
        region=st.sampled_from(["EU", "US"]),
        min_order_minor=st.integers(0, 100_000),
        fee_minor=st.integers(0, 2_000),
    ),
    max_size=4,
).map(lambda rates: [*rates, ShippingRate("*", 0, 999)])


@given(
    LINES,
    st.sampled_from(["inclusive", "exclusive"]),
    DISCOUNTS,
    SHIPPING,
    st.sampled_from(["EU", "US", "JP"]),
)
def test_pricing_identities(lines, tax_mode, discounts, rates, region):
    try:
        order = price(lines, tax_mode=tax_mode, discounts=discounts, rates=rates, region=region)
    except Invalid as err:
        # Only a region whose own rates all need a bigger order may fail.
        assert err.code == "no_shipping_rate"
        assert any(r.region == region for r in rates)
        return
    total_discount = sum(amount for _, amount in order.discounts_applied)
    assert 0 <= total_discount <= order.subtotal_listed_minor
    assert sum(line.discount_listed_minor for line in order.lines) == total_discount
    assert sum(line.total_minor for line in order.lines) + order.shipping_minor == order.total_minor
    assert order.net_minor == order.gross_minor - order.discount_minor
    for field in ("gross_minor", "discount_minor", "net_minor", "tax_minor"):
        assert getattr(order, field) == sum(getattr(line, field) for line in order.lines)
    for line in order.lines:
        assert line.net_minor == line.gross_minor - line.discount_minor
        assert line.total_minor == line.net_minor + line.tax_minor
        assert line.list_minor == line.unit_price_minor * line.quantity
        assert line.discount_listed_minor <= line.list_minor
        if tax_mode == "exclusive":
            assert line.gross_minor == line.list_minor
            assert line.discount_minor == line.discount_listed_minor
        else:
            assert line.total_minor == line.list_minor - line.discount_listed_minor
    amounts = [
        getattr(obj, name)
        for obj in (order, *order.lines)
        for name in obj.__slots__
        if name.endswith("_minor")
    ]
    assert all(type(a) is int and a >= 0 for a in amounts)
