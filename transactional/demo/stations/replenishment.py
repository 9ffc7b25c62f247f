"""Replenishment: the buyer reads the low-stock alerts each morning and orders from the supplier.

At 07:30 every open alert without a purchase order on its way gets one for the
level's reorder quantity (more if the shelf is far below its reorder point),
from the category's supplier, expected after the supplier's lead time; the
goods are received at 08:00 on the day they arrive (the lead time ± a day), so
stock runs out now and then when demand outpaces the reorder point. The alert
is acknowledged when ordered and resolves itself when stock is back.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from transactional.demo.simulator import OPERATOR, Schedule, Simulation, Step
from transactional.domain.access import Actor
from transactional.services import inventory, purchasing
from transactional.storage.reads import fetch_dicts
from transactional.storage.writer import Outcome

NAME = "replenishment"


class Replenishment:
    name = NAME

    def __init__(self, sim: Simulation) -> None:
        world = sim.world.world
        self.on_order: set[tuple[str, str]] = set()  # (sku id, warehouse id) with goods on the way
        self.arrivals = Schedule()
        codes = {v: k for k, v in sim.world.sku_ids.items()}
        self.supplier_of = {
            sku_id: sim.world.supplier_ids[world.supplier_for(world.sku_by_code[code].category).code]
            for sku_id, code in codes.items()
        }
        self.lead_days = {sim.world.supplier_ids[s.code]: s.lead_time_days for s in world.suppliers}
        self.cost = {sim.world.sku_ids[s.sku_code]: s.unit_cost_minor for s in world.skus}

    def subscribe(self, sim: Simulation) -> None:
        return None

    def day(self, sim: Simulation) -> None:
        self._receive(sim)
        self._order(sim)

    def _receive(self, sim: Simulation) -> None:
        due = self.arrivals.pop_until(sim.day_end)
        steps: list[tuple[datetime, Step, Actor]] = []
        for at, po in due:
            cmd = purchasing.ReceivePurchaseOrder(
                lines=[
                    purchasing.ReceiptLineIn(
                        purchase_order_line_id=ln["purchase_order_line_id"], quantity=ln["quantity_ordered"]
                    )
                    for ln in po["lines"]
                ],
                note="supplier delivery",
            )
            steps.append((at, _receive(po["purchase_order_id"], cmd), OPERATOR))
        for (_, po), _result in zip(due, sim.run(steps), strict=True):
            for ln in po["lines"]:
                self.on_order.discard((ln["sku_id"], po["warehouse_id"]))

    def _order(self, sim: Simulation) -> None:
        at = sim.local(sim.today, 7.5)
        # What the operator's alert list shows (GET /alerts), with each level's settings.
        alerts = fetch_dicts(
            sim.writer.con.cursor(),
            "select a.alert_id, a.sku_id, a.warehouse_id, a.status, l.on_hand, l.reserved, l.reorder_point, "
            "l.reorder_quantity from stock_alerts as a join stock_levels as l using (sku_id, warehouse_id) "
            "where a.status in ('open', 'acknowledged') and a.kind = 'low_stock' order by a.alert_id",
        )
        wanted: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (supplier, warehouse) → lines
        acks: list[tuple[datetime, Step, Actor]] = []
        for level in alerts:
            alert = level
            key = (alert["sku_id"], alert["warehouse_id"])
            if key in self.on_order:
                continue
            short = max(0, level["reorder_point"] - (level["on_hand"] - level["reserved"]))
            qty = max(level["reorder_quantity"], short + level["reorder_quantity"] // 2)
            supplier = self.supplier_of[alert["sku_id"]]
            wanted.setdefault((supplier, alert["warehouse_id"]), []).append(
                {"sku_id": alert["sku_id"], "quantity": qty, "unit_cost_minor": self.cost[alert["sku_id"]]}
            )
            self.on_order.add(key)
            if alert["status"] == "open":
                acks.append((at, _ack(alert["alert_id"]), OPERATOR))
        rng = sim.rng(NAME)
        steps: list[tuple[datetime, Step, Actor]] = []
        arrive: list[date] = []
        for (supplier, warehouse), lines in sorted(wanted.items()):
            lead = self.lead_days[supplier] + rng.choice((-1, 0, 0, 0, 1, 2))
            expected = sim.today + timedelta(days=max(1, self.lead_days[supplier]))
            arrive.append(sim.today + timedelta(days=max(1, lead)))
            cmd = purchasing.CreatePurchaseOrder.model_validate(
                {"supplier_id": supplier, "warehouse_id": warehouse, "expected_on": expected, "lines": lines}
            )
            steps.append((at, _create(cmd), OPERATOR))
        for day, result in zip(arrive, sim.run(steps), strict=True):
            if isinstance(result, Outcome):
                self.arrivals.add(sim.local(day, 8), result.body)
        sim.run(acks)


def _create(cmd: purchasing.CreatePurchaseOrder) -> Step:
    return lambda uow: purchasing.create_purchase_order(uow, cmd)


def _receive(po_id: str, cmd: purchasing.ReceivePurchaseOrder) -> Step:
    return lambda uow: purchasing.receive_purchase_order(uow, po_id, cmd)


def _ack(alert_id: str) -> Step:
    return lambda uow: inventory.acknowledge_alert(uow, alert_id)
