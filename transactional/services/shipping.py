"""Carriers, dispatch and tracking (ORD-4, WMS-3 carrier side, WMS-4): the writer-side services.

Rules decided here (also in DECISIONLOG.md §7; the carrier rules themselves
live in domain/carriers.py):

- A dispatch is one parcel from one warehouse: the units it carries leave the
  warehouse's on-hand and reservation in the same commit, and it records the
  carrier, service level, tracking number, weight (Σ SKU weight × units), what
  the carrier charges the store (the service's rate rule) and the promise
  (dispatch by placed_at + handling hours, delivery date by business days in
  transit to the ship-to region). Without a carrier/service in the request the
  cheapest service that serves the region and weight is chosen.
- A card authorization is captured as the goods leave: the dispatch stages a
  capture of the shipment's share (domain.payments.shipment_capture_minor)
  as a pending provider operation in the same commit; the provider is called
  after the commit (services/payment_flow.py). A capture declined after the
  goods left flags the order (``attention_code = capture_declined``) and the
  amount stays a customer receivable in the ledger.
- A shipping notification (the message the customer would get) is recorded
  with each dispatch, carrying the promised delivery date.
- Tracking events come from a carrier's webhook (signed) or an operator; each
  is kept (duplicates too, marked not applied). They move the shipment along
  its tracking machine and the order to partially shipped / shipped /
  delivered as its shipments say; never backwards, and never an order that is
  not in fulfilment (``illegal_order_state``, 409).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import partial
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from transactional.domain import carriers as car
from transactional.domain import payments as pay
from transactional.domain import stock
from transactional.domain.card_data import reject_card_data, validate_tracking_number
from transactional.domain.errors import Conflict, IllegalTransition, Invalid, NotFound
from transactional.domain.orders import OrderStatus, shipment_status, transition
from transactional.services import payments
from transactional.services.orders import (
    active_lines,
    change_order_status,
    order_for_actor,
    order_view,
    outstanding,
)
from transactional.services.stock_journal import move_stock
from transactional.storage.state import Row
from transactional.storage.unit_of_work import UnitOfWork

MAX_LINES = 100
WEBHOOK_SECRET_PREFIX = "carrier_webhook:"
# Carriers' clocks drift; an event a little ahead of ours is accepted.
_FUTURE_SLACK = timedelta(minutes=5)

# -- command models (also the HTTP request bodies) -------------------------------------

Code = Annotated[str, Field(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9_]{1,31}$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Minor = Annotated[int, Field(strict=True, ge=0, le=10**9)]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ServiceIn(_Model):
    """A service level: handling promise, rate rule and transit business days per region ('*' = any)."""

    code: Code
    name: Name
    handling_hours: Annotated[int, Field(strict=True, ge=0, le=car.MAX_HANDLING_HOURS)]
    base_minor: Minor
    per_kg_minor: Minor
    max_weight_grams: Annotated[int | None, Field(strict=True, ge=1, le=10**7)] = None
    transit_days: Annotated[dict[str, int], Field(min_length=1, max_length=200)]


class CreateCarrier(_Model):
    code: Code
    name: Name
    services: Annotated[list[ServiceIn], Field(min_length=1, max_length=20)]


class ShipLine(_Model):
    order_line_id: Id
    quantity: Annotated[int, Field(strict=True, ge=1, le=1000)]


class ShipOrder(_Model):
    """One parcel from one warehouse; carrier and service are chosen by rate when left out."""

    warehouse_id: Id
    lines: Annotated[list[ShipLine], Field(min_length=1, max_length=MAX_LINES)]
    carrier_code: Code | None = None
    service_code: Code | None = None
    tracking_number: Annotated[str | None, Field(max_length=40)] = None


class TrackingUpdate(_Model):
    """A tracking event as an operator records it."""

    status: Annotated[str, Field(description=", ".join(car.TrackingStatus))]
    occurred_at: AwareDatetime | None = None
    location: Annotated[str | None, Field(max_length=200)] = None


class CarrierTrackingEvent(TrackingUpdate):
    """A tracking event as a carrier's webhook sends it: the parcel is named by its tracking number."""

    tracking_number: Annotated[str, Field(min_length=1, max_length=40)]


# -- the carrier catalogue ------------------------------------------------------------------


def create_carrier(uow: UnitOfWork, cmd: CreateCarrier) -> dict[str, Any]:
    """Add a carrier with its service levels; the answer shows its webhook secret once."""
    if uow.get("carriers", cmd.code) is not None:
        raise Conflict(f"carrier {cmd.code} already exists", code="carrier_exists")
    codes = [s.code for s in cmd.services]
    if len(set(codes)) != len(codes):
        raise Invalid("service codes must be unique within a carrier", code="duplicate_service")
    reject_card_data(
        {"name": cmd.name, **{f"services[{i}].name": s.name for i, s in enumerate(cmd.services)}},
        field_kind="free_text",
    )
    levels = [_service_level(cmd.code, s) for s in cmd.services]  # domain validation first
    uow.insert(
        "carriers",
        {
            "carrier_code": cmd.code,
            "name": cmd.name,
            "status": "active",
            "created_at": uow.now,
            "updated_at": uow.now,
        },
    )
    for level in levels:
        uow.insert(
            "carrier_services",
            {
                "carrier_code": cmd.code,
                "service_code": level.code,
                "name": level.name,
                "handling_hours": level.handling_hours,
                "base_minor": level.base_minor,
                "per_kg_minor": level.per_kg_minor,
                "max_weight_grams": level.max_weight_grams,
                "status": "active",
                "created_at": uow.now,
                "updated_at": uow.now,
            },
        )
        for region, days in sorted(level.transit_days.items()):
            uow.insert(
                "carrier_transit_days",
                {
                    "carrier_code": cmd.code,
                    "service_code": level.code,
                    "region": region,
                    "transit_days": days,
                },
            )
    secret = "whsec_" + secrets.token_hex(24)
    uow.insert("server_secrets", {"name": WEBHOOK_SECRET_PREFIX + cmd.code, "value": secret})
    uow.audit("carrier.create", "carrier", cmd.code, services=codes)
    return {**carrier_view(uow, cmd.code), "webhook_secret": secret}


def carrier_view(uow: UnitOfWork, carrier_code: str) -> dict[str, Any]:
    carrier = uow.require("carriers", carrier_code, code="carrier_not_found", what="carrier")
    services = sorted(
        uow.lookup("carrier_services", "carrier_code", carrier_code), key=lambda s: s["service_code"]
    )
    transit = uow.lookup("carrier_transit_days", "carrier_code", carrier_code)
    return {
        **dict(carrier),
        "services": [
            {
                **dict(s),
                "transit_days": {
                    t["region"]: t["transit_days"] for t in transit if t["service_code"] == s["service_code"]
                },
            }
            for s in services
        ],
    }


def service_levels(uow: UnitOfWork) -> list[car.ServiceLevel]:
    """Every active service level of every active carrier, as domain objects."""
    levels = []
    for carrier in uow.scan("carriers"):
        if carrier["status"] != "active":
            continue
        transit = uow.lookup("carrier_transit_days", "carrier_code", carrier["carrier_code"])
        for s in uow.lookup("carrier_services", "carrier_code", carrier["carrier_code"]):
            if s["status"] != "active":
                continue
            levels.append(
                car.ServiceLevel(
                    carrier_code=s["carrier_code"],
                    code=s["service_code"],
                    name=s["name"],
                    handling_hours=s["handling_hours"],
                    transit_days={
                        t["region"]: t["transit_days"]
                        for t in transit
                        if t["service_code"] == s["service_code"]
                    },
                    base_minor=s["base_minor"],
                    per_kg_minor=s["per_kg_minor"],
                    max_weight_grams=s["max_weight_grams"],
                )
            )
    return sorted(levels, key=lambda lv: (lv.carrier_code, lv.code))


def _service_level(carrier_code: str, s: ServiceIn) -> car.ServiceLevel:
    return car.ServiceLevel(
        carrier_code=carrier_code,
        code=s.code,
        name=s.name,
        handling_hours=s.handling_hours,
        transit_days=s.transit_days,
        base_minor=s.base_minor,
        per_kg_minor=s.per_kg_minor,
        max_weight_grams=s.max_weight_grams,
    )


# -- dispatch -------------------------------------------------------------------------------


def dispatch(uow: UnitOfWork, order_id: str, cmd: ShipOrder) -> dict[str, Any]:
    """Ship some or all of an order's units from one warehouse as one parcel (module rules).

    Returns the order, the shipment and ``provider_request``: the capture to send
    the provider for the shipment's share of a card authorization, or None.
    """
    order = order_for_actor(uow, order_id)
    if order["status"] not in (OrderStatus.picking, OrderStatus.partially_shipped):
        raise IllegalTransition(
            f"order {order_id} is {order['status']}; only orders being picked or partly shipped can ship",
            code="order_not_shippable",
            current=order["status"],
        )
    warehouse_id = cmd.warehouse_id
    uow.require("warehouses", warehouse_id, code="warehouse_not_found", what="warehouse")
    lines = {ln["order_line_id"]: ln for ln in active_lines(uow, order_id)}
    takes = _takes(uow, order_id, warehouse_id, cmd.lines, lines)
    shipped_now: dict[str, int] = {}
    for a, take in takes:
        shipped_now[a["order_line_id"]] = shipped_now.get(a["order_line_id"], 0) + take
    ordered = _to_ship(lines)
    cumulative = {lid: ln["quantity_shipped"] + shipped_now.get(lid, 0) for lid, ln in lines.items()}
    target = shipment_status(ordered, cumulative)
    transition(order["status"], target)

    weight = sum(uow.require("skus", a["sku_id"])["weight_grams"] * take for a, take in takes)
    chosen = _quote(uow, order, weight, cmd.carrier_code, cmd.service_code)
    tracking_number = _tracking_number(uow, chosen.carrier_code, cmd.tracking_number)
    shipment_id = uow.new_id("shp")
    capture = _stage_capture(
        uow, order, lines, cumulative, fully_shipped=target is OrderStatus.shipped, shipment_id=shipment_id
    )
    shipment = uow.insert(
        "shipments",
        {
            "shipment_id": shipment_id,
            "order_id": order_id,
            "warehouse_id": warehouse_id,
            "status": "shipped",
            "created_at": uow.now,
            "shipped_at": uow.now,
            "carrier_code": chosen.carrier_code,
            "service_code": chosen.service_code,
            "tracking_number": tracking_number,
            "tracking_status": car.INITIAL_TRACKING_STATUS.value,
            "weight_grams": weight,
            "shipping_cost_minor": chosen.cost_minor,
            "promised_dispatch_by": chosen.promised_dispatch_by,
            "promised_delivery_date": chosen.promised_delivery_date,
            "delivered_at": None,
            "payment_id": capture["payment_id"] if capture else None,
            "capture_minor": capture["amount_minor"] if capture else 0,
            "capture_status": "pending" if capture else "not_needed",
            "updated_at": uow.now,
        },
    )
    for a, take in takes:
        move_stock(
            uow,
            a["sku_id"],
            warehouse_id,
            partial(stock.ship, qty=take),
            reason=None,
            reference_type="shipment",
            reference_id=shipment_id,
        )
        uow.update("order_allocations", a["allocation_id"], quantity_shipped=a["quantity_shipped"] + take)
        uow.insert(
            "shipment_lines",
            {
                "shipment_line_id": uow.new_id("shl"),
                "shipment_id": shipment_id,
                "order_id": order_id,
                "order_line_id": a["order_line_id"],
                "allocation_id": a["allocation_id"],
                "sku_id": a["sku_id"],
                "quantity": take,
            },
        )
    for lid in shipped_now:
        uow.update("order_lines", lid, quantity_shipped=cumulative[lid])
    updated = change_order_status(uow, order, target, reason=f"shipment {shipment_id}")
    _notify(uow, order, shipment, [(lines[lid], qty) for lid, qty in shipped_now.items()])
    return {
        "order": order_view(uow, updated),
        "shipment": shipment_view(uow, shipment),
        "provider_request": capture["provider_request"] if capture else None,
    }


def _to_ship(lines: Mapping[str, Row]) -> dict[str, int]:
    """Units each line must ship: ordered less those refunded before they shipped."""
    return {lid: ln["quantity"] - ln["quantity_cancelled"] for lid, ln in lines.items()}


def _takes(
    uow: UnitOfWork, order_id: str, warehouse_id: str, wanted: Sequence[ShipLine], lines: Mapping[str, Row]
) -> list[tuple[Row, int]]:
    """(allocation, units shipped from it) for the requested lines, from ``warehouse_id``'s reservations."""
    allocations = sorted(
        uow.lookup("order_allocations", "order_id", order_id), key=lambda a: a["allocation_id"]
    )
    seen: set[str] = set()
    takes: list[tuple[Row, int]] = []
    for req in wanted:
        if req.order_line_id in seen:
            raise Invalid(f"line {req.order_line_id} is listed twice", code="duplicate_line")
        seen.add(req.order_line_id)
        if req.order_line_id not in lines:
            raise NotFound(
                f"order {order_id} has no active line {req.order_line_id}", code="order_line_not_found"
            )
        need = req.quantity
        for a in allocations:
            if need == 0:
                break
            if a["order_line_id"] != req.order_line_id or a["warehouse_id"] != warehouse_id:
                continue
            take = min(need, outstanding(a))
            if take > 0:
                takes.append((a, take))
                need -= take
        if need > 0:
            raise Conflict(
                f"line {req.order_line_id}: {req.quantity} requested but only {req.quantity - need} "
                f"reserved and unshipped in warehouse {warehouse_id}",
                code="insufficient_allocation",
                order_line_id=req.order_line_id,
                available=req.quantity - need,
            )
    return takes


def _quote(
    uow: UnitOfWork, order: Row, weight: int, carrier_code: str | None, service_code: str | None
) -> car.Quote:
    levels = service_levels(uow)
    if (carrier_code is None) != (service_code is None):
        raise Invalid(
            "give both carrier_code and service_code, or neither", code="carrier_and_service_required"
        )
    if carrier_code is not None:
        levels = [lv for lv in levels if (lv.carrier_code, lv.code) == (carrier_code, service_code)]
        if not levels:
            raise NotFound(
                f"carrier service {carrier_code}/{service_code} does not exist or is inactive",
                code="carrier_service_not_found",
            )
    tz = ZoneInfo(uow.store["timezone"])
    region = order["ship_region"]
    if carrier_code is not None:
        return car.quote(levels[0], region, weight, order["placed_at"], tz=tz)
    return car.choose_service(car.quote_all(levels, region, weight, order["placed_at"], tz=tz))


def _tracking_number(uow: UnitOfWork, carrier_code: str, given: str | None) -> str:
    if given is not None:
        number = validate_tracking_number(carrier_code, given)
        if uow.lookup("shipments", "tracking_number", number):
            raise Conflict(f"tracking number {number} is already in use", code="tracking_number_in_use")
        return number
    # Our own label: the carrier's initials and the shipment sequence, never 13-19 bare digits.
    return (carrier_code[:2].upper() + uow.new_id("trk").split("_", 1)[1]).upper()


def _stage_capture(
    uow: UnitOfWork,
    order: Row,
    lines: Mapping[str, Row],
    cumulative: Mapping[str, int],
    *,
    fully_shipped: bool,
    shipment_id: str,
) -> dict[str, Any] | None:
    """Stage the capture of this shipment's share of the order's card authorization, if any."""
    held = [
        p
        for p in uow.lookup("payments", "order_id", order["order_id"])
        if p["method"] == "card"
        and p["status"] in (pay.PaymentStatus.authorized, pay.PaymentStatus.partially_captured)
    ]
    if not held:
        return None
    row = min(held, key=lambda p: p["payment_id"])
    in_flight = payments.in_flight(uow, row["payment_id"], "capture")
    amount = pay.shipment_capture_minor(
        line_totals={lid: ln["total_minor"] for lid, ln in lines.items()},
        ordered={lid: ln["quantity"] for lid, ln in lines.items()},
        shipped_after=cumulative,
        shipping_minor=order["shipping_minor"],
        authorized_minor=row["authorized_minor"] - row["voided_minor"],
        captured_or_in_flight_minor=row["captured_minor"] + in_flight,
        fully_shipped=fully_shipped,
    )
    if amount <= 0:
        return None
    begun = payments.begin_capture(uow, row["payment_id"], amount, shipment_id=shipment_id)
    return {
        "payment_id": row["payment_id"],
        "amount_minor": amount,
        "provider_request": begun["provider_request"],
    }


def _notify(uow: UnitOfWork, order: Row, shipment: Row, items: Sequence[tuple[Row, int]]) -> None:
    carrier = uow.require("carriers", shipment["carrier_code"])
    recipient = order["guest_email"]
    if order["customer_id"] is not None:
        customer = uow.get("customers", order["customer_id"])
        recipient = customer["email"] if customer is not None else None
    promised = shipment["promised_delivery_date"]
    listing = "\n".join(f"- {qty} × {line['sku_name']}" for line, qty in items)
    uow.insert(
        "shipping_notifications",
        {
            "notification_id": uow.new_id("ntf"),
            "shipment_id": shipment["shipment_id"],
            "order_id": order["order_id"],
            "kind": "shipped",
            "recipient": recipient,
            "subject": f"Your order {order['order_id']} is on its way",
            "body": (
                f"{carrier['name']} is bringing your parcel, tracking number {shipment['tracking_number']}.\n"
                f"Expected delivery: {promised.isoformat()}.\n{listing}"
            ),
            "promised_delivery_date": promised,
            "created_at": uow.now,
        },
    )


# -- tracking -------------------------------------------------------------------------------


def record_tracking(uow: UnitOfWork, shipment_id: str, cmd: TrackingUpdate) -> dict[str, Any]:
    """An operator's tracking event for a shipment."""
    shipment = uow.require("shipments", shipment_id, code="shipment_not_found", what="shipment")
    return _track(uow, shipment, cmd, source="operator")


def record_carrier_tracking(uow: UnitOfWork, carrier_code: str, cmd: CarrierTrackingEvent) -> dict[str, Any]:
    """A carrier webhook's tracking event; the parcel is found by the carrier's tracking number."""
    uow.require("carriers", carrier_code, code="carrier_not_found", what="carrier")
    number = validate_tracking_number(carrier_code, cmd.tracking_number)
    found = [
        s for s in uow.lookup("shipments", "tracking_number", number) if s["carrier_code"] == carrier_code
    ]
    if not found:
        raise NotFound(
            f"carrier {carrier_code} has no shipment with that tracking number", code="shipment_not_found"
        )
    return _track(uow, found[0], cmd, source="carrier")


def _track(uow: UnitOfWork, shipment: Row, cmd: TrackingUpdate, *, source: str) -> dict[str, Any]:
    status = car.parse_tracking_status(cmd.status)
    if cmd.location is not None:
        reject_card_data({"location": cmd.location}, field_kind="free_text")
    occurred_at = cmd.occurred_at or uow.now
    if occurred_at > uow.now + _FUTURE_SLACK:
        raise Invalid("occurred_at lies in the future", code="timestamp_in_future", field="occurred_at")
    order = uow.require("orders", shipment["order_id"], code="order_not_found", what="order")
    previous = shipment["tracking_status"]
    new = car.apply_tracking_event(previous, status)
    applied = new != previous
    order_changed = None
    if applied:
        shipments = [
            s if s["shipment_id"] != shipment["shipment_id"] else {**s, "tracking_status": new.value}
            for s in uow.lookup("shipments", "order_id", order["order_id"])
        ]
        lines = {ln["order_line_id"]: ln for ln in active_lines(uow, order["order_id"])}
        target = car.order_status_after_tracking(
            order["status"],
            _to_ship(lines),
            [
                car.ShipmentState(_shipment_units(uow, s["shipment_id"]), s["tracking_status"])
                for s in shipments
            ],
        )
        shipment = uow.update(
            "shipments",
            shipment["shipment_id"],
            tracking_status=new.value,
            delivered_at=occurred_at if new is car.TrackingStatus.delivered else shipment["delivered_at"],
            updated_at=uow.now,
        )
        if target is not None:
            extra: dict[str, Any] = {"delivered_at": occurred_at} if target is OrderStatus.delivered else {}
            order_changed = change_order_status(
                uow, order, target, reason=f"tracking {shipment['shipment_id']} {new.value}", **extra
            )
    uow.insert(
        "tracking_events",
        {
            "tracking_event_id": uow.new_id("trv"),
            "shipment_id": shipment["shipment_id"],
            "order_id": order["order_id"],
            "carrier_code": shipment["carrier_code"],
            "status": status.value,
            "previous_status": previous,
            "applied": applied,
            "occurred_at": occurred_at,
            "received_at": uow.now,
            "location": cmd.location,
            "source": source,
            "actor_key_id": uow.actor.key_id,
            "request_id": uow.request_id,
        },
    )
    return {
        "shipment": shipment_view(uow, shipment),
        "applied": applied,
        "order_status": (order_changed or order)["status"],
    }


def _shipment_units(uow: UnitOfWork, shipment_id: str) -> dict[str, int]:
    units: dict[str, int] = {}
    for sl in uow.lookup("shipment_lines", "shipment_id", shipment_id):
        units[sl["order_line_id"]] = units.get(sl["order_line_id"], 0) + sl["quantity"]
    return units


def shipment_view(uow: UnitOfWork, shipment: Row) -> dict[str, Any]:
    lines = sorted(
        uow.lookup("shipment_lines", "shipment_id", shipment["shipment_id"]),
        key=lambda sl: sl["shipment_line_id"],
    )
    return {**dict(shipment), "lines": [dict(sl) for sl in lines]}
