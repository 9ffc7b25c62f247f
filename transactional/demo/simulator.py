"""The demo simulator's engine: a day loop on a simulated clock, with stations that plug in behaviour.

Every record is made by the services the API runs (DESIGN.md: the demo also
exercises the core), as commands carrying their simulated instant
(``Command.at``) and committed in batches with ``Writer.run_many``. Provider
calls go to the sandbox between two commands, as in the server.

A day runs the stations in order (``STATION_ORDER``), then the upkeep the
server's loop would have done: due work at every hour of the day and the
payment reconciler. Stations keep their own state and talk to each other only
through topics on the simulation (``publish``/``subscribe``): the shoppers
publish ``order_paid``, fulfilment publishes ``delivered``, after-sales
listens; a later station (returns, tickets, reviews) subscribes to what it
needs without touching the others.

Each station draws from its own ``random.Random`` seeded by (seed, station,
day), so a station's choices do not shift when another changes.
"""

from __future__ import annotations

import functools
import heapq
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from transactional.demo.truth import GroundTruth
from transactional.demo.world import LoadedWorld
from transactional.domain.access import SYSTEM, Actor
from transactional.domain.clock import ManualClock
from transactional.providers.payments import OutcomeStatus, SandboxProvider
from transactional.services import payment_flow
from transactional.services import payments as pay_svc
from transactional.services.due import run_due
from transactional.storage.unit_of_work import UnitOfWork
from transactional.storage.writer import Command, Outcome, Writer

Step = Callable[[UnitOfWork], Any]
OPERATOR = Actor(role="operator", key_id="demo-operator")
STOREFRONT = Actor(role="storefront", key_id="demo-storefront")


class Station(Protocol):
    """A slice of the store's life. ``day`` runs once per simulated day, after ``subscribe`` once."""

    name: str

    def subscribe(self, sim: Simulation) -> None: ...

    def day(self, sim: Simulation) -> None: ...


@dataclass
class Counters:
    commands: int = 0
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Simulation:
    """What stations share: the writer, the clock, the world, the ground truth and the topics."""

    def __init__(
        self,
        writer: Writer,
        clock: ManualClock,
        world: LoadedWorld,
        *,
        seed: int,
        timezone: str,
    ) -> None:
        self.writer = writer
        self.clock = clock
        self.world = world
        self.seed = seed
        self.tz = ZoneInfo(timezone)
        self.truth = GroundTruth(timezone)
        self.provider = SandboxProvider()
        self.counters = Counters()
        self.today: date = date.min
        self._topics: dict[str, list[Callable[[Any], None]]] = defaultdict(list)

    # -- time ---------------------------------------------------------------------------
    def local(self, day: date, hours: float) -> datetime:
        """The UTC instant ``hours`` after local midnight of ``day`` (store time zone)."""
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        return (midnight + timedelta(seconds=round(hours * 3600))).astimezone(UTC)

    @property
    def day_start(self) -> datetime:
        return self.local(self.today, 0)

    @property
    def day_end(self) -> datetime:
        return self.local(self.today + timedelta(days=1), 0)

    def rng(self, station: str) -> random.Random:
        return random.Random(f"emporium-sim:{self.seed}:{station}:{self.today.isoformat()}")

    # -- topics -------------------------------------------------------------------------
    def subscribe(self, topic: str, handler: Callable[[Any], None]) -> None:
        self._topics[topic].append(handler)

    def publish(self, topic: str, item: Any) -> None:
        for handler in self._topics[topic]:
            handler(item)

    # -- commands -----------------------------------------------------------------------
    def run(self, steps: Sequence[tuple[datetime, Step, Actor]]) -> list[Outcome | BaseException]:
        """Run commands in time order (stable), commit them in batches; results in the given order.

        A failure is returned, not raised: a shopper who meets "out of stock" is
        part of the simulation. Failures are counted by code.
        """
        order = sorted(range(len(steps)), key=lambda i: steps[i][0])
        commands = [Command(fn=steps[i][1], actor=steps[i][2], at=steps[i][0]) for i in order]
        if commands:
            self.clock.set(max(c.at for c in commands if c.at is not None))
        results = self.writer.run_many(commands)
        out: list[Outcome | BaseException] = [None] * len(steps)  # type: ignore[list-item]
        for i, result in zip(order, results, strict=True):
            out[i] = result
            if isinstance(result, BaseException):
                self.counters.failures[getattr(result, "code", type(result).__name__)] += 1
        self.counters.commands += len(commands)
        return out

    def settle(self, calls: Sequence[tuple[datetime, dict[str, Any]]]) -> list[dict[str, Any] | None]:
        """Send staged provider calls (``provider_request`` dicts) and record their outcomes one second
        later; then send whatever those outcomes staged in turn (``follow_up``). Returns the record bodies
        (None where recording failed)."""
        records: list[tuple[datetime, Step, Actor]] = []
        for at, req in calls:
            outcome = payment_flow.call_provider(self.provider, payment_flow.provider_request(req))
            record = payment_flow.RECORD[req["kind"]]
            records.append(
                (at + timedelta(seconds=1), payment_flow.bind(record, req["attempt_id"], outcome), SYSTEM)
            )
        bodies = [r.body if isinstance(r, Outcome) else None for r in self.run(records)]
        follow = [
            (at + timedelta(seconds=2), req)
            for (at, _), body in zip(calls, bodies, strict=True)
            if body is not None
            for req in body.get("follow_up", ())
        ]
        if follow:
            self.settle(follow)
        return bodies

    def reconcile(self, at: datetime, *, funds_due: Callable[[str], bool]) -> list[dict[str, Any]]:
        """The server's reconciler, at ``at``: unknown calls are looked up; a bank transfer is asked about
        when ``funds_due(payment_id)`` says its money has arrived. Publishes ``reconciled`` (body with its
        ``_kind``, instant) for each call settled, and returns the bodies."""
        work = self.run([(at, lambda uow: pay_svc.operations_to_reconcile(uow, now=at), SYSTEM)])[0]
        if not isinstance(work, Outcome):
            return []
        steps: list[tuple[datetime, Step, Actor]] = []
        kinds: list[str] = []
        for item in work.body:
            req = item["request"]
            if item["requested_at"] > at:
                continue  # made later in simulated time (the day's phases run out of time order)
            if req["kind"] == "funds" and not funds_due(item["payment_id"]):
                continue
            outcome = payment_flow.call_provider(
                self.provider, payment_flow.provider_request(req), lookup=True
            )
            if outcome.status is OutcomeStatus.timed_out:
                continue
            if req["kind"] == "funds":
                steps.append(
                    (
                        at,
                        payment_flow.bind(pay_svc.record_funds_received, item["payment_id"], outcome),
                        SYSTEM,
                    )
                )
            else:
                steps.append(
                    (
                        at,
                        payment_flow.bind(payment_flow.RECORD[req["kind"]], item["operation_id"], outcome),
                        SYSTEM,
                    )
                )
            kinds.append(req["kind"])
        bodies = []
        follow: list[tuple[datetime, dict[str, Any]]] = []
        for kind, result in zip(kinds, self.run(steps), strict=True):
            if isinstance(result, Outcome):
                bodies.append({**result.body, "_kind": kind})
                self.publish("reconciled", (bodies[-1], at))
                follow.extend((at + timedelta(seconds=2), req) for req in result.body.get("follow_up", ()))
        if follow:
            self.settle(follow)
        return bodies

    def due_work(self) -> dict[str, int]:
        """Due work at the end of every hour of today, as the server's loop would have run it."""
        steps: list[tuple[datetime, Step, Actor]] = [
            (self.local(self.today, hour), functools.partial(run_due, close_delivered=hour == 24), SYSTEM)
            for hour in range(1, 25)
        ]
        totals: dict[str, int] = defaultdict(int)
        for result in self.run(steps):
            if isinstance(result, Outcome):
                for name in ("orders_expired", "authorizations_expired", "orders_completed"):
                    totals[name] += result.body[name]
                for order_id in result.body["expired_order_ids"]:
                    self.publish("order_expired", (order_id, result.body["as_of"]))
                for order_id in result.body["hold_cancelled_order_ids"]:
                    self.truth.hold_expired(order_id, result.body["as_of"])
        return dict(totals)


@dataclass(frozen=True)
class DayReport:
    day: date
    seconds: float
    commands: int


def simulate(
    sim: Simulation,
    stations: Sequence[Station],
    days: Iterable[date],
    *,
    on_day: Callable[[DayReport], None] | None = None,
) -> None:
    """Run every station for every day, then the day's upkeep."""
    for station in stations:
        station.subscribe(sim)
    for day in days:
        started, commands = time.perf_counter(), sim.counters.commands
        sim.today = day
        for station in stations:
            station.day(sim)
        sim.due_work()
        if on_day is not None:
            on_day(DayReport(day, time.perf_counter() - started, sim.counters.commands - commands))


class Schedule:
    """A time-ordered queue of things a station will do later (dispatches, tracking scans, refunds)."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Any]] = []
        self._n = 0

    def add(self, at: datetime, item: Any) -> None:
        heapq.heappush(self._heap, (at, self._n, item))
        self._n += 1

    def pop_until(self, end: datetime) -> list[tuple[datetime, Any]]:
        out = []
        while self._heap and self._heap[0][0] < end:
            at, _, item = heapq.heappop(self._heap)
            out.append((at, item))
        return out

    def __len__(self) -> int:
        return len(self._heap)
