"""Clickstream: each day's sessions as the storefront would have sent them, through the bulk ingest path.

The shoppers decide what each visitor did (``sessions`` topic); this station
turns the day's sessions into GA4 event frames (demo/clickstream.py) and hands
them to ``services.storefront_events.ingest_frames``, which applies the same
rules as ``POST /events`` (domain/event_frames.py), in one command timed just
after the day's last event. Purchases are the server's own events, written
when an order becomes paid.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from transactional.demo.clickstream import ListView, PlanItem, SessionPlan, build_frames
from transactional.demo.simulator import STOREFRONT, Simulation
from transactional.demo.stations.shoppers import Visit
from transactional.services.storefront_events import ingest_frames
from transactional.storage.writer import Outcome

NAME = "clickstream"


class Clickstream:
    name = NAME

    def __init__(self, sim: Simulation) -> None:
        world = sim.world.world
        self.items: dict[str, PlanItem] = {}
        for spec in world.skus:
            sku_id = sim.world.sku_ids[spec.sku_code]
            variant = ", ".join(v for _, v in spec.attributes) or None
            self.items[sku_id] = PlanItem(sku_id, spec.name, spec.category, variant, spec.price_minor)
        self.pending: list[Visit] = []

    def subscribe(self, sim: Simulation) -> None:
        sim.subscribe("sessions", self._collect)
        sim.subscribe("price_changed", self._price)

    def _collect(self, visits: list[Visit]) -> None:
        self.pending.extend(visits)

    def _price(self, item: tuple[str, int]) -> None:
        old = self.items[item[0]]
        self.items[item[0]] = PlanItem(old.sku_id, old.name, old.category, old.variant, item[1])

    def day(self, sim: Simulation) -> None:
        visits, self.pending = self.pending, []
        if not visits:
            return
        plans = [self._plan(v) for v in visits]
        events, items = build_frames(plans, sim.rng(NAME), currency="USD")
        last = events.get_column("timestamp").max()
        at = (last if isinstance(last, datetime) else sim.day_end) + timedelta(seconds=1)
        result = sim.run([(at, lambda uow: ingest_frames(uow, events, items), STOREFRONT)])[0]
        if isinstance(result, Outcome):
            sim.truth.events += result.body["inserted"]
        else:
            raise RuntimeError(f"the day's clickstream was refused: {result}")

    def _plan(self, v: Visit) -> SessionPlan:
        items = self.items
        listed = tuple(items[s] for s in v.listed)
        lists: tuple[ListView, ...] = ()
        if listed:
            category = listed[0].category or "all"
            lists = (ListView(f"category-{category.lower()}", category, listed),)
        added = tuple(_with_quantity(items[s], q) for s, q in v.carted)
        added += tuple(items[s] for s in v.removed)
        return SessionPlan(
            session_id=v.session_id,
            anonymous_id=v.anonymous_id,
            customer_id=v.person.customer_id if v.person is not None else None,
            started_at=v.started_at,
            traffic_source=v.traffic_source,
            device=v.device,
            utm_source=v.utm[0],
            utm_medium=v.utm[1],
            utm_campaign=v.utm[2],
            lists=lists,
            viewed=tuple(items[s] for s in v.viewed),
            added=added,
            removed=tuple(items[s] for s in v.removed),
            view_cart=bool(v.carted),
            begin_checkout=v.checkout,
            add_shipping_info=v.checkout,
            add_payment_info=v.payment_info,
            coupon=v.coupon,
        )


def _with_quantity(item: PlanItem, quantity: int) -> Any:
    return PlanItem(item.sku_id, item.name, item.category, item.variant, item.price_minor, quantity)
