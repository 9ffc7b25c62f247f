"""The simulator's own tally of what it did (BEY-10): the ground truth later tests compare marts with.

Figures are counted from the simulator's decisions and the answers its
commands got (an order's totals as the pricing service returned them), never
by querying the store, and dated by the definitions of DECISIONLOG.md §5:

- a sale (gross, discounts, tax, shipping, units) is dated by the store-local
  day the order became paid; orders that never became paid are not sales;
- a refund by the store-local day it succeeded; returns are refunded line
  amounts (net of tax), amount-only refunds count as returns too;
- a paid order's card hold given back whole before anything shipped (a
  cancellation, DECISIONLOG §5) is a return too, of the order's whole net
  (its tax and shipping apart), by the store-local day the hold expired:
  ``hold_expired``, from the totals ``order_paid`` was answered with;
- orders placed, cancelled and expired by the store-local day it happened;
- sessions and funnel steps by the store-local day the session started.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DAY_MEASURES = (
    "orders_placed",
    "orders_paid",
    "orders_cancelled",
    "orders_expired",
    "gross_minor",
    "discount_minor",
    "net_minor",
    "tax_minor",
    "shipping_minor",
    "total_minor",
    "units",
    "refunds",
    "refunded_minor",
    "returns_minor",
    "refunded_tax_minor",
    "refunded_shipping_minor",
    "cancellations",
    "cancelled_minor",
    "sessions",
    "customers_registered",
)
FUNNEL_STEPS = ("session", "view_item", "add_to_cart", "begin_checkout", "add_payment_info", "purchase")


@dataclass
class GroundTruth:
    timezone: str
    days: dict[date, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(DAY_MEASURES, 0))
    )
    funnel: dict[date, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(FUNNEL_STEPS, 0))
    )
    units_by_sku: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    payments_by_method: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    events: int = 0
    # Totals of the orders paid by card, as answered at payment: what comes back if the hold expires.
    card_sales: dict[str, dict[str, int]] = field(default_factory=dict)

    def day_of(self, instant: datetime) -> date:
        return instant.astimezone(ZoneInfo(self.timezone)).date()

    def add(self, instant: datetime, **measures: int) -> None:
        row = self.days[self.day_of(instant)]
        for name, value in measures.items():
            row[name] += value

    def order_paid(self, order: dict[str, Any], at: datetime, method: str) -> None:
        """An order became paid: it is a sale of that day, with the totals its pricing returned."""
        self.add(
            at,
            orders_paid=1,
            gross_minor=order["gross_minor"],
            discount_minor=order["discount_minor"],
            net_minor=order["net_minor"],
            tax_minor=order["tax_minor"],
            shipping_minor=order["shipping_minor"],
            total_minor=order["total_minor"],
            units=sum(line["quantity"] for line in order["lines"]),
        )
        for line in order["lines"]:
            self.units_by_sku[line["sku_id"]] += line["quantity"]
        self.payments_by_method[method] += 1
        if method == "card":
            self.card_sales[order["order_id"]] = {
                k: order[k] for k in ("net_minor", "tax_minor", "shipping_minor", "total_minor")
            }

    def hold_expired(self, order_id: str, at: datetime) -> None:
        """A card-paid order's hold ran out before anything shipped: the order is cancelled and the
        whole sale comes back as a cancellation, a return of its net on the day of the expiry.

        Only for a hold given back whole (nothing captured); the simulator must call it for each
        order its due work cancelled (see DECISIONLOG §5, cancellations).
        """
        sale = self.card_sales.pop(order_id)  # a KeyError: not a card sale, or counted twice
        self.add(
            at,
            cancellations=1,
            cancelled_minor=sale["total_minor"],
            returns_minor=sale["net_minor"],
        )

    def refund(self, refund: dict[str, Any], at: datetime) -> None:
        self.add(
            at,
            refunds=1,
            refunded_minor=refund["amount_minor"],
            returns_minor=refund["revenue_minor"],
            refunded_tax_minor=refund["tax_minor"],
            refunded_shipping_minor=refund["shipping_minor"],
        )

    def funnel_step(self, started: datetime, step: str) -> None:
        self.funnel[self.day_of(started)][step] += 1

    def totals(self) -> dict[str, int]:
        out = dict.fromkeys(DAY_MEASURES, 0)
        for row in self.days.values():
            for name, value in row.items():
                out[name] += value
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "definitions": "DECISIONLOG.md §5; transactional/demo/truth.py",
            "totals": self.totals(),
            "events": self.events,
            "days": {d.isoformat(): row for d, row in sorted(self.days.items())},
            "funnel": {d.isoformat(): row for d, row in sorted(self.funnel.items())},
            "units_by_sku": dict(sorted(self.units_by_sku.items())),
            "payments_by_method": dict(sorted(self.payments_by_method.items())),
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True))
