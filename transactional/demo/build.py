"""`emporium demo build`: a fresh store with months of simulated activity, and its ground truth.

The store is created, the world (catalogue, warehouses, suppliers, carriers,
coupons) is loaded through the services, and the simulator replays the period
day by day on a manual clock with a seeded id generator, so the same seed and
options give the same store. Beside the store it writes ``ground_truth.json``
(the simulator's own tally, truth.py) and ``demo-keys.json`` (one API key per
role; secrets are random, never seeded).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from transactional.bootstrap import open_runtime
from transactional.config import Settings
from transactional.demo.simulator import DayReport, Simulation, Station, simulate
from transactional.demo.stations.aftersales import AfterSales
from transactional.demo.stations.clickstream import Clickstream
from transactional.demo.stations.fulfilment import Fulfilment
from transactional.demo.stations.merchandising import Merchandising
from transactional.demo.stations.replenishment import Replenishment
from transactional.demo.stations.shoppers import Shoppers
from transactional.demo.world import STORE_TIMEZONE, generate_world, load_world
from transactional.domain.access import Actor
from transactional.domain.clock import ManualClock
from transactional.domain.errors import Conflict
from transactional.domain.ids import IdGenerator
from transactional.services import keys
from transactional.services.store import create_store

BUILD_ADMIN = Actor(role="admin", key_id=None)
GROUND_TRUTH = "ground_truth.json"
KEYS_FILE = "demo-keys.json"


@dataclass(frozen=True)
class BuildOptions:
    data_dir: Path
    months: int = 6
    end_date: date | None = None  # inclusive; default: today in the store's time zone
    days: int | None = None  # a period in days instead of months (short builds for tests)
    seed: int = 42
    scale: int = 1

    def period(self) -> tuple[date, date]:
        end = self.end_date or datetime.now(ZoneInfo(STORE_TIMEZONE)).date()
        if self.days is not None:
            return end - timedelta(days=self.days - 1), end
        return _months_before(end, self.months) + timedelta(days=1), end


@dataclass(frozen=True)
class BuildSummary:
    start: date
    end: date
    days: int
    seconds: float
    commands: int
    totals: dict[str, int]
    events: int
    customers: int
    failures: dict[str, int]


def _months_before(day: date, months: int) -> date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(d, day.day))
        except ValueError:
            continue
    raise ValueError("unreachable")


def build_demo(
    options: BuildOptions, *, on_day: Callable[[DayReport, Simulation], None] | None = None
) -> BuildSummary:
    """Build the demo store in ``options.data_dir`` (which must not hold a store yet)."""
    started = time.perf_counter()
    first, last = options.period()
    tz = ZoneInfo(STORE_TIMEZONE)
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    end = datetime(last.year, last.month, last.day, tzinfo=tz) + timedelta(days=1)
    clock = ManualClock(start.astimezone(UTC))
    options.data_dir.mkdir(parents=True, exist_ok=True)
    runtime = open_runtime(
        Settings(data_dir=options.data_dir),
        holder="emporium demo build",
        clock=clock,
        ids=IdGenerator(clock, seed=options.seed),
    )
    try:
        writer = runtime.writer
        if writer.state.tables["store"].rows:
            raise Conflict(f"{options.data_dir} already holds a store", code="store_exists")
        # A build is all or nothing (rebuild on failure), so DuckDB need not checkpoint after every
        # large commit; one checkpoint at the end (about twice as fast for the clickstream's inserts).
        writer.con.execute("set checkpoint_threshold = '1GB'")
        at = start.astimezone(UTC)
        writer.run(
            lambda uow: create_store(
                uow, name="Emporium Demo Store", currency="USD", timezone=STORE_TIMEZONE, tax_mode="exclusive"
            ),
            BUILD_ADMIN,
            at=at,
        )
        world = generate_world(options.seed, scale=options.scale, start=start, end=end)
        loaded = load_world(writer, world, actor=BUILD_ADMIN, at=at)
        made = _keys(writer, at)
        sim = Simulation(writer, clock, loaded, seed=options.seed, timezone=STORE_TIMEZONE)
        stations: list[Station] = [
            Replenishment(sim),
            Merchandising(sim),
            Shoppers(sim, scale=options.scale, start=first, end=last),
            Clickstream(sim),
            Fulfilment(sim),
            AfterSales(sim),
        ]
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        simulate(sim, stations, days, on_day=(lambda report: on_day(report, sim)) if on_day else None)
        clock.set(end.astimezone(UTC))
        writer.con.execute("checkpoint")
        sim.truth.write(options.data_dir / GROUND_TRUTH)
        _write_keys(options.data_dir / KEYS_FILE, made)
        customers = int(writer.con.execute("select count(*) from customers").fetchone()[0])  # type: ignore[index]
        return BuildSummary(
            start=first,
            end=last,
            days=len(days),
            seconds=time.perf_counter() - started,
            commands=sim.counters.commands,
            totals=sim.truth.totals(),
            events=sim.truth.events,
            customers=customers,
            failures=dict(sim.counters.failures),
        )
    finally:
        runtime.close()


def _keys(writer: Any, at: datetime) -> dict[str, str]:
    made: dict[str, str] = {}
    for role in ("admin", "operator", "finance", "storefront", "pipeline"):
        created = writer.run(
            lambda uow, r=role: keys.create_key(uow, keys.CreateKey(role=r, name=f"demo {r}")),
            BUILD_ADMIN,
            at=at,
        ).body
        made[role] = created["secret"]
    return made


def _write_keys(path: Path, made: dict[str, str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps(made, option=orjson.OPT_INDENT_2))
