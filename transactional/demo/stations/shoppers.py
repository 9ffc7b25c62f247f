"""Shoppers: sign-ups, sessions, the funnel, checkouts and payments.

Three kinds of visitors:

- **people** of the world (``World.customers()``): each arrives at their
  sign-up time; 80 % register (customer id, saved address), the others stay
  guests who check out with their e-mail; after a visit a person comes back
  after an exponential gap (mean ``RETURN_GAP_DAYS`` / loyalty) with
  probability ``loyalty`` × decay, so cohorts and retention are real;
- **anonymous visitors**: the bulk of the sessions, browsing, rarely buying
  (a purchase is a guest checkout with a throw-away e-mail and an address
  drawn from the world's people);

Session counts follow the day (growth over the period, weekday, sales peaks)
and the hour; the funnel (list → item → cart → checkout → payment info →
order) has per-step probabilities, higher for returning customers and e-mail
traffic, so conversion lands around 2–4 % and cart abandonment around 70 %.
What a shopper picks follows the SKUs' demand weights (heavy-tailed, drifting)
times a price response to the current price (markdowns sell more).

Payments: card, Alipay, WeChat Pay, bank transfer and store credit; some
declines (retried with another card), failures and timeouts (left to the
reconciler), a few capture-declines at dispatch; some shoppers abandon at the
payment step (the order expires) or cancel before paying.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import itertools
import math
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from transactional.demo.simulator import STOREFRONT, Simulation, Step
from transactional.demo.world import CouponSpec, CustomerSpec, address_command, register_command
from transactional.domain.access import Actor
from transactional.domain.errors import DomainError
from transactional.services import customers as customer_svc
from transactional.services import orders as order_svc
from transactional.services import payments as pay_svc
from transactional.storage.writer import Outcome

NAME = "shoppers"
ANONYMOUS_SESSIONS_PER_DAY = 5_000  # at scale 1, at the start of the period
GROWTH_OVER_PERIOD = 0.45  # sessions grow by this fraction from first to last day
RETURN_GAP_DAYS = 24.0
REGISTER_SHARE = 0.8
WEEKDAY = (1.0, 0.97, 0.98, 1.0, 0.95, 1.08, 1.12)  # Monday first
HOURS = (
    0.35, 0.2, 0.12, 0.08, 0.08, 0.15, 0.35, 0.7, 1.0, 1.15, 1.25, 1.3,
    1.35, 1.3, 1.2, 1.15, 1.15, 1.25, 1.45, 1.65, 1.75, 1.6, 1.2, 0.7,
)  # fmt: skip


class Mix:
    """Named shares to draw from: cumulative weights computed once, one bisect per draw."""

    def __init__(self, shares: dict[str, float]) -> None:
        self.keys = list(shares)
        self.cum: list[float] = []
        total = 0.0
        for share in shares.values():
            total += share
            self.cum.append(total)

    def draw(self, rng: random.Random) -> str:
        return self.keys[bisect.bisect(self.cum, rng.random() * self.cum[-1])]


PAYMENT_METHODS = Mix({"card": 0.55, "alipay": 0.12, "wechat_pay": 0.1, "bank_transfer": 0.08})
ZH_PAYMENT_METHODS = Mix({"card": 0.3, "alipay": 0.33, "wechat_pay": 0.3, "bank_transfer": 0.07})
CARD_BRANDS = Mix({"visa": 0.5, "mastercard": 0.3, "amex": 0.12, "discover": 0.08})
CARD_TOKENS = Mix(
    {
        "tok_sandbox_ok": 0.915,
        "tok_sandbox_decline": 0.045,
        "tok_sandbox_fail": 0.01,
        "tok_sandbox_timeout": 0.01,
        "tok_sandbox_capture_decline": 0.006,
        "tok_sandbox_capture_timeout": 0.004,
        "tok_sandbox_refund_timeout": 0.01,
    }
)
CHANNELS = Mix({"web": 0.58, "app": 0.3, "marketplace": 0.1, "pos": 0.02})
DEVICES = Mix({"mobile": 0.6, "desktop": 0.33, "tablet": 0.07})
SOURCES = Mix(
    {
        "organic": 0.34,
        "paid_search": 0.22,
        "social": 0.18,
        "direct": 0.14,
        "email": 0.06,
        "referral": 0.06,
    }
)
UTM = {
    "paid_search": ("google", "cpc"),
    "social": ("instagram", "social"),
    "email": ("newsletter", "email"),
    "referral": ("partner-blog", "referral"),
}
PRICE_ELASTICITY = 1.8


def _pick(rng: random.Random, mix: Mix) -> str:
    return mix.draw(rng)


def peak_factor(day: date) -> float:
    """Sales peaks: 6.18, a mid-July deal day, 11.11, Black Friday and Cyber Monday."""
    if (day.month, day.day) == (11, 11):
        return 2.6
    if (day.month, day.day) == (6, 18):
        return 1.7
    if (day.month, day.day) in ((7, 15), (7, 16)):
        return 1.5
    if day.month == 11 and day.weekday() == 4 and 23 <= day.day <= 29:  # Black Friday
        return 3.0
    if day.month in (11, 12) and day.weekday() == 0 and (day - timedelta(days=3)).month == 11:
        black_friday = day - timedelta(days=3)
        if 23 <= black_friday.day <= 29:
            return 2.2  # Cyber Monday
    if day.month == 12 and day.day <= 20:
        return 1.25
    return 1.0


@dataclass
class Person:
    spec: CustomerSpec
    registered: bool
    customer_id: str | None = None
    address_id: str | None = None
    visits: int = 0
    orders: int = 0


@dataclass
class Visit:
    """One session as the shopper lived it: what they looked at, carted and whether they paid."""

    session_id: str
    anonymous_id: str
    started_at: datetime
    person: Person | None
    traffic_source: str
    utm: tuple[str | None, str | None, str | None]
    device: str
    channel: str
    listed: list[str] = field(default_factory=list)
    viewed: list[str] = field(default_factory=list)
    carted: list[tuple[str, int]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    checkout: bool = False
    payment_info: bool = False
    order_id: str | None = None
    coupon: str | None = None


@dataclass
class PendingOrder:
    order: dict[str, Any]
    visit: Visit
    method: str


class Shoppers:
    name = NAME

    def __init__(self, sim: Simulation, *, scale: int, start: date, end: date) -> None:
        self.scale = scale
        self.start, self.end = start, end
        self.world = sim.world.world
        self.sku_ids = dict(sim.world.sku_ids)
        self.base_price = {self.sku_ids[s.sku_code]: s.price_minor for s in self.world.skus}
        self.price = dict(self.base_price)
        self._arrivals: Iterator[CustomerSpec] = self.world.customers(parallel=True)
        self._next_arrival: CustomerSpec | None = next(self._arrivals, None)
        self._returns: list[tuple[datetime, int, Person]] = []
        self._n = itertools.count()
        # A pool of real-looking addresses for anonymous guests: the people's, as they arrive.
        self.addresses: list[Any] = [next(self.world.customers()).address]
        self.awaiting: dict[str, PendingOrder] = {}  # orders not yet paid, by order id
        self.funds_at: dict[str, datetime] = {}  # bank transfers: when the money arrives
        self.credit: dict[str, int] = {}  # store credit the shoppers know they have, by customer id
        self.visits: list[Visit] = []

    # -- wiring ------------------------------------------------------------------------
    def subscribe(self, sim: Simulation) -> None:
        sim.subscribe("price_changed", self._price_changed)
        sim.subscribe("store_credit", self._store_credit)
        sim.subscribe("order_expired", lambda item: self._order_gone(sim, item[0], item[1], expired=True))
        sim.subscribe("reconciled", lambda item: self._paid_if(sim, item[0], item[1]))

    def _price_changed(self, item: tuple[str, int]) -> None:
        self.price[item[0]] = item[1]

    def _store_credit(self, item: tuple[str, int]) -> None:
        customer_id, delta = item
        self.credit[customer_id] = self.credit.get(customer_id, 0) + delta

    def _order_gone(self, sim: Simulation, order_id: str, at: datetime, *, expired: bool) -> None:
        gone = self.awaiting.pop(order_id, None)
        if gone is not None and expired:
            sim.truth.add(at, orders_expired=1)

    # -- one day -----------------------------------------------------------------------
    def day(self, sim: Simulation) -> None:
        rng = sim.rng(self.name)
        today = sim.today
        self.visits = []
        weights = self._weights(sim)
        arrivals = self._arrive(sim, rng)
        visits = [self._person_visit(sim, rng, at, person) for at, person in arrivals]
        while self._returns and self._returns[0][0] < sim.day_end:
            at, _, person = heapq.heappop(self._returns)
            visits.append(self._person_visit(sim, rng, at, person))
        visits.extend(self._anonymous_visits(sim, rng))
        visits.sort(key=lambda v: (v.started_at, v.session_id))
        for v in visits:
            self._browse(rng, v, weights)
            sim.truth.funnel_step(v.started_at, "session")
        placed = self._place(sim, rng, [v for v in visits if v.checkout])
        self._pay(sim, rng, placed)
        for v in visits:
            for step, done in (
                ("view_item", bool(v.viewed)),
                ("add_to_cart", bool(v.carted)),
                ("begin_checkout", v.checkout),
                ("add_payment_info", v.payment_info),
            ):
                if done:
                    sim.truth.funnel_step(v.started_at, step)
            if v.person is not None:
                self._schedule_return(rng, v)
        sim.truth.add(sim.day_start, sessions=len(visits))
        self.visits = visits
        sim.publish("sessions", visits)
        # The reconciler: unknown calls, and bank transfers whose money arrived today.
        for hour in (10.5, 16.5, 23.5):
            at = sim.local(today, hour)
            sim.reconcile(at, funds_due=self._funds_due(at))

    def _funds_due(self, at: datetime) -> Callable[[str], bool]:
        return lambda payment_id: self.funds_at.get(payment_id, at) <= at

    def _weights(self, sim: Simulation) -> tuple[list[str], list[float]]:
        """Cumulative demand weights of today: the world's drifting demand times the price response."""
        at = sim.local(sim.today, 12)
        ids, cum, total = [], [], 0.0
        for spec in self.world.skus:
            sku_id = self.sku_ids[spec.sku_code]
            w = self.world.demand_weight(spec.sku_code, at)
            w *= (self.price[sku_id] / self.base_price[sku_id]) ** -PRICE_ELASTICITY
            total += w
            ids.append(sku_id)
            cum.append(total)
        return ids, cum

    def _arrive(self, sim: Simulation, rng: random.Random) -> list[tuple[datetime, Person]]:
        """People whose sign-up falls today: most register (with their address), some stay guests."""
        people: list[tuple[datetime, Person]] = []
        while self._next_arrival is not None and self._next_arrival.signup_at < sim.day_end:
            spec = self._next_arrival
            self._next_arrival = next(self._arrivals, None)
            person = Person(spec, registered=rng.random() < REGISTER_SHARE)
            self.addresses.append(spec.address)
            people.append((max(spec.signup_at, sim.day_start), person))
        steps: list[tuple[datetime, Step, Actor]] = []
        registering = [(at, p) for at, p in people if p.registered]
        for at, person in registering:
            steps.append((at, _register(person.spec), STOREFRONT))
        for (at, person), result in zip(registering, sim.run(steps), strict=True):
            if isinstance(result, Outcome):
                person.customer_id, person.address_id = result.body
                sim.truth.add(at, customers_registered=1)
            else:
                person.registered = False
        return people

    def _person_visit(self, sim: Simulation, rng: random.Random, at: datetime, person: Person) -> Visit:
        spec = person.spec
        source = spec.traffic_source if rng.random() < 0.7 else _pick(rng, SOURCES)
        if person.visits and rng.random() < 0.25:
            source = "email"
        person.visits += 1
        return self._visit(
            rng,
            at,
            person,
            source,
            spec.device if rng.random() < 0.8 else _pick(rng, DEVICES),
            spec.sales_channel,
        )

    def _anonymous_visits(self, sim: Simulation, rng: random.Random) -> list[Visit]:
        today = sim.today
        span = max((self.end - self.start).days, 1)
        growth = 1 + GROWTH_OVER_PERIOD * (today - self.start).days / span
        expected = (
            ANONYMOUS_SESSIONS_PER_DAY * self.scale * growth * WEEKDAY[today.weekday()] * peak_factor(today)
        )
        n = max(0, round(rng.gauss(expected, math.sqrt(expected))))
        hours = rng.choices(range(24), weights=HOURS, k=n)
        out = []
        for hour in hours:
            at = sim.local(today, hour + rng.random())
            out.append(
                self._visit(rng, at, None, _pick(rng, SOURCES), _pick(rng, DEVICES), _pick(rng, CHANNELS))
            )
        return out

    def _visit(
        self, rng: random.Random, at: datetime, person: Person | None, source: str, device: str, channel: str
    ) -> Visit:
        utm_source, utm_medium = UTM.get(source, (None, None))
        campaign = f"{source}-{at:%Y-%m}" if utm_source is not None else None
        anonymous = (
            f"anon-{rng.getrandbits(64):016x}" if person is None else f"anon-{person.spec.key.lower()}"
        )
        return Visit(
            session_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            anonymous_id=anonymous,
            started_at=at,
            person=person,
            traffic_source=source,
            utm=(utm_source, utm_medium, campaign),
            device=device,
            channel=channel,
        )

    # -- the funnel --------------------------------------------------------------------
    def _browse(self, rng: random.Random, v: Visit, weights: tuple[list[str], list[float]]) -> None:
        ids, cum = weights
        total = cum[-1]

        def draw() -> str:
            return ids[min(bisect.bisect(cum, rng.random() * total), len(ids) - 1)]

        v.listed = [draw() for _ in range(rng.randint(4, 10))]
        returning = v.person is not None and (v.person.visits > 1 or v.person.registered)
        first_visit = v.person is not None and v.person.visits == 1
        lift = (1.7 if returning else 1.0) * (1.5 if v.traffic_source == "email" else 1.0)
        lift *= 3.2 if first_visit else 1.0
        if rng.random() > min(0.95, 0.6 * (1.15 if v.person else 1.0)):
            return
        v.viewed = [
            rng.choice(v.listed) if rng.random() < 0.6 else draw()
            for _ in range(rng.choice((1, 1, 2, 2, 3, 4)))
        ]
        if rng.random() > min(0.9, 0.12 * lift):
            return
        lines = rng.choices((1, 2, 3, 4), weights=(55, 28, 12, 5))[0]
        chosen: list[str] = []
        for i in range(lines):
            sku = v.viewed[i] if i < len(v.viewed) else draw()
            if sku not in chosen:
                chosen.append(sku)
        v.carted = [(s, rng.choices((1, 2, 3), weights=(80, 15, 5))[0]) for s in chosen]
        if len(v.carted) > 1 and rng.random() < 0.12:
            v.removed = [v.carted.pop()[0]]
        if rng.random() > min(0.95, 0.36 * (1.25 if returning else 1.0)):
            return
        v.checkout = True

    def _place(self, sim: Simulation, rng: random.Random, visits: list[Visit]) -> list[PendingOrder]:
        """Checkouts become orders (priced and reserved by the service); out-of-stock ends the session."""
        steps: list[tuple[datetime, Step, Actor]] = []
        planned: list[Visit] = []
        for v in visits:
            at = v.started_at + timedelta(seconds=rng.randint(240, 1500))
            v.coupon = self._coupon(rng, v, at)
            steps.append((at, _place(self._order_body(rng, v)), _shopper(v)))
            planned.append(v)
        placed: list[PendingOrder] = []
        retry: list[tuple[datetime, Step, Actor]] = []
        retry_visits: list[Visit] = []
        for v, step, result in zip(planned, steps, sim.run(steps), strict=True):
            if isinstance(result, Outcome):
                placed.append(self._placed(sim, v, result.body))
            elif isinstance(result, DomainError) and result.code.startswith("coupon"):
                v.coupon = None  # the code did not apply: check out without it
                retry.append((step[0] + timedelta(seconds=30), _place(self._order_body(rng, v)), _shopper(v)))
                retry_visits.append(v)
        for v, result in zip(retry_visits, sim.run(retry), strict=True):
            if isinstance(result, Outcome):
                placed.append(self._placed(sim, v, result.body))
        return placed

    def _placed(self, sim: Simulation, v: Visit, order: dict[str, Any]) -> PendingOrder:
        v.order_id = order["order_id"]
        sim.truth.add(_instant(order["placed_at"]), orders_placed=1)
        return PendingOrder(order, v, method="")

    def _coupon(self, rng: random.Random, v: Visit, at: datetime) -> str | None:
        affinity = v.person.spec.coupon_affinity if v.person is not None else 0.15
        offers: list[CouponSpec] = [
            c
            for c in self.world.coupons
            if c.valid_from <= at and (c.valid_until is None or at < c.valid_until) and self._offered(c, v)
        ]
        if not offers or rng.random() > affinity:
            return None
        listed = sum(self.price[s] * q for s, q in v.carted)
        usable = [c for c in offers if listed >= c.min_subtotal_minor]
        return rng.choice(usable).code if usable else None

    @staticmethod
    def _offered(coupon: CouponSpec, v: Visit) -> bool:
        person = v.person
        if coupon.audience == "new_customers":
            return person is not None and person.orders == 0
        if coupon.audience == "email_subscribers":
            return v.traffic_source == "email"
        if coupon.audience == "loyal_customers":
            return person is not None and person.orders >= 2
        return True

    def _order_body(self, rng: random.Random, v: Visit) -> order_svc.PlaceOrder:
        person = v.person
        body: dict[str, Any] = {
            "lines": [{"sku_id": s, "quantity": q} for s, q in v.carted],
            "sales_channel": v.channel,
            "session_id": v.session_id,
            "traffic_source": v.traffic_source,
            "utm_source": v.utm[0],
            "utm_medium": v.utm[1],
            "utm_campaign": v.utm[2],
            "device": v.device,
            "coupon_code": v.coupon,
        }
        if person is not None and person.registered and person.customer_id is not None:
            body |= {"customer_id": person.customer_id, "address_id": person.address_id}
        else:
            address = person.spec.address if person is not None else rng.choice(self.addresses)
            email = (
                person.spec.email if person is not None else f"guest.{rng.getrandbits(40):010x}@example.net"
            )
            body |= {"guest_email": email, "shipping_address": _address(address)}
        return order_svc.PlaceOrder.model_validate(body)

    # -- payments ----------------------------------------------------------------------
    def _pay(self, sim: Simulation, rng: random.Random, placed: list[PendingOrder]) -> None:
        begins: list[tuple[datetime, Step, Actor]] = []
        paying: list[PendingOrder] = []
        cancels: list[tuple[datetime, Step, Actor]] = []
        for p in placed:
            placed_at = _instant(p.order["placed_at"])
            roll = rng.random()
            if roll < 0.035:  # walks away at the payment step: the order expires
                continue
            if roll < 0.05:  # changes their mind before paying
                reason = order_svc.CancelOrder(reason="changed my mind")
                cancels.append(
                    (
                        placed_at + timedelta(minutes=rng.randint(2, 20)),
                        _cancel(p.order["order_id"], reason),
                        _owner(p),
                    )
                )
                continue
            p.visit.payment_info = True
            p.method, cmd = self._payment(rng, p)
            begins.append(
                (
                    placed_at + timedelta(seconds=rng.randint(40, 300)),
                    _authorize(p.order["order_id"], cmd),
                    _owner(p),
                )
            )
            paying.append(p)
        for (at, _, _), result in zip(cancels, sim.run(cancels), strict=True):
            if isinstance(result, Outcome):
                sim.truth.add(at, orders_cancelled=1)
        self._authorize(sim, rng, begins, paying, retry=True)

    def _payment(self, rng: random.Random, p: PendingOrder) -> tuple[str, pay_svc.AuthorizePayment]:
        person = p.visit.person
        customer_id = person.customer_id if person is not None else None
        total = p.order["total_minor"]
        if customer_id is not None and self.credit.get(customer_id, 0) >= total and rng.random() < 0.7:
            self.credit[customer_id] -= total
            return "store_credit", pay_svc.AuthorizePayment(method="store_credit")
        zh = person is not None and person.spec.locale == "zh_CN"
        method = _pick(rng, ZH_PAYMENT_METHODS if zh else PAYMENT_METHODS)
        if method == "card":
            token = _pick(rng, CARD_TOKENS)
            last4 = f"{rng.randint(0, 9999):04d}"
            return method, pay_svc.AuthorizePayment(
                method="card", token=token, card_brand=_pick(rng, CARD_BRANDS), card_last4=last4
            )
        if method == "bank_transfer":
            token = "tok_sandbox_no_funds" if rng.random() < 0.06 else "tok_sandbox_ok"
            return method, pay_svc.AuthorizePayment(method=method, token=token)
        token = "tok_sandbox_decline" if rng.random() < 0.015 else "tok_sandbox_ok"
        return method, pay_svc.AuthorizePayment(method=method, token=token)

    def _authorize(
        self,
        sim: Simulation,
        rng: random.Random,
        begins: list[tuple[datetime, Step, Actor]],
        paying: list[PendingOrder],
        *,
        retry: bool,
    ) -> None:
        calls: list[tuple[datetime, dict[str, Any]]] = []
        waiting: list[PendingOrder] = []
        for (at, _, _), p, result in zip(begins, paying, sim.run(begins), strict=True):
            if not isinstance(result, Outcome):
                continue
            body = result.body
            if body.get("provider_request") is None:  # store credit: paid at once
                self._paid(sim, p, at)
                continue
            calls.append((at, body["provider_request"]))
            waiting.append(p)
            self.awaiting[p.order["order_id"]] = p
        again: list[tuple[datetime, Step, Actor]] = []
        again_orders: list[PendingOrder] = []
        for (at, _), p, body in zip(calls, waiting, sim.settle(calls), strict=True):
            if body is None:
                continue
            status = body.get("status")
            if status in ("authorized", "captured") and not body.get("follow_up"):
                self._paid(sim, p, at + timedelta(seconds=1))
            elif status == "awaiting_funds":
                self.funds_at[body["payment_id"]] = sim.local(
                    _instant(at).astimezone(sim.tz).date() + timedelta(days=rng.choice((1, 1, 2, 3))), 10
                )
            elif status == "failed" and retry and rng.random() < 0.65:
                cmd = pay_svc.AuthorizePayment(
                    method="card",
                    token="tok_sandbox_ok",
                    card_brand=_pick(rng, CARD_BRANDS),
                    card_last4=f"{rng.randint(0, 9999):04d}",
                )
                p.method = "card"
                again.append(
                    (
                        at + timedelta(seconds=rng.randint(60, 400)),
                        _authorize(p.order["order_id"], cmd),
                        _owner(p),
                    )
                )
                again_orders.append(p)
        if again:
            self._authorize(sim, rng, again, again_orders, retry=False)

    def _paid_if(self, sim: Simulation, body: dict[str, Any], at: datetime) -> None:
        """A reconciled call or arrived transfer that made its order paid."""
        p = self.awaiting.get(body.get("order_id", ""))
        if p is None or body.get("follow_up"):
            return
        if body.get("status") in ("authorized", "captured") and body["_kind"] in ("authorize", "funds"):
            self._paid(sim, p, at)

    def _paid(self, sim: Simulation, p: PendingOrder, at: datetime) -> None:
        self.awaiting.pop(p.order["order_id"], None)
        sim.truth.order_paid(p.order, at, p.method)
        sim.truth.funnel_step(p.visit.started_at, "purchase")
        if p.visit.person is not None:
            p.visit.person.orders += 1
        sim.publish("order_paid", {"order": p.order, "paid_at": at, "method": p.method, "visit": p.visit})

    def _schedule_return(self, rng: random.Random, v: Visit) -> None:
        person = v.person
        assert person is not None
        loyalty = person.spec.loyalty
        keep = loyalty * (0.93 ** max(person.visits - 1, 0)) * (1.15 if person.orders else 0.7)
        if rng.random() >= min(keep, 0.97):
            return
        gap = rng.expovariate(loyalty / RETURN_GAP_DAYS) if loyalty > 0 else RETURN_GAP_DAYS
        at = v.started_at + timedelta(days=max(gap, 0.2))
        heapq.heappush(self._returns, (at, next(self._n), person))


# -- command steps (closures the writer runs) ------------------------------------------------


def _register(spec: CustomerSpec) -> Step:
    register, address = register_command(spec), address_command(spec)

    def step(uow: Any) -> tuple[str, str]:
        customer = customer_svc.register_customer(uow, register)
        added = customer_svc.add_address(uow, customer["customer_id"], address)
        return customer["customer_id"], added["address_id"]

    return step


def _place(cmd: order_svc.PlaceOrder) -> Step:
    return lambda uow: order_svc.place_order(uow, cmd)


def _authorize(order_id: str, cmd: pay_svc.AuthorizePayment) -> Step:
    return lambda uow: pay_svc.begin_authorization(uow, order_id, cmd, provider="sandbox")


def _cancel(order_id: str, cmd: order_svc.CancelOrder) -> Step:
    return lambda uow: pay_svc.cancel_order(uow, order_id, cmd)


def _shopper(v: Visit) -> Actor:
    """The storefront key, signed in as the customer when the shopper has an account."""
    person = v.person
    if person is not None and person.registered and person.customer_id is not None:
        return Actor(role="storefront", key_id="demo-storefront", customer_id=person.customer_id)
    return STOREFRONT


def _owner(p: PendingOrder) -> Actor:
    """The storefront acting for the shopper: for a customer with their customer id, for a guest with the
    order's access token."""
    person = p.visit.person
    if (
        person is not None
        and person.customer_id is not None
        and p.order.get("customer_id") == person.customer_id
    ):
        return Actor(role="storefront", key_id="demo-storefront", customer_id=person.customer_id)
    token = p.order["access_token"]
    return Actor(
        role="storefront",
        key_id="demo-storefront",
        order_token_sha256=hashlib.sha256(token.encode()).hexdigest(),
    )


def _address(a: Any) -> dict[str, Any]:
    return {
        "name": a.name,
        "line1": a.line1,
        "line2": a.line2,
        "city": a.city,
        "region": a.region,
        "postal_code": a.postal_code,
        "country": a.country,
        "phone": a.phone,
    }


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
