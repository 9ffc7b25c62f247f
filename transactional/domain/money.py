"""Money arithmetic: currency exponents, exact half-up rounding and allocation.

Amounts are always ``int`` minor units of the store's currency (cents, or whole
yen for JPY); rates are ``decimal.Decimal``. Nothing here ever touches a float,
so every result is exact and reproducible to the unit.
"""

from __future__ import annotations

from decimal import Decimal

from transactional.domain.errors import Invalid

# ISO 4217 minor-unit exponents. Only currencies a store may be created in need
# to be here; an unlisted code is refused rather than guessed at.
CURRENCY_EXPONENTS: dict[str, int] = {
    # no minor unit
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "PYG": 0,
    "UGX": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # two decimals
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CNY": 2,
    "HKD": 2,
    "TWD": 2,
    "SGD": 2,
    "AUD": 2,
    "NZD": 2,
    "CAD": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "INR": 2,
    "IDR": 2,
    "MYR": 2,
    "PHP": 2,
    "THB": 2,
    "BRL": 2,
    "MXN": 2,
    "ARS": 2,
    "COP": 2,
    "ZAR": 2,
    "TRY": 2,
    "ILS": 2,
    "AED": 2,
    "SAR": 2,
    "QAR": 2,
    "EGP": 2,
    # three decimals
    "BHD": 3,
    "KWD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
    "IQD": 3,
    "LYD": 3,
}


def currency_exponent(code: str) -> int:
    """The number of minor-unit digits of an ISO 4217 currency code."""
    exponent = CURRENCY_EXPONENTS.get(code) if isinstance(code, str) else None
    if exponent is None:
        raise Invalid(
            f"unknown currency {code!r}: expected an upper-case ISO 4217 code such as USD, EUR or JPY",
            code="unknown_currency",
        )
    return exponent


def div_round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to an int, halves away from zero."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def rate_ratio(rate: Decimal | int) -> tuple[int, int]:
    """A finite rate as an exact ``(numerator, denominator)`` pair, denominator > 0."""
    # bool is an int subclass and float is inexact: both are caller bugs.
    if isinstance(rate, bool) or not isinstance(rate, Decimal | int):
        raise TypeError(f"rate must be a Decimal or int, not {type(rate).__name__}")
    if isinstance(rate, Decimal) and not rate.is_finite():
        raise ValueError(f"rate must be finite, got {rate}")
    return rate.as_integer_ratio()


def mul_rate(amount: int, rate: Decimal | int) -> int:
    """``amount × rate`` rounded to an int, halves away from zero."""
    # Integer math rather than Decimal.quantize: a Decimal context has finite
    # precision and would silently round large products before we do.
    numerator, denominator = rate_ratio(rate)
    return div_round_half_up(amount * numerator, denominator)


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` over ``weights`` by largest remainder; shares sum to ``total``.

    Remainder ties go to the lower index. When every weight is 0 the total is
    spread evenly, earlier indexes taking the extra units.
    """
    if total < 0:
        raise ValueError("total must be >= 0")
    if any(w < 0 for w in weights):
        raise ValueError("weights must be >= 0")
    if not weights:
        if total:
            raise ValueError("cannot allocate a positive total over no weights")
        return []
    weight_sum = sum(weights)
    if weight_sum == 0:
        base, extra = divmod(total, len(weights))
        return [base + (1 if i < extra else 0) for i in range(len(weights))]
    shares: list[int] = []
    remainders: list[int] = []
    for w in weights:
        share, remainder = divmod(total * w, weight_sum)
        shares.append(share)
        remainders.append(remainder)
    leftover = total - sum(shares)
    # Leftover < number of positive remainders, so a share whose pro-rata value
    # is already whole never gets an extra unit: each share <= its ceiling.
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in by_remainder[:leftover]:
        shares[i] += 1
    return shares
