"""After-sales: refunds after delivery, so returns, refunds and net revenue are real.

- About 7 % of delivered orders come back in part: a refund by lines of one
  line (some or all of its units) 2–14 days after delivery; a quarter of the
  customers who have an account take store credit instead of their money.
- About 1.5 % get a goodwill refund by amount (10–25 % of the order) 1–5 days
  after delivery, to the original method.
Until the returns station (ORD-5) lands, a refund by lines of shipped goods is
what analytics counts as a return (DECISIONLOG.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from transactional.demo.simulator import Schedule, Simulation, Step
from transactional.domain.access import Actor
from transactional.services import payments as pay_svc
from transactional.storage.writer import Outcome

NAME = "aftersales"
FINANCE = Actor(role="finance", key_id="demo-finance")
RETURN_RATE = 0.07
GOODWILL_RATE = 0.015
REASONS = ("does not fit", "not as described", "arrived damaged", "changed my mind", "wrong colour")


@dataclass(frozen=True)
class Sold:
    order_id: str
    customer_id: str | None
    total_minor: int
    lines: tuple[tuple[str, int], ...]  # (order line id, quantity)


class AfterSales:
    name = NAME

    def __init__(self, sim: Simulation) -> None:
        self.sold: dict[str, Sold] = {}
        self.refunds = Schedule()

    def subscribe(self, sim: Simulation) -> None:
        sim.subscribe("order_paid", self._remember)
        sim.subscribe("delivered", lambda item: self._decide(sim, item))
        sim.subscribe("reconciled", lambda item: self._reconciled(sim, *item))

    def _remember(self, paid: dict[str, Any]) -> None:
        order = paid["order"]
        self.sold[order["order_id"]] = Sold(
            order["order_id"],
            order["customer_id"],
            order["total_minor"],
            tuple((ln["order_line_id"], ln["quantity"]) for ln in order["lines"]),
        )

    def _decide(self, sim: Simulation, item: dict[str, Any]) -> None:
        sold = self.sold.pop(item["order_id"], None)
        if sold is None:
            return
        rng = sim.rng(f"{NAME}:{sold.order_id}")
        delivered: datetime = item["delivered_at"]
        roll = rng.random()
        if roll < RETURN_RATE:
            line_id, qty = rng.choice(sold.lines)
            units = qty if rng.random() < 0.7 else rng.randint(1, qty)
            to_credit = sold.customer_id is not None and rng.random() < 0.25
            cmd = pay_svc.RefundPayment(
                order_id=sold.order_id,
                lines=[pay_svc.RefundLine(order_line_id=line_id, quantity=units)],
                destination="store_credit" if to_credit else "original",
                reason=rng.choice(REASONS),
            )
            self.refunds.add(delivered + timedelta(days=rng.uniform(2, 14)), (cmd, sold.customer_id))
        elif roll < RETURN_RATE + GOODWILL_RATE:
            amount = max(1, round(sold.total_minor * rng.uniform(0.10, 0.25)))
            cmd = pay_svc.RefundPayment(
                order_id=sold.order_id, amount_minor=amount, reason="goodwill: late delivery"
            )
            self.refunds.add(delivered + timedelta(days=rng.uniform(1, 5)), (cmd, sold.customer_id))

    def day(self, sim: Simulation) -> None:
        due = self.refunds.pop_until(sim.day_end)
        steps: list[tuple[datetime, Step, Actor]] = [(at, _refund(cmd), FINANCE) for at, (cmd, _) in due]
        calls: list[tuple[datetime, dict[str, Any]]] = []
        for (at, (_cmd, customer_id)), result in zip(due, sim.run(steps), strict=True):
            if not isinstance(result, Outcome):
                continue
            body = result.body
            if body.get("provider_request") is None:  # to store credit: done at once
                self._refunded(sim, body, at, customer_id)
            else:
                calls.append((at, body["provider_request"]))
        for (at, _), body in zip(calls, sim.settle(calls), strict=True):
            if body is not None and body.get("status") == "succeeded":
                self._refunded(sim, body, at + timedelta(seconds=1), None)

    def _reconciled(self, sim: Simulation, body: dict[str, Any], at: datetime) -> None:
        """A refund that had timed out and the reconciler found done."""
        if body["_kind"] == "refund" and body.get("status") == "succeeded":
            self._refunded(sim, body, at, None)

    def _refunded(
        self, sim: Simulation, refund: dict[str, Any], at: datetime, customer_id: str | None
    ) -> None:
        sim.truth.refund(refund, at)
        if refund["destination"] == "store_credit" and customer_id is not None:
            sim.publish("store_credit", (customer_id, refund["amount_minor"]))


def _refund(cmd: pay_svc.RefundPayment) -> Step:
    return lambda uow: pay_svc.begin_refund(uow, cmd)
