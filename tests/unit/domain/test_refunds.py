"""Refunds by lines: each line gives back its own amounts, exactly, in any number of steps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transactional.domain.errors import Conflict, Invalid
from transactional.domain.refunds import LineAmounts, refund_lines, units_to_cancel

LINE = LineAmounts(quantity=3, quantity_refunded=0, net_minor=1000, tax_minor=80)


def test_one_unit_of_three_gives_back_a_floor_third() -> None:
    split, parts = refund_lines({"a": LINE}, [("a", 1)])
    assert (split.revenue_minor, split.tax_minor, split.shipping_minor) == (333, 26, 0)
    assert parts[0].quantity == 1


def test_shipping_is_added_when_asked() -> None:
    split, parts = refund_lines({"a": LINE}, [], shipping_left_minor=500)
    assert split.total_minor == 500 and parts == []


def test_bad_requests() -> None:
    with pytest.raises(Conflict) as over:
        refund_lines({"a": LINE}, [("a", 4)])
    assert over.value.code == "refund_exceeds_line" and over.value.extra["refundable"] == 3
    with pytest.raises(Invalid) as twice:
        refund_lines({"a": LINE}, [("a", 1), ("a", 1)])
    assert twice.value.code == "duplicate_line"
    with pytest.raises(Invalid) as unknown:
        refund_lines({"a": LINE}, [("b", 1)])
    assert unknown.value.code == "order_line_not_found"
    with pytest.raises(Invalid) as empty:
        refund_lines({"a": LINE}, [])
    assert empty.value.code == "empty_refund"


@given(
    quantity=st.integers(1, 50),
    net=st.integers(0, 10**7),
    tax=st.integers(0, 10**6),
    data=st.data(),
)
def test_refunding_every_unit_in_steps_gives_back_the_line_exactly(
    quantity: int, net: int, tax: int, data: st.DataObject
) -> None:
    refunded, revenue, taxes = 0, 0, 0
    while refunded < quantity:
        step = data.draw(st.integers(1, quantity - refunded))
        line = LineAmounts(quantity, refunded, net, tax)
        if net == 0 and tax == 0:
            with pytest.raises(Invalid):
                refund_lines({"a": line}, [("a", step)])
            return
        try:
            split, _ = refund_lines({"a": line}, [("a", step)])
        except Invalid as err:  # a step worth 0 after rounding (tiny amounts) is refused
            assert err.code == "empty_refund"
        else:
            revenue += split.revenue_minor
            taxes += split.tax_minor
        refunded += step
    # The parts telescope: the refunded steps add up to the line, to the cent.
    assert (revenue, taxes) == (net, tax)


def test_units_refunded_before_they_ship_are_cancelled_first() -> None:
    assert units_to_cancel(quantity=5, shipped=2, cancelled=0, refunded_now=2) == 2
    assert units_to_cancel(quantity=5, shipped=2, cancelled=2, refunded_now=2) == 1
    assert units_to_cancel(quantity=5, shipped=5, cancelled=0, refunded_now=1) == 0
