"""Order pricing: lines, discounts, tax and shipping, exact to the minor unit.

Rules (copied into DECISIONLOG.md):

- All amounts are int minor units; rates are Decimal; every rounding is half
  up (half away from zero) and exact (integer arithmetic on the rate's ratio).
- ``list = unit_price × quantity``, the catalogue price as listed (tax included
  when the store is tax-inclusive). ``subtotal_listed = Σ list``.
- Order discounts apply in the given order to the listed subtotal. A percent
  discount is ``round_half_up(subtotal_listed × pct)`` (of the listed subtotal,
  not compounding); a fixed discount is its amount. Each is capped so the sum
  of discounts never exceeds the listed subtotal; ``discounts_applied`` records
  (source, capped listed amount) per discount.
- The total listed discount is spread over lines by largest remainder with the
  lines' list amounts as weights (ties to the earlier line):
  ``discount_listed`` per line.
- Tax is computed and rounded per line.
  Exclusive: ``gross = list``, ``discount = discount_listed``,
  ``net = gross − discount``, ``tax = round_half_up(net × rate)``,
  ``total = net + tax``.
  Inclusive: ``paid = list − discount_listed``,
  ``tax = round_half_up(paid × rate / (1 + rate))``, ``net = paid − tax``,
  ``gross = list − round_half_up(list × rate / (1 + rate))``,
  ``discount = gross − net``, ``total = paid``.
  In both modes gross, discount and net exclude tax, and per line
  ``net = gross − discount`` and ``total = net + tax``.
- Shipping: the candidate rates are those for the ship-to region if any exist
  for it, else the ``"*"`` fallback rates. Among candidates with
  ``min_order <= subtotal_listed − total listed discount`` the one with the
  greatest ``min_order`` wins (ties: the lower fee); none → ``no_shipping_rate``.
  Shipping is not taxed.
- Order gross/discount/net/tax are sums over lines;
  ``total = Σ line totals + shipping``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from transactional.domain.errors import Invalid
from transactional.domain.money import allocate, div_round_half_up, mul_rate
from transactional.domain.words import TAX_MODES, require_word


@dataclass(frozen=True, slots=True)
class LineInput:
    sku_id: str
    quantity: int
    unit_price_minor: int
    tax_rate: Decimal


@dataclass(frozen=True, slots=True)
class Discount:
    """An order-level discount: percent is a Decimal fraction, fixed is minor units."""

    kind: Literal["percent", "fixed"]
    value: Decimal | int
    source: str


@dataclass(frozen=True, slots=True)
class ShippingRate:
    region: str
    min_order_minor: int
    fee_minor: int


@dataclass(frozen=True, slots=True)
class PricedLine:
    sku_id: str
    quantity: int
    unit_price_minor: int
    list_minor: int
    gross_minor: int
    discount_minor: int
    net_minor: int
    tax_minor: int
    total_minor: int
    discount_listed_minor: int


@dataclass(frozen=True, slots=True)
class PricedOrder:
    lines: tuple[PricedLine, ...]
    subtotal_listed_minor: int
    gross_minor: int
    discount_minor: int
    net_minor: int
    tax_minor: int
    shipping_minor: int
    total_minor: int
    discounts_applied: tuple[tuple[str, int], ...]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def validate_discount(discount: Discount) -> Discount:
    """Check a discount's kind and value; return it unchanged."""
    if discount.kind == "percent":
        value = discount.value
        ok = (_is_decimal(value) or _is_int(value)) and 0 < value <= 1
        if not ok:
            raise Invalid(
                f"percent discount must be a Decimal fraction in (0, 1], got {value!r}",
                code="invalid_discount",
            )
    elif discount.kind == "fixed":
        if not (_is_int(discount.value) and discount.value > 0):
            raise Invalid(
                f"fixed discount must be a positive int of minor units, got {discount.value!r}",
                code="invalid_discount",
            )
    else:
        raise Invalid(
            f"discount kind must be percent or fixed, got {discount.kind!r}",
            code="invalid_discount",
        )
    return discount


def _validate_line(line: LineInput) -> None:
    if not (_is_int(line.quantity) and line.quantity >= 1):
        raise Invalid(
            f"quantity of {line.sku_id} must be an int >= 1, got {line.quantity!r}",
            code="invalid_quantity",
        )
    if not (_is_int(line.unit_price_minor) and line.unit_price_minor >= 0):
        raise Invalid(
            f"unit price of {line.sku_id} must be an int >= 0, got {line.unit_price_minor!r}",
            code="invalid_price",
        )
    rate = line.tax_rate
    if not ((_is_decimal(rate) or _is_int(rate)) and 0 <= rate < 1):
        raise Invalid(
            f"tax rate of {line.sku_id} must be a Decimal in [0, 1), got {rate!r}",
            code="invalid_tax_rate",
        )


def _included_tax(amount: int, rate: Decimal) -> int:
    """The tax contained in a tax-inclusive amount: amount × rate / (1 + rate)."""
    numerator, denominator = rate.as_integer_ratio()
    return div_round_half_up(amount * numerator, denominator + numerator)


def _shipping_fee(rates: Sequence[ShippingRate], region: str, order_value: int) -> int:
    for rate in rates:
        if not (_is_int(rate.min_order_minor) and rate.min_order_minor >= 0) or not (
            _is_int(rate.fee_minor) and rate.fee_minor >= 0
        ):
            raise Invalid(f"invalid shipping rate {rate!r}", code="invalid_shipping_rate")
    candidates = [r for r in rates if r.region == region] or [r for r in rates if r.region == "*"]
    eligible = [r for r in candidates if r.min_order_minor <= order_value]
    if not eligible:
        raise Invalid(
            f"no shipping rate applies to region {region!r} for an order of {order_value}",
            code="no_shipping_rate",
            region=region,
        )
    return min(eligible, key=lambda r: (-r.min_order_minor, r.fee_minor)).fee_minor


def _price_line(line: LineInput, discount_listed: int, inclusive: bool) -> PricedLine:
    list_minor = line.unit_price_minor * line.quantity
    if inclusive:
        paid = list_minor - discount_listed
        tax = _included_tax(paid, line.tax_rate)
        net = paid - tax
        gross = list_minor - _included_tax(list_minor, line.tax_rate)
        total = paid
    else:
        gross = list_minor
        net = gross - discount_listed
        tax = mul_rate(net, line.tax_rate)
        total = net + tax
    return PricedLine(
        sku_id=line.sku_id,
        quantity=line.quantity,
        unit_price_minor=line.unit_price_minor,
        list_minor=list_minor,
        gross_minor=gross,
        discount_minor=gross - net,
        net_minor=net,
        tax_minor=tax,
        total_minor=total,
        discount_listed_minor=discount_listed,
    )


def price_order(
    lines: Sequence[LineInput],
    *,
    tax_mode: str,
    discounts: Sequence[Discount],
    shipping_rates: Sequence[ShippingRate],
    region: str,
) -> PricedOrder:
    """Price an order's lines, discounts, tax and shipping (rules in the module docstring)."""
    require_word("tax_mode", tax_mode, TAX_MODES)
    if not lines:
        raise Invalid("an order needs at least one line", code="empty_order")
    for line in lines:
        _validate_line(line)
    for discount in discounts:
        validate_discount(discount)

    list_amounts = [line.unit_price_minor * line.quantity for line in lines]
    subtotal_listed = sum(list_amounts)

    applied: list[tuple[str, int]] = []
    remaining = subtotal_listed
    for discount in discounts:
        if discount.kind == "percent":
            amount = mul_rate(subtotal_listed, discount.value)
        else:
            amount = int(discount.value)
        amount = min(amount, remaining)
        remaining -= amount
        applied.append((discount.source, amount))
    discount_listed_total = subtotal_listed - remaining

    shipping = _shipping_fee(shipping_rates, region, subtotal_listed - discount_listed_total)

    inclusive = tax_mode == "inclusive"
    shares = allocate(discount_listed_total, list_amounts)
    priced = tuple(_price_line(line, share, inclusive) for line, share in zip(lines, shares, strict=True))
    return PricedOrder(
        lines=priced,
        subtotal_listed_minor=subtotal_listed,
        gross_minor=sum(p.gross_minor for p in priced),
        discount_minor=sum(p.discount_minor for p in priced),
        net_minor=sum(p.net_minor for p in priced),
        tax_minor=sum(p.tax_minor for p in priced),
        shipping_minor=shipping,
        total_minor=sum(p.total_minor for p in priced) + shipping,
        discounts_applied=tuple(applied),
    )
