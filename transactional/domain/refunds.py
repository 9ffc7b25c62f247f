"""Refunds by lines (PAY-4): what a refund of some units of some order lines is worth.

Rules (copied into DECISIONLOG.md §7):

- A refund by lines names order lines and unit counts, and optionally the
  shipping fee. Each line gives back its own amounts, net revenue and tax
  apart: for ``q`` units of a line of which ``r`` were refunded before, the
  revenue part is ``floor(net × (r + q) / n) − floor(net × r / n)`` for a line
  of ``n`` units (the same for tax), so refunding every unit, in any number
  of steps, gives back exactly the line's net and tax.
- The shipping part is what of the order's shipping fee is not yet refunded.
- A line cannot give back more units than it has left (counting refunds
  still with the provider): ``refund_exceeds_line`` (409).
- Units refunded before they shipped are cancelled: their reservation is
  released and they will never ship. A refund by lines of units that did
  ship is a return (analytics counts it so until ORD-5's returns land).
  Unshipped units are cancelled first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from transactional.domain.errors import Conflict, Invalid
from transactional.domain.ledger import Split


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """An order line as a refund sees it."""

    quantity: int
    quantity_refunded: int  # including units in refunds not yet settled
    net_minor: int
    tax_minor: int


@dataclass(frozen=True, slots=True)
class LineRefund:
    order_line_id: str
    quantity: int
    revenue_minor: int
    tax_minor: int


def _part(amount: int, before: int, after: int, units: int) -> int:
    return amount * after // units - amount * before // units


def refund_lines(
    lines: Mapping[str, LineAmounts],
    wanted: Sequence[tuple[str, int]],
    *,
    shipping_left_minor: int = 0,
) -> tuple[Split, list[LineRefund]]:
    """The split (revenue, tax, shipping) and per-line parts of refunding ``wanted`` units.

    ``shipping_left_minor`` is the shipping to give back (0 when not asked).
    Raises Invalid for unknown or repeated lines and bad quantities, Conflict
    ``refund_exceeds_line`` for more units than a line has left.
    """
    seen: set[str] = set()
    parts: list[LineRefund] = []
    for line_id, qty in wanted:
        if line_id in seen:
            raise Invalid(f"line {line_id} is listed twice", code="duplicate_line")
        seen.add(line_id)
        if line_id not in lines:
            raise Invalid(f"the order has no active line {line_id}", code="order_line_not_found")
        if not (isinstance(qty, int) and not isinstance(qty, bool) and qty >= 1):
            raise Invalid("a refunded quantity must be an int >= 1", code="invalid_quantity")
        line = lines[line_id]
        left = line.quantity - line.quantity_refunded
        if qty > left:
            raise Conflict(
                f"line {line_id} has {left} unit(s) left to refund, {qty} asked",
                code="refund_exceeds_line",
                order_line_id=line_id,
                refundable=left,
            )
        before, after = line.quantity_refunded, line.quantity_refunded + qty
        parts.append(
            LineRefund(
                order_line_id=line_id,
                quantity=qty,
                revenue_minor=_part(line.net_minor, before, after, line.quantity),
                tax_minor=_part(line.tax_minor, before, after, line.quantity),
            )
        )
    if shipping_left_minor < 0:
        raise ValueError("shipping left to refund cannot be negative")
    split = Split(
        sum(p.revenue_minor for p in parts),
        sum(p.tax_minor for p in parts),
        shipping_left_minor,
    )
    if split.total_minor == 0:
        raise Invalid("the refund names nothing worth refunding", code="empty_refund")
    return split, parts


def units_to_cancel(quantity: int, shipped: int, cancelled: int, refunded_now: int) -> int:
    """Of ``refunded_now`` units refunded, how many were still unshipped (and are cancelled)."""
    unshipped = quantity - shipped - cancelled
    return max(0, min(refunded_now, unshipped))
