"""Fulfilment: paid orders leave the warehouses in parcels, carriers scan them until delivery.

- Dispatch: an order paid before 13:00 leaves the same afternoon, otherwise the
  next working morning or afternoon; about 7 % slip a day or two (late against
  the handling promise). One parcel per warehouse holding the order's stock
  (split shipments when stock was spread). Orders to China go with the
  international service; others get the cheapest service that serves them.
- A card hold's share is captured as each parcel leaves (services/shipping.py);
  the capture goes to the sandbox between the dispatch command and its record.
- Tracking, posted as the carrier's webhook would: picked up a few hours after
  dispatch, in transit the next morning, out for delivery and delivered on the
  delivery day. About 80 % arrive by the promised date, 15 % a day or two late,
  5 % later; 2 % meet an exception on the way and arrive days late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from transactional.demo.simulator import OPERATOR, Schedule, Simulation, Step
from transactional.domain.access import Actor
from transactional.services import shipping
from transactional.storage.writer import Outcome

NAME = "fulfilment"


@dataclass(frozen=True)
class Parcel:
    order_id: str
    warehouse_id: str
    lines: tuple[tuple[str, int], ...]
    country: str


@dataclass(frozen=True)
class Scan:
    shipment_id: str
    carrier_code: str
    tracking_number: str
    status: str
    order_id: str
    last: bool


class Fulfilment:
    name = NAME

    def __init__(self, sim: Simulation) -> None:
        self.dispatches = Schedule()
        self.scans = Schedule()
        self.parcels_left: dict[str, int] = {}  # order id → parcels not yet delivered
        self.world = sim.world.world

    def subscribe(self, sim: Simulation) -> None:
        sim.subscribe("order_paid", lambda paid: self._plan_dispatch(sim, paid))

    def _plan_dispatch(self, sim: Simulation, paid: dict[str, Any]) -> None:
        order, at = paid["order"], paid["paid_at"]
        rng = sim.rng(f"{NAME}:{order['order_id']}")
        local = at.astimezone(sim.tz)
        day = local.date()
        if local.hour >= 13:
            day += timedelta(days=1)
        if rng.random() < 0.07:
            day += timedelta(days=rng.choice((1, 1, 2)))
        while day.weekday() == 6:  # the warehouses rest on Sundays
            day += timedelta(days=1)
        by_warehouse: dict[str, dict[str, int]] = {}
        for a in order["allocations"]:
            lines = by_warehouse.setdefault(a["warehouse_id"], {})
            lines[a["order_line_id"]] = lines.get(a["order_line_id"], 0) + a["quantity"]
        self.parcels_left[order["order_id"]] = len(by_warehouse)
        for warehouse_id, lines in sorted(by_warehouse.items()):
            when = max(sim.local(day, rng.uniform(14.0, 17.5)), at + timedelta(minutes=30))
            parcel = Parcel(
                order["order_id"], warehouse_id, tuple(sorted(lines.items())), order["ship_country"]
            )
            self.dispatches.add(when, parcel)

    def day(self, sim: Simulation) -> None:
        self._dispatch(sim)
        self._scan(sim)

    def _dispatch(self, sim: Simulation) -> None:
        due = self.dispatches.pop_until(sim.day_end)
        steps: list[tuple[datetime, Step, Actor]] = []
        for at, parcel in due:
            carrier = self.world.carrier_for(parcel.country)
            cmd = shipping.ShipOrder.model_validate(
                {
                    "warehouse_id": parcel.warehouse_id,
                    "lines": [{"order_line_id": line, "quantity": qty} for line, qty in parcel.lines],
                    **({"carrier_code": carrier[0], "service_code": carrier[1]} if carrier else {}),
                }
            )
            steps.append((at, _ship(parcel.order_id, cmd), OPERATOR))
        captures: list[tuple[datetime, dict[str, Any]]] = []
        for (at, _), result in zip(due, sim.run(steps), strict=True):
            if not isinstance(result, Outcome):
                continue  # e.g. the order was cancelled meanwhile
            shipment = result.body["shipment"]
            if result.body.get("provider_request") is not None:
                captures.append((at, result.body["provider_request"]))
            self._plan_scans(sim, at, shipment)
        sim.settle(captures)

    def _plan_scans(self, sim: Simulation, at: datetime, shipment: dict[str, Any]) -> None:
        rng = sim.rng(f"{NAME}:{shipment['shipment_id']}")
        promised: date = shipment["promised_delivery_date"]
        roll = rng.random()
        if roll < 0.10:
            delay = -1
        elif roll < 0.80:
            delay = 0
        elif roll < 0.95:
            delay = rng.choice((1, 2))
        else:
            delay = rng.randint(3, 6)
        exception = rng.random() < 0.02
        if exception:
            delay += rng.randint(2, 4)
        dispatch_day = at.astimezone(sim.tz).date()
        arrive = max(promised + timedelta(days=delay), dispatch_day + timedelta(days=1))
        base = {
            "shipment_id": shipment["shipment_id"],
            "carrier_code": shipment["carrier_code"],
            "tracking_number": shipment["tracking_number"],
            "order_id": shipment["order_id"],
        }
        plan = [(at + timedelta(hours=rng.uniform(1.5, 5)), "picked_up")]
        plan.append((sim.local(dispatch_day + timedelta(days=1), rng.uniform(3.5, 6)), "in_transit"))
        if exception:
            middle = dispatch_day + timedelta(days=max(1, (arrive - dispatch_day).days // 2))
            arrive = max(arrive, middle + timedelta(days=2))
            plan.append((sim.local(middle, rng.uniform(10, 16)), "exception"))
            plan.append((sim.local(middle + timedelta(days=1), rng.uniform(3.5, 6)), "in_transit"))
        plan.append((sim.local(arrive, rng.uniform(6.5, 9)), "out_for_delivery"))
        plan.append((sim.local(arrive, rng.uniform(10, 19.5)), "delivered"))
        plan.sort(key=lambda p: p[0])
        for i, (when, status) in enumerate(plan):
            self.scans.add(when, Scan(status=status, last=i == len(plan) - 1, **base))

    def _scan(self, sim: Simulation) -> None:
        due = self.scans.pop_until(sim.day_end)
        steps = [
            (
                at,
                _track(s.carrier_code, s.tracking_number, s.status, at),
                Actor(role="carrier", key_id=f"carrier:{s.carrier_code}"),
            )
            for at, s in due
        ]
        for (at, scan), result in zip(due, sim.run(steps), strict=True):
            if not (isinstance(result, Outcome) and scan.last):
                continue
            left = self.parcels_left.get(scan.order_id, 1) - 1
            self.parcels_left[scan.order_id] = left
            if left <= 0:
                self.parcels_left.pop(scan.order_id, None)
                sim.publish("delivered", {"order_id": scan.order_id, "delivered_at": at})


def _ship(order_id: str, cmd: shipping.ShipOrder) -> Step:
    return lambda uow: shipping.dispatch(uow, order_id, cmd)


def _track(carrier_code: str, tracking_number: str, status: str, at: datetime) -> Step:
    event = shipping.CarrierTrackingEvent(tracking_number=tracking_number, status=status, occurred_at=at)
    return lambda uow: shipping.record_carrier_tracking(uow, carrier_code, event)
