from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transactional.domain.errors import Invalid
from transactional.domain.money import (
    CURRENCY_EXPONENTS,
    allocate,
    currency_exponent,
    div_round_half_up,
    mul_rate,
)
from transactional.domain.words import PAYMENT_METHODS, SALES_CHANNELS, require_word


def test_currency_exponents():
    assert currency_exponent("USD") == 2
    assert currency_exponent("JPY") == 0
    assert currency_exponent("KRW") == 0
    assert currency_exponent("BHD") == 3
    assert all(len(code) == 3 and code.isupper() for code in CURRENCY_EXPONENTS)


@pytest.mark.parametrize("code", ["usd", "XYZ", "", "US", None, 840])
def test_unknown_currency(code):
    with pytest.raises(Invalid) as err:
        currency_exponent(code)
    assert err.value.code == "unknown_currency"


@pytest.mark.parametrize(
    ("n", "d", "expected"),
    [(5, 2, 3), (-5, 2, -3), (4, 2, 2), (7, 3, 2), (-7, 3, -2), (8, 3, 3), (0, 7, 0), (1, 3, 0)],
)
def test_div_round_half_up(n, d, expected):
    assert div_round_half_up(n, d) == expected


def test_div_round_half_up_rejects_bad_denominator():
    with pytest.raises(ValueError):
        div_round_half_up(1, 0)
    with pytest.raises(ValueError):
        div_round_half_up(1, -2)


@given(st.integers(-(10**30), 10**30), st.integers(1, 10**12))
def test_div_round_half_up_matches_exact_fraction(n, d):
    exact = Fraction(n, d)
    result = div_round_half_up(n, d)
    assert abs(exact - result) <= Fraction(1, 2)
    if abs(exact - result) == Fraction(1, 2):
        assert abs(result) > abs(exact)  # halves go away from zero


def test_mul_rate():
    assert mul_rate(1000, Decimal("0.0825")) == 83  # 82.5 -> 83
    assert mul_rate(3598, Decimal("0.0825")) == 297  # 296.835
    assert mul_rate(1005, Decimal("0.1")) == 101  # JPY: 100.5 yen -> 101 yen
    assert mul_rate(-1000, Decimal("0.0825")) == -83
    assert mul_rate(10**40, Decimal("0.5")) == 5 * 10**39  # no Decimal-context truncation
    assert mul_rate(7, 2) == 14


def test_mul_rate_rejects_float():
    with pytest.raises(TypeError):
        mul_rate(100, 0.1)


def test_allocate_examples():
    assert allocate(450, [3998, 500]) == [400, 50]
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]  # tie: lower index first
    assert allocate(100, [0, 0, 0]) == [34, 33, 33]
    assert allocate(5, [0, 3, 0]) == [0, 5, 0]
    assert allocate(0, [5, 7]) == [0, 0]
    assert allocate(0, []) == []


def test_allocate_rejects():
    with pytest.raises(ValueError):
        allocate(1, [])
    with pytest.raises(ValueError):
        allocate(-1, [1])
    with pytest.raises(ValueError):
        allocate(1, [1, -1])


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_allocate_properties(total, weights):
    shares = allocate(total, weights)
    assert len(shares) == len(weights)
    assert sum(shares) == total
    weight_sum = sum(weights)
    for share, w in zip(shares, weights, strict=True):
        assert share >= 0
        exact = Fraction(total * w, weight_sum) if weight_sum else Fraction(total, len(weights))
        assert abs(share - exact) < 1
        assert share <= -(-exact.numerator // exact.denominator)  # <= ceiling


def test_require_word():
    assert require_word("sales_channel", "web", SALES_CHANNELS) == "web"
    with pytest.raises(Invalid) as err:
        require_word("payment_method", "paypal", PAYMENT_METHODS)
    assert err.value.code == "invalid_payment_method"
    assert "alipay, bank_transfer, card, store_credit, wechat_pay" in str(err.value)
