"""Merchandising: price changes over time, so price effects can be measured (ANA-3).

- Every Monday about 3 % of the SKUs whose demand is fading are marked down
  20–40 % for two weeks (the old price kept as compare-at), then restored.
- On the first of each month about 2 % of the SKUs get a 5–12 % price rise
  (supplier costs), for good.
Shoppers respond to the current price (shoppers.PRICE_ELASTICITY), so
markdowns sell more units at a lower price.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from transactional.demo.simulator import Schedule, Simulation, Step
from transactional.domain.access import Actor
from transactional.services import catalogue

NAME = "merchandising"
ADMIN = Actor(role="admin", key_id="demo-merchandiser")


class Merchandising:
    name = NAME

    def __init__(self, sim: Simulation) -> None:
        world = sim.world.world
        self.skus = [(sim.world.sku_ids[s.sku_code], s) for s in world.skus]
        self.price = {sku_id: s.price_minor for sku_id, s in self.skus}
        self.marked_down: set[str] = set()
        self.restores = Schedule()

    def subscribe(self, sim: Simulation) -> None:
        return None

    def day(self, sim: Simulation) -> None:
        rng = sim.rng(NAME)
        at = sim.local(sim.today, 6)
        changes: list[tuple[str, int, int | None, str]] = []
        for _, sku_id in self.restores.pop_until(sim.day_end):
            self.marked_down.discard(sku_id)
            changes.append((sku_id, self.price[sku_id], None, "markdown ended"))
        if sim.today.weekday() == 0:
            fading = [
                (sku_id, s)
                for sku_id, s in self.skus
                if sku_id not in self.marked_down and s.trend_per_month < -0.03
            ]
            for sku_id, _ in fading:
                if rng.random() < 0.06:
                    cut = rng.uniform(0.2, 0.4)
                    changes.append(
                        (sku_id, _cents(self.price[sku_id] * (1 - cut)), self.price[sku_id], "markdown")
                    )
                    self.marked_down.add(sku_id)
                    self.restores.add(at + timedelta(days=14), sku_id)
        if sim.today.day == 1:
            for sku_id, _ in self.skus:
                if sku_id not in self.marked_down and rng.random() < 0.02:
                    self.price[sku_id] = _cents(self.price[sku_id] * (1 + rng.uniform(0.05, 0.12)))
                    changes.append((sku_id, self.price[sku_id], None, "supplier cost increase"))
        steps: list[tuple[datetime, Step, Actor]] = [
            (at, _set_price(sku_id, price, compare_at, reason), ADMIN)
            for sku_id, price, compare_at, reason in changes
        ]
        sim.run(steps)
        for sku_id, price, _, _ in changes:
            sim.publish("price_changed", (sku_id, price))


def _cents(minor: float) -> int:
    """A shelf price: whole dollars less a cent (x.99), at least 0.99."""
    return max(99, int(minor // 100) * 100 + 99)


def _set_price(sku_id: str, price: int, compare_at: int | None, reason: str) -> Step:
    cmd = catalogue.SetPrice(price_minor=price, compare_at_minor=compare_at, reason=reason)
    return lambda uow: catalogue.set_price(uow, sku_id, cmd)
