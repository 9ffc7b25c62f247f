"""The order state machine (ORD-2): statuses, legal transitions, shipment status.

Every status change goes through ``transition`` so that the status history can
only ever hold legal steps, and replaying it from ``pending_payment`` always
reproduces the current status.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType

from transactional.domain.errors import IllegalTransition, Invalid


class OrderStatus(StrEnum):
    pending_payment = "pending_payment"
    paid = "paid"
    picking = "picking"
    partially_shipped = "partially_shipped"
    shipped = "shipped"
    delivered = "delivered"
    completed = "completed"
    cancelled = "cancelled"
    expired = "expired"


_S = OrderStatus

INITIAL_STATUS = _S.pending_payment

# A delivered order completes (closes) this long after its last parcel arrived.
RETURN_WINDOW = timedelta(days=30)

TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        _S.pending_payment: frozenset({_S.paid, _S.cancelled, _S.expired}),
        _S.paid: frozenset({_S.picking, _S.cancelled}),
        _S.picking: frozenset({_S.partially_shipped, _S.shipped, _S.cancelled}),
        # Self-loop: each further partial shipment is recorded as a step in the history.
        _S.partially_shipped: frozenset({_S.partially_shipped, _S.shipped}),
        _S.shipped: frozenset({_S.delivered}),
        _S.delivered: frozenset({_S.completed}),
        _S.completed: frozenset(),
        _S.cancelled: frozenset(),
        _S.expired: frozenset(),
    }
)

TERMINAL: frozenset[OrderStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# Lines, prices and addresses are frozen once money has been taken.
MODIFIABLE: frozenset[OrderStatus] = frozenset({_S.pending_payment})
CANCELLABLE: frozenset[OrderStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if _S.cancelled in nxt)


def parse_status(value: str) -> OrderStatus:
    """``value`` as an OrderStatus, or Invalid ``invalid_order_status``."""
    try:
        return OrderStatus(value)
    except ValueError:
        raise Invalid(
            f"unknown order status {value!r}: expected one of {', '.join(OrderStatus)}",
            code="invalid_order_status",
        ) from None


def transition(current: str, target: str) -> OrderStatus:
    """The new status if ``current → target`` is legal, else IllegalTransition."""
    src, dst = parse_status(current), parse_status(target)
    if dst not in TRANSITIONS[src]:
        raise IllegalTransition(f"cannot move order from {src} to {dst}", current=str(src), target=str(dst))
    return dst


def is_terminal(status: str) -> bool:
    """True when no transition leaves ``status``."""
    return parse_status(status) in TERMINAL


def can_modify(status: str) -> bool:
    """Lines may change only before payment."""
    return parse_status(status) in MODIFIABLE


def can_cancel(status: str) -> bool:
    """True while the order has not started shipping and is not terminal."""
    return parse_status(status) in CANCELLABLE


def shipment_status(ordered: Mapping[str, int], shipped: Mapping[str, int]) -> OrderStatus:
    """``shipped`` if every line is fully shipped, else ``partially_shipped``.

    ``ordered`` and ``shipped`` map line ids to ordered and cumulative shipped
    quantities; a line absent from ``shipped`` has shipped nothing.
    """
    for line_id, qty in shipped.items():
        if qty < 0:
            raise Invalid(f"shipped quantity of line {line_id} is negative", code="invalid_quantity")
        if qty > ordered.get(line_id, 0):
            raise Invalid(
                f"line {line_id}: shipped {qty} of {ordered.get(line_id, 0)} ordered",
                code="over_shipment",
                line_id=line_id,
            )
    if not any(shipped.values()):
        raise Invalid("a shipment must contain at least one unit", code="nothing_shipped")
    if all(shipped.get(line_id, 0) == qty for line_id, qty in ordered.items()):
        return OrderStatus.shipped
    return OrderStatus.partially_shipped
