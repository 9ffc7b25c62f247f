"""Carriers (WMS-3, WMS-4): service levels, quotes, choosing a service, tracking.

Rules (copied into DECISIONLOG.md):

- A carrier offers service levels. Each has a handling promise
  (``handling_hours``: the warehouse dispatches within that many hours of the
  order being placed, counted in calendar hours since warehouses work every
  day), transit days per ship-to region with a ``"*"`` fallback (no entry
  and no fallback: the service does not serve the region) and an optional
  weight limit.
- Rate rule: ``cost = base_minor + per_kg_minor × ceil(weight_grams / 1000)``,
  in the store's currency; a parcel is charged for at least 1 kg. This is what
  the store pays the carrier (its shipping cost), not the customer's fee.
- Promise: ``promised_dispatch_by = placed_at + handling_hours``. Transit days
  are business days (Monday to Friday, minus any holidays given), counted
  from the store-local date of ``promised_dispatch_by``: a parcel due out on a
  Friday with 1 transit day is promised for Monday; 0 transit days means the
  dispatch date itself. ``placed_at`` must be timezone-aware; dates are taken
  in ``tz`` (the store's timezone) when given, else in ``placed_at``'s own.
- Choice: among quotes whose promised date is on or before ``deliver_by``
  (every quote, when there is no deadline) the cheapest wins; if none meets
  it, the fastest (earliest promised date) wins. Ties go to the earlier
  promised date (or the cheaper, when choosing the fastest), then the earlier
  dispatch, then carrier and service code, so the choice never depends on the
  order of the quotes.
- Tracking statuses move forward along label_created → picked_up →
  in_transit → out_for_delivery → delivered; steps may be skipped, since
  carriers miss scans. Any status but delivered may go to exception, and an
  exception recovers to in_transit, out_for_delivery or delivered. Delivered
  is terminal. The same status again is a duplicate and changes nothing (a
  carrier's webhook retry). Anything else, such as a step backwards, is
  ``illegal_tracking_transition``.
- Order status from its shipments (each shipment has left the warehouse,
  whatever its tracking status): some units still unshipped →
  partially_shipped; all shipped → shipped; all shipped and every shipment
  delivered → delivered. Tracking never moves an order backwards, and never
  moves an order that is not in fulfilment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from types import MappingProxyType

from transactional.domain.errors import IllegalTransition, Invalid
from transactional.domain.orders import OrderStatus, parse_status, shipment_status
from transactional.domain.orders import transition as order_transition

FALLBACK_REGION = "*"
MAX_HANDLING_HOURS = 24 * 60
MAX_TRANSIT_DAYS = 90

_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_code(kind: str, value: str) -> None:
    if not (isinstance(value, str) and _CODE.fullmatch(value)):
        raise Invalid(
            f"{kind} code {value!r} must be 2 to 32 lower-case letters, digits or '_', starting with a letter",
            code=f"invalid_{kind}_code",
        )


def _require_name(kind: str, value: str) -> None:
    if not (isinstance(value, str) and value.strip() and len(value) <= 200):
        raise Invalid(f"{kind} name must be 1 to 200 characters", code=f"invalid_{kind}_name")


@dataclass(frozen=True, slots=True)
class Carrier:
    code: str
    name: str

    def __post_init__(self) -> None:
        _require_code("carrier", self.code)
        _require_name("carrier", self.name)


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """One service of a carrier (e.g. ups / ground): promise and rate rule."""

    carrier_code: str
    code: str
    name: str
    handling_hours: int
    transit_days: Mapping[str, int]
    base_minor: int
    per_kg_minor: int
    max_weight_grams: int | None = None

    def __post_init__(self) -> None:
        _require_code("carrier", self.carrier_code)
        _require_code("service", self.code)
        _require_name("service", self.name)
        if not (_is_int(self.handling_hours) and 0 <= self.handling_hours <= MAX_HANDLING_HOURS):
            raise Invalid(
                f"handling hours must be an int in [0, {MAX_HANDLING_HOURS}], got {self.handling_hours!r}",
                code="invalid_handling_hours",
            )
        if not isinstance(self.transit_days, Mapping) or not self.transit_days:
            raise Invalid("transit days need at least one region (or '*')", code="invalid_transit_days")
        for region, days in self.transit_days.items():
            if not (isinstance(region, str) and region.strip()):
                raise Invalid("transit days: region must be a non-empty string", code="invalid_transit_days")
            if not (_is_int(days) and 0 <= days <= MAX_TRANSIT_DAYS):
                raise Invalid(
                    f"transit days for {region} must be an int in [0, {MAX_TRANSIT_DAYS}], got {days!r}",
                    code="invalid_transit_days",
                )
        for name in ("base_minor", "per_kg_minor"):
            value = getattr(self, name)
            if not (_is_int(value) and value >= 0):
                raise Invalid(f"{name} must be an int >= 0, got {value!r}", code="invalid_rate")
        if self.max_weight_grams is not None and not (
            _is_int(self.max_weight_grams) and self.max_weight_grams > 0
        ):
            raise Invalid("max weight must be a positive int of grams", code="invalid_weight_limit")
        # A private read-only copy: a caller mutating its dict later must not change a promise.
        object.__setattr__(self, "transit_days", MappingProxyType(dict(self.transit_days)))

    def serves(self, region: str) -> bool:
        return region in self.transit_days or FALLBACK_REGION in self.transit_days

    def transit_days_for(self, region: str) -> int:
        """Business days in transit to ``region``, or Invalid ``region_not_served``."""
        if region in self.transit_days:
            return self.transit_days[region]
        if FALLBACK_REGION in self.transit_days:
            return self.transit_days[FALLBACK_REGION]
        raise Invalid(
            f"{self.carrier_code}/{self.code} does not deliver to region {region!r}",
            code="region_not_served",
            region=region,
        )

    def cost_minor(self, weight_grams: int) -> int:
        """What the store pays for a parcel of ``weight_grams``: base + per kg, whole kg rounded up."""
        if not (_is_int(weight_grams) and weight_grams > 0):
            raise Invalid(
                f"weight must be a positive int of grams, got {weight_grams!r}", code="invalid_weight"
            )
        if self.max_weight_grams is not None and weight_grams > self.max_weight_grams:
            raise Invalid(
                f"{self.carrier_code}/{self.code} takes parcels up to {self.max_weight_grams} g",
                code="over_weight_limit",
                max_weight_grams=self.max_weight_grams,
            )
        chargeable_kg = -(-weight_grams // 1000)
        return self.base_minor + self.per_kg_minor * chargeable_kg


@dataclass(frozen=True, slots=True)
class Quote:
    carrier_code: str
    service_code: str
    region: str
    weight_grams: int
    cost_minor: int
    transit_days: int
    promised_dispatch_by: datetime
    promised_delivery_date: date


def add_business_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """The date ``days`` business days (Mon-Fri, not in ``holidays``) after ``start``; ``start`` if 0."""
    if not (_is_int(days) and days >= 0):
        raise ValueError(f"days must be an int >= 0, got {days!r}")
    closed = frozenset(holidays)
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in closed:
            remaining -= 1
    return current


def quote(
    service: ServiceLevel,
    region: str,
    weight_grams: int,
    placed_at: datetime,
    *,
    tz: tzinfo | None = None,
    holidays: Iterable[date] = (),
) -> Quote:
    """Cost and promise of sending a parcel with ``service`` for an order placed at ``placed_at``."""
    if placed_at.tzinfo is None or placed_at.utcoffset() is None:
        # A naive instant has no store-local date; refuse it rather than guess.
        raise ValueError("placed_at must be timezone-aware")
    transit = service.transit_days_for(region)
    cost = service.cost_minor(weight_grams)
    dispatch_by = placed_at + timedelta(hours=service.handling_hours)
    local_dispatch = dispatch_by.astimezone(tz) if tz is not None else dispatch_by
    return Quote(
        carrier_code=service.carrier_code,
        service_code=service.code,
        region=region,
        weight_grams=weight_grams,
        cost_minor=cost,
        transit_days=transit,
        promised_dispatch_by=dispatch_by,
        promised_delivery_date=add_business_days(local_dispatch.date(), transit, holidays),
    )


def quote_all(
    services: Iterable[ServiceLevel],
    region: str,
    weight_grams: int,
    placed_at: datetime,
    *,
    tz: tzinfo | None = None,
    holidays: Iterable[date] = (),
) -> list[Quote]:
    """Quotes from every service that serves ``region`` and takes the weight (others are skipped)."""
    closed = tuple(holidays)
    return [
        quote(s, region, weight_grams, placed_at, tz=tz, holidays=closed)
        for s in services
        if s.serves(region) and (s.max_weight_grams is None or weight_grams <= s.max_weight_grams)
    ]


def choose_service(quotes: Sequence[Quote], *, deliver_by: date | None = None) -> Quote:
    """The cheapest quote that meets ``deliver_by``, else the fastest; see the module rules."""
    if not quotes:
        raise Invalid("no carrier service can take this parcel", code="no_carrier_service")
    meeting = [q for q in quotes if deliver_by is None or q.promised_delivery_date <= deliver_by]
    if meeting:
        return min(
            meeting,
            key=lambda q: (
                q.cost_minor,
                q.promised_delivery_date,
                q.promised_dispatch_by,
                q.carrier_code,
                q.service_code,
            ),
        )
    return min(
        quotes,
        key=lambda q: (
            q.promised_delivery_date,
            q.cost_minor,
            q.promised_dispatch_by,
            q.carrier_code,
            q.service_code,
        ),
    )


class TrackingStatus(StrEnum):
    label_created = "label_created"
    picked_up = "picked_up"
    in_transit = "in_transit"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    exception = "exception"


_T = TrackingStatus

INITIAL_TRACKING_STATUS = _T.label_created

# Proper moves only; the same status again is handled as a duplicate.
TRACKING_TRANSITIONS: Mapping[TrackingStatus, frozenset[TrackingStatus]] = MappingProxyType(
    {
        _T.label_created: frozenset(
            {_T.picked_up, _T.in_transit, _T.out_for_delivery, _T.delivered, _T.exception}
        ),
        _T.picked_up: frozenset({_T.in_transit, _T.out_for_delivery, _T.delivered, _T.exception}),
        _T.in_transit: frozenset({_T.out_for_delivery, _T.delivered, _T.exception}),
        _T.out_for_delivery: frozenset({_T.delivered, _T.exception}),
        # Without the history we can't tell where the exception happened, so it
        # may only recover to a status from which going backwards is impossible.
        _T.exception: frozenset({_T.in_transit, _T.out_for_delivery, _T.delivered}),
        _T.delivered: frozenset(),
    }
)


def parse_tracking_status(value: str) -> TrackingStatus:
    """``value`` as a TrackingStatus, or Invalid ``invalid_tracking_status``."""
    try:
        return TrackingStatus(value)
    except ValueError:
        raise Invalid(
            f"unknown tracking status {value!r}: expected one of {', '.join(TrackingStatus)}",
            code="invalid_tracking_status",
        ) from None


def apply_tracking_event(current: str, event: str) -> TrackingStatus:
    """The shipment's status after a tracking event with status ``event``.

    A duplicate returns ``current`` unchanged (compare to detect it); an
    illegal step raises IllegalTransition ``illegal_tracking_transition``.
    """
    src, dst = parse_tracking_status(current), parse_tracking_status(event)
    if dst == src:
        return src
    if dst not in TRACKING_TRANSITIONS[src]:
        raise IllegalTransition(
            f"cannot move shipment tracking from {src} to {dst}",
            code="illegal_tracking_transition",
            current=str(src),
            target=str(dst),
        )
    return dst


@dataclass(frozen=True, slots=True)
class ShipmentState:
    """A dispatched shipment: the order lines and quantities it carries, and its tracking status."""

    lines: Mapping[str, int]
    status: str = TrackingStatus.label_created


# How far through fulfilment each order status is; tracking only moves up.
_FULFILMENT_RANK: Mapping[OrderStatus, int] = MappingProxyType(
    {
        OrderStatus.picking: 0,
        OrderStatus.partially_shipped: 1,
        OrderStatus.shipped: 2,
        OrderStatus.delivered: 3,
        OrderStatus.completed: 4,
    }
)


def order_status_from_shipments(
    ordered: Mapping[str, int], shipments: Sequence[ShipmentState]
) -> OrderStatus:
    """partially_shipped, shipped or delivered, from an order's lines and all its shipments.

    ``ordered`` maps line ids to ordered quantities (as in
    ``orders.shipment_status``, which also checks that no line is over-shipped).
    """
    shipped: dict[str, int] = {}
    for shipment in shipments:
        for line_id, qty in shipment.lines.items():
            shipped[line_id] = shipped.get(line_id, 0) + qty
    status = shipment_status(ordered, shipped)
    if status is OrderStatus.shipped and all(
        parse_tracking_status(s.status) is TrackingStatus.delivered for s in shipments
    ):
        return OrderStatus.delivered
    return status


def order_status_after_tracking(
    current: str, ordered: Mapping[str, int], shipments: Sequence[ShipmentState]
) -> OrderStatus | None:
    """The order's new status after a tracking event, or None when it stays as it is.

    Raises IllegalTransition ``illegal_order_state`` for an order that is not in
    fulfilment (awaiting payment, paid, cancelled, expired), and the order
    machine's ``illegal_transition`` for a step it does not allow.
    """
    src = parse_status(current)
    if src not in _FULFILMENT_RANK:
        raise IllegalTransition(
            f"an order in status {src} has no shipments to track",
            code="illegal_order_state",
            current=str(src),
        )
    target = order_status_from_shipments(ordered, shipments)
    if _FULFILMENT_RANK[target] <= _FULFILMENT_RANK[src]:
        return None
    return order_transition(src, target)
